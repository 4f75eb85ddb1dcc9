"""Migration s013 (quota fill for the eligibility screener and quotas) on a database created
by the previous release (s012), per DECISIONS rule 11.

The previous release's database holds a live study with one participant half-way through,
before assignment. After the upgrade the `quota_fill` table exists (empty: no earlier study
has a quota), the participant still resumes and finishes, and a study with a screener
and a quota, published on the upgraded database, counts its completion in its cell.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.quotas import QuotaFill
from framelab.db.session import make_engine, make_session_factory
from framelab.services.flow import consent_from_link, current_page, submit_step
from tests.db.releases import finish_half_way, release_with_one_in_progress
from tests.factories import make_study, publish, small_study, valid_answers

BEFORE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SPEC = make_study(target_n=50)
CODE = "resume-me-123456"


def _previous_release(url: str) -> None:
    release_with_one_in_progress(url, "s012", SPEC, CODE, BEFORE)


def test_s013_adds_quota_fill_and_participants_still_finish(database_url):
    _previous_release(database_url)
    assert upgrade(database_url, "s013") == "s013"
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == "s013"
        inspector = sa.inspect(engine)
        assert "quota_fill" in inspector.get_table_names()
        assert inspector.get_pk_constraint("quota_fill")["constrained_columns"] == [
            "study_id",
            "variable",
            "cell",
        ]
        # Later revisions (if any) go on top; the models below are the head's.
        assert upgrade(database_url) == head_revision()
        factory = make_session_factory(engine)
        with factory() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(QuotaFill)) == 0
            # The half-way participant resumes and finishes on the upgraded database.
            finish_half_way(session, SPEC, CODE, AFTER)
            session.rollback()
            # A study with a screener and a quota counts its completions in their cell.
            quoted = small_study(
                screener={"items": ["ideology"], "screen_out": {"item": "ideology", "in": [3]}},
                quota={"ideology": {"left": 5}},
            )
            publish(session, quoted, now=AFTER)
            code, _ = consent_from_link(
                session, quoted.slug, {"consent": "yes"}, language="en", source=None, now=AFTER
            )
            assert code is not None
            t = AFTER
            while (step := current_page(session, code, now=t).step) != "debrief":
                t += timedelta(seconds=30)
                form = valid_answers(quoted, step, ideology="1")
                assert submit_step(session, code, step, form, now=t).ok, step
            session.rollback()
            fill = session.execute(sa.select(QuotaFill.cell, QuotaFill.completed)).all()
            assert [tuple(r) for r in fill] == [("left", 1)]
        with engine.connect() as conn:
            status = conn.scalar(sa.text("SELECT status FROM participant WHERE id = 1"))
        assert status == "completed"
    finally:
        engine.dispose()
