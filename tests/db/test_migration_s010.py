"""Migration s010 (the assignment log names no participant and holds no time) on a
database created by the previous release (s009), per DECISIONS rule 11.

The previous release's database is built by its own migrations (up to s009) and filled
with SQL of that schema: a live study whose log has four rows (a completed participant,
a simulated one, one who withdrew after assignment (their stratum already erased from
their row, as s009's withdrawal left it) and a pilot one), a duplicate with its own
timed assignment row, and a participant half-way through, before assignment. After the
upgrade the log keeps every slot (ids, strata, positions, arms, seeds) with the pilot
and simulation marks copied from the participants, and has neither participant ids nor
times; the database still refuses to change or delete it; the half-way participant
resumes, is assigned a new slot and finishes; the log replays from the seed; erasure
still removes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from framelab.db import models as m
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from framelab.domain.assignment import arm_for_slot
from framelab.services.assignment_audit import assignment_log_csv, replay_assignments
from framelab.services.erasure import erase_studies
from framelab.services.study_versions import get_study
from tests.db.releases import finish_half_way, insert_live_study
from tests.factories import make_study

BEFORE = datetime(2026, 11, 28, 9, 13, 27, 123456, tzinfo=UTC)
AFTER = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SPEC = make_study(target_n=50)
STRATUM = "centre"
# id, code, status, step, position in the stratum (None: not assigned), pilot, rehearsal
PEOPLE = (
    (1, "finished-1234567", "completed", "debrief", 0, False, False),
    (2, "simulated-123456", "completed", "debrief", 1, False, True),
    (3, "withdrew-1234567", "withdrawn", "withdrawn", 2, False, False),
    (4, "pilot-1234567890", "completed", "debrief", 3, True, False),
    (5, "resume-me-123456", "started", "pre", None, False, False),
)


def _previous_release(url: str) -> None:
    upgrade(url, "s009")
    engine = make_engine(url)
    naive = BEFORE.replace(tzinfo=None)
    with engine.begin() as conn:
        insert_live_study(conn, SPEC, naive)
        for pid, code, status, step, position, pilot, rehearsal in (
            *PEOPLE,
            (6, "duplicate-123456", "completed", "debrief", None, False, False),
        ):
            slot = arm_for_slot(SPEC, STRATUM, position) if position is not None else None
            withdrawn = status == "withdrawn"
            arm = slot.arm if slot else ("control" if pid == 6 else None)
            conn.execute(
                sa.text(
                    "INSERT INTO participant (id, code, study_id, study_version_id, spec_hash, "
                    "language, status, step, stratum, arm, pilot, attention_failed, speeder, "
                    "honeypot, rehearsal, duplicate, started_at, consented_at, assigned_at) "
                    "VALUES (:id, :code, 1, 1, :hash, 'en', :status, :step, :stratum, :arm, "
                    ":pilot, :no, :no, :no, :rehearsal, :duplicate, :t, :c, :a)"
                ),
                {
                    "id": pid,
                    "code": code,
                    "hash": SPEC.content_hash(),
                    "status": status,
                    "step": step,
                    "stratum": STRATUM if arm and not withdrawn else None,
                    "arm": arm,
                    "pilot": pilot,
                    "rehearsal": rehearsal,
                    "duplicate": pid == 6,
                    "no": False,
                    "t": naive.replace(hour=0, minute=0, second=0, microsecond=0)
                    if withdrawn
                    else naive,
                    "c": None if withdrawn else naive,
                    "a": naive if arm and not withdrawn else None,
                },
            )
            if slot is not None:
                conn.execute(
                    sa.text(
                        "INSERT INTO assignment_log (id, participant_id, study_id, arm, stratum, "
                        "position, block_index, position_in_block, seed, spec_hash, "
                        "assigned_at) VALUES (:id, :pid, 1, :arm, :stratum, :position, :block, "
                        ":place, :seed, :hash, :t)"
                    ),
                    {
                        "id": 10 + pid,
                        "pid": pid,
                        "arm": slot.arm,
                        "stratum": STRATUM,
                        "position": position,
                        "block": slot.block_index,
                        "place": slot.position_in_block,
                        "seed": SPEC.design.seed,
                        "hash": SPEC.content_hash(),
                        "t": naive + timedelta(seconds=pid),
                    },
                )
        conn.execute(
            sa.text("INSERT INTO block_state (study_id, stratum, next_position) VALUES (1, :s, 4)"),
            {"s": STRATUM},
        )
        conn.execute(
            sa.text("INSERT INTO duplicate_counter (study_id, next_position) VALUES (1, 1)")
        )
        conn.execute(
            sa.text(
                "INSERT INTO duplicate_assignment (participant_id, study_id, arm, position, seed, "
                "spec_hash, assigned_at) VALUES (6, 1, 'control', 0, :seed, :hash, :t)"
            ),
            {"seed": SPEC.design.seed, "hash": SPEC.content_hash(), "t": naive},
        )
        if conn.dialect.name == "postgresql":
            # Rows inserted with explicit ids leave the id sequences behind.
            for table in ("study", "study_version", "participant", "assignment_log"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                )
    engine.dispose()


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_s010_keeps_every_slot_without_participant_or_time_and_participants_still_finish(
    database_url,
):
    _previous_release(database_url)
    assert upgrade(database_url) == head_revision()
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        assert _columns(engine, "assignment_log") == {
            "id", "study_id", "arm", "stratum", "position", "block_index", "position_in_block",
            "seed", "spec_hash", "pilot", "rehearsal",
        }  # fmt: skip
        assert "assigned_at" not in _columns(engine, "duplicate_assignment")
        assert not any(
            fk["referred_table"] == "participant"
            for fk in sa.inspect(engine).get_foreign_keys("assignment_log")
        )
        with engine.connect() as conn:
            log = conn.execute(
                sa.select(
                    m.AssignmentLog.id,
                    m.AssignmentLog.stratum,
                    m.AssignmentLog.position,
                    m.AssignmentLog.arm,
                    m.AssignmentLog.pilot,
                    m.AssignmentLog.rehearsal,
                ).order_by(m.AssignmentLog.id)
            ).all()
            withdrawn = conn.execute(
                sa.select(m.Participant.stratum, m.Participant.assigned_at).where(
                    m.Participant.id == 3
                )
            ).one()
            (duplicate_arm,) = conn.execute(sa.select(m.DuplicateAssignment.arm)).one()
        assert [tuple(r) for r in log] == [
            (10 + pid, STRATUM, position, arm_for_slot(SPEC, STRATUM, position).arm, pilot, sim)
            for pid, _, _, _, position, pilot, sim in PEOPLE
            if position is not None
        ]
        assert tuple(withdrawn) == (None, None) and duplicate_arm == "control"
        # The database itself still refuses to change or remove the log.
        for statement in (
            "UPDATE assignment_log SET arm = 'care'",
            "UPDATE assignment_log SET stratum = 'left'",
            "DELETE FROM assignment_log",
        ):
            with pytest.raises(sa.exc.IntegrityError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql(statement)
        factory = make_session_factory(engine)
        with factory() as session:
            # The half-way participant resumes, is assigned (appending a row) and finishes.
            finish_half_way(session, SPEC, "resume-me-123456", AFTER)
            session.rollback()
            newest = session.scalars(sa.select(m.AssignmentLog).order_by(m.AssignmentLog.id))
            newest = newest.all()[-1]
            assert (newest.id, newest.stratum, newest.position) == (15, STRATUM, 4)
            assert (newest.pilot, newest.rehearsal) == (False, False)
            loaded = get_study(session, SPEC.slug)
            report = replay_assignments(session, loaded)
            assert report.ok, report.divergences
            assert report.assignments == 5 and report.strata == {STRATUM: 5}
            bundled = assignment_log_csv(session, loaded).decode().splitlines()
            assert bundled[0] == (
                "stratum,position,block_index,position_in_block,arm,spec_hash,pilot,rehearsal"
            )
            assert [line.rsplit(",", 2)[1:] for line in bundled[1:]] == [
                ["0", "0"], ["0", "1"], ["0", "0"], ["1", "0"], ["0", "0"],
            ]  # fmt: skip
            # Erasure still removes what the trigger protects, and leaves a tombstone.
            study = session.get(m.Study, 1)
            (tombstone,) = erase_studies(session, [study], now=AFTER, reason="erase-study")
        assert tombstone.counts["assignment_log"] == 5 and tombstone.counts["participants"] == 6
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(m.AssignmentLog)) == 0
            assert conn.scalar(sa.select(sa.func.count()).select_from(m.Participant)) == 0
    finally:
        engine.dispose()
