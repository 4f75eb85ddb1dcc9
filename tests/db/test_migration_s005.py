"""Migration s005 (rehearsal rows) on a database created by the previous release (s004).

The previous release's database is built by its own migrations (up to s004) and filled
with SQL of that schema (no `rehearsal` column): a live study with a target of 2, one
participant who completed and one half-way through. After the upgrade both are real
rows, the half-way participant resumes and completes, and that completion closes the
study at its target as before; the target check's index covers the new column.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from framelab.db import models as m
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from framelab.services.export import export_tidy
from framelab.services.flow import current_page, submit_step
from framelab.services.study_versions import get_study, lock_hashes
from tests.factories import make_study, valid_answers

LAUNCHED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ARRIVED = LAUNCHED + timedelta(hours=2)
SPEC = make_study(target_n=2)
# The participant columns of the release before s005.
OLD_PARTICIPANT = dict(
    study_id=1, study_version_id=1, spec_hash=SPEC.content_hash(), language="en",
    pilot=False, attention_failed=False, speeder=False, honeypot=False, started_at=ARRIVED,
)  # fmt: skip


def _previous_release(url: str) -> None:
    upgrade(url, "s004")
    hashes = lock_hashes(SPEC)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(m.Study.__table__).values(
                id=1, slug=SPEC.slug, title="T", status="live", current_version=1,
                created_at=LAUNCHED, updated_at=LAUNCHED,
            )
        )  # fmt: skip
        conn.execute(
            sa.insert(m.StudyVersion.__table__).values(
                id=1, study_id=1, version=1, spec_json=SPEC.canonical_json(),
                spec_hash=SPEC.content_hash(), created_at=LAUNCHED, locked_at=LAUNCHED,
                frames_hash=hashes["frames"], items_hash=hashes["items"],
                design_hash=hashes["design"], plan_hash=hashes["plan"], plan_locked_at=LAUNCHED,
            )
        )  # fmt: skip
        conn.execute(
            sa.insert(m.Participant.__table__).values(
                code="done-already-1234", status="completed", step="debrief", arm="control",
                stratum=SPEC.strata()[0], completed_at=ARRIVED + timedelta(minutes=9),
                **OLD_PARTICIPANT,
            )
        )  # fmt: skip
        conn.execute(
            sa.insert(m.Participant.__table__).values(
                code="resume-me-123456", status="started", step="consent", **OLD_PARTICIPANT
            )
        )
    engine.dispose()


def test_s005_keeps_old_rows_real_and_an_in_progress_participant_resumes_to_the_target(
    database_url,
):
    _previous_release(database_url)
    assert upgrade(database_url) == head_revision()

    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        index = {i["name"]: i for i in sa.inspect(engine).get_indexes("participant")}
        # s005 added `rehearsal` to the target's index (s008 then `duplicate`).
        assert index["ix_participant_study_status"]["column_names"][:4] == [
            "study_id", "status", "pilot", "rehearsal",
        ]  # fmt: skip
        with engine.connect() as conn:
            marks = conn.execute(sa.select(m.Participant.__table__.c.rehearsal)).scalars().all()
        assert marks == [False, False]
        factory = make_session_factory(engine)
        with factory() as session:
            code, t = "resume-me-123456", ARRIVED + timedelta(minutes=1)
            assert current_page(session, code, now=t).step == "consent"
            assert submit_step(session, code, "consent", {"consent": "yes"}, now=t).ok
            while (step := current_page(session, code, now=t).step) != "debrief":
                t += timedelta(seconds=30)
                assert submit_step(session, code, step, valid_answers(SPEC, step), now=t).ok
            # The second real completion reaches the target of 2: the study closes.
            assert get_study(session, SPEC.slug).status == "closed"
            data = export_tidy(session, SPEC.slug)
            assert data["rehearsal"].tolist() == [False, False]
            assert data["status"].tolist() == ["completed", "completed"]
    finally:
        engine.dispose()
