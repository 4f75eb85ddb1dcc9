"""Participants through a study's real step machine, answering by arm (report tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from framelab.services.flow import current_page, submit_step
from tests.factories import valid_answers
from tests.participants import enrol

START = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def walk(
    session, spec, n: int, *, support_lift=None, sms_rate=None, donate=None, seed=4, start=START
):
    """n participants through the real pages; answers per arm from the given functions."""
    rng = np.random.default_rng(seed)
    support_lift = support_lift or {}
    sms_rate = sms_rate or {}
    for i in range(n):
        t = start + timedelta(minutes=i)
        code = enrol(session, spec.slug, language="en", source=None, panel=None, now=t).code
        while (page := current_page(session, code, now=t)).step != "debrief":
            t += timedelta(seconds=40)
            lift = support_lift.get(page.arm, 0)
            support = int(np.clip(rng.integers(2, 6) + lift, 1, 7))
            joined = int(rng.random() < sms_rate.get(page.arm, 0.3))
            chosen = {"support": support, "join_sms": joined}
            if donate is not None:
                chosen["donate"] = int(np.clip(rng.normal(donate.get(page.arm, 40), 10), 0, 100))
            form = valid_answers(spec, page.step, **chosen)
            assert submit_step(session, code, page.step, form, now=t).ok
