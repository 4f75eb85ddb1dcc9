"""A two-wave study, a participant taking wave 1, and their follow-up link (issue 21)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from framelab.domain.study import Study
from tests.factories import make_study
from tests.web.walker import Walker

WAVE = {"id": "w2", "after_days": 7, "items": ["support", "join_sms"], "window_days": 7}
DAY = 86_400
_LINK = re.compile(r'href="https?://[^/"]+(/f/[A-Za-z0-9_-]+)"')


def wave_study(**overrides: Any) -> Study:
    """The example study with one follow-up wave a week later, open for a week."""
    return make_study(**{"waves": [WAVE], **overrides})


def follow_up_path(debrief: str) -> str | None:
    """The follow-up link's path (`/f/<token>`) on a debrief page, if it shows one."""
    found = _LINK.search(debrief)
    return found.group(1) if found else None


def complete(client, spec: Study, clock, query: str = "") -> tuple[Walker, str]:
    """A participant through wave 1; returns the walker and the debrief page."""
    walker = Walker(client, spec, clock)
    if query:
        walker.consent(query=query)
        for step in ("pre", "message", "post", "intent"):
            assert walker.answer(step).status_code == 302
        walker.page()
        return walker, walker.last
    return walker, walker.complete()


def rows(app, model, **where) -> list[Any]:
    factory = app.extensions["framelab.db"]
    with factory() as session:
        query = sa.select(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return list(session.scalars(query))
