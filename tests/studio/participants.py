"""Participants for studio tests, taken through the real flow (the flow service, every page).

complete_participant(session, slug, start=..., until="debrief") -> code
    # consent up to the page `until` (default: the debrief), valid answers on each
"""

from __future__ import annotations

from datetime import datetime, timedelta

from framelab.services.flow import current_page, submit_step
from tests.factories import valid_answers
from tests.participants import enrol


def complete_participant(
    session, slug: str, *, start: datetime, source: str = "prolific", until: str = "debrief"
) -> str:
    """Walk one participant through the pages up to `until` with valid answers; returns the code."""
    participant = enrol(session, slug, language="en", source=source, panel=None, now=start)
    code = participant.code
    clock = start
    for _ in range(10):
        state = current_page(session, code, now=clock)
        if state.step == until:
            return code
        form = valid_answers(state.spec, state.step)
        clock += timedelta(seconds=40)
        result = submit_step(session, code, state.step, form, now=clock)
        assert result.ok, result.errors
    raise AssertionError(f"participant never reached the {until} page")
