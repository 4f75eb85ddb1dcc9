"""Migration s003 (plan lock time) on a database created by the previous release (s002).

The previous release's database is built by its own migrations (up to s002) and filled
with SQL of that schema: a live study whose plan was locked at launch, a draft whose plan
was locked on its own, and a participant half-way through. After the upgrade the launch
lock has its time, the separate plan lock honestly has none, and the participant resumes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from framelab.db import models as m
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from framelab.services.export import export_tidy
from framelab.services.flow import current_page, submit_step
from framelab.services.reporting import report_inputs
from framelab.services.study_versions import lock_hashes
from tests.factories import make_study, valid_answers

LAUNCHED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ARRIVED = LAUNCHED + timedelta(hours=2)


def _previous_release(url: str) -> None:
    """The schema and rows as the release before s003 wrote them (its columns only)."""
    upgrade(url, "s002")
    spec = make_study()
    hashes = lock_hashes(spec)
    engine = make_engine(url)
    with engine.begin() as conn:
        for study_id, slug, status, locked_at in (
            (1, spec.slug, "live", LAUNCHED),
            (2, "plan-only", "draft", None),
        ):
            conn.execute(
                sa.insert(m.Study.__table__).values(
                    id=study_id, slug=slug, title="T", status=status, current_version=1,
                    created_at=LAUNCHED, updated_at=LAUNCHED,
                )
            )  # fmt: skip
            conn.execute(
                sa.insert(m.StudyVersion.__table__).values(
                    id=study_id,
                    study_id=study_id,
                    version=1,
                    spec_json=spec.model_copy(update={"slug": slug}).canonical_json(),
                    spec_hash=spec.content_hash(),
                    created_at=LAUNCHED,
                    locked_at=locked_at,
                    frames_hash=hashes["frames"] if locked_at else None,
                    items_hash=hashes["items"] if locked_at else None,
                    design_hash=hashes["design"] if locked_at else None,
                    plan_hash=hashes["plan"],
                )
            )
        # a participant of the old release, half-way through
        conn.execute(
            sa.insert(m.Participant.__table__).values(
                study_id=1, study_version_id=1, spec_hash=spec.content_hash(),
                code="resume-me-123456", language="en", status="started", step="consent",
                pilot=False, attention_failed=False, speeder=False, honeypot=False,
                started_at=ARRIVED,
            )
        )  # fmt: skip
    engine.dispose()


def test_s003_keeps_launch_locks_with_their_time_and_in_progress_participants_resume(
    database_url,
):
    _previous_release(database_url)
    upgrade(database_url)

    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        table = m.StudyVersion.__table__
        with engine.connect() as conn:
            rows = dict(conn.execute(sa.select(table.c.id, table.c.plan_locked_at)).all())
        assert rows[2] is None  # a separate plan lock of the old release: time unknown
        assert rows[1] == LAUNCHED
        factory = make_session_factory(engine)
        with factory() as session:
            page = current_page(session, "resume-me-123456", now=ARRIVED + timedelta(minutes=1))
            assert page.step == "consent"
            t = ARRIVED + timedelta(minutes=2)
            assert submit_step(session, "resume-me-123456", "consent", {"consent": "yes"}, now=t).ok
            page = current_page(session, "resume-me-123456", now=t)
            spec = make_study()
            form = valid_answers(spec, page.step)
            assert submit_step(session, "resume-me-123456", page.step, form, now=t).ok
            data = export_tidy(session, spec.slug)
            assert data["after_lock"].tolist() == [True]
            inputs = report_inputs(session, spec.slug, now=t)
            assert inputs.provenance["lock"]["locked_at"].startswith("2026-11-20T09:00:00")
            assert inputs.provenance["lock"]["matches"] is True
    finally:
        engine.dispose()
