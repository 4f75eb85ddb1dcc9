"""Migration s009 (append-only assignment log in the database, erasure tombstones) on a
database created by the previous release (s008), per DECISIONS rule 11.

The previous release's database is built by its own migrations (up to s008) and filled
with SQL of that schema: a live study, one participant who completed (with their
assignment log row and the stratum's counter) and one half-way through, before
assignment. After the upgrade every row is there, the database refuses to change or
delete a log row, the half-way participant resumes, is assigned (a new log row is
still appended) and finishes, the log replays from the seed, and erase-study can still
remove the log it protects.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from framelab.db import models as m
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from framelab.domain.assignment import arm_for_slot
from framelab.services.assignment_audit import replay_assignments
from framelab.services.erasure import erase_studies
from framelab.services.study_versions import get_study
from tests.db.releases import finish_half_way, insert_live_study
from tests.factories import make_study

BEFORE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SPEC = make_study(target_n=50)
STRATUM = "centre"


def _previous_release(url: str) -> None:
    upgrade(url, "s008")
    engine = make_engine(url)
    naive = BEFORE.replace(tzinfo=None)
    slot = arm_for_slot(SPEC, STRATUM, 0)
    with engine.begin() as conn:
        insert_live_study(conn, SPEC, naive)
        for pid, code, status, step, arm in (
            (1, "finished-1234567", "completed", "debrief", slot.arm),
            (2, "resume-me-123456", "started", "pre", None),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO participant (id, code, study_id, study_version_id, spec_hash, "
                    "language, status, step, stratum, arm, pilot, attention_failed, speeder, "
                    "honeypot, rehearsal, duplicate, started_at, consented_at) VALUES (:id, "
                    ":code, 1, 1, :hash, 'en', :status, :step, :stratum, :arm, :no, :no, :no, "
                    ":no, :no, :no, :t, :t)"
                ),
                {
                    "id": pid,
                    "code": code,
                    "hash": SPEC.content_hash(),
                    "status": status,
                    "step": step,
                    "stratum": STRATUM if arm else None,
                    "arm": arm,
                    "no": False,
                    "t": naive,
                },
            )
        conn.execute(
            sa.text(
                "INSERT INTO assignment_log (participant_id, study_id, arm, stratum, position, "
                "block_index, position_in_block, seed, spec_hash, assigned_at) VALUES "
                "(1, 1, :arm, :stratum, 0, :block, :place, :seed, :hash, :t)"
            ),
            {
                "arm": slot.arm,
                "stratum": STRATUM,
                "block": slot.block_index,
                "place": slot.position_in_block,
                "seed": SPEC.design.seed,
                "hash": SPEC.content_hash(),
                "t": naive,
            },
        )
        conn.execute(
            sa.text("INSERT INTO block_state (study_id, stratum, next_position) VALUES (1, :s, 1)"),
            {"s": STRATUM},
        )
        if conn.dialect.name == "postgresql":
            # Rows inserted with explicit ids leave the id sequences behind.
            for table in ("study", "study_version", "participant"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                )
    engine.dispose()


def test_s009_protects_the_log_of_an_upgraded_database_and_participants_still_finish(
    database_url,
):
    _previous_release(database_url)
    assert upgrade(database_url) == head_revision()
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(m.AssignmentLog)) == 1
            assert conn.scalar(sa.select(m.Study.erased_at)) is None
        # The database itself refuses to change or remove the log (not only the ORM).
        for statement in (
            "UPDATE assignment_log SET arm = 'care'",
            "UPDATE assignment_log SET position = 7",
            "DELETE FROM assignment_log",
        ):
            with pytest.raises(sa.exc.IntegrityError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql(statement)
        factory = make_session_factory(engine)
        with factory() as session:
            # The half-way participant resumes, is assigned (appending a row) and finishes.
            finish_half_way(session, SPEC, "resume-me-123456", AFTER)
            session.rollback()
            report = replay_assignments(session, get_study(session, SPEC.slug))
            assert report.ok, report.divergences
            assert report.assignments == 2 and report.strata == {STRATUM: 2}
            # Erasure still removes what the trigger protects, and leaves a tombstone.
            study = session.get(m.Study, 1)
            (tombstone,) = erase_studies(session, [study], now=AFTER, reason="erase-study")
        assert tombstone.counts["assignment_log"] == 2 and tombstone.counts["participants"] == 2
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(m.AssignmentLog)) == 0
            assert conn.scalar(sa.select(sa.func.count()).select_from(m.Participant)) == 0
            assert conn.scalar(sa.select(sa.func.count()).select_from(m.AssignmentLogErasure)) == 0
            assert conn.scalar(sa.select(m.Study.erased_at)) == AFTER
    finally:
        engine.dispose()
