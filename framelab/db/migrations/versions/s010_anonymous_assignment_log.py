"""The assignment log names no participant and holds no time.

Revision ID: s010
Revises: s009
Create Date: 2026-12-03

A withdrawal erases the participant's stratum (it derives from an erased answer) and
all but the day of their timestamps, yet `assignment_log` kept `participant_id` and an
exact `assigned_at`: one join gave the erased stratum and time back. Now:

- `assignment_log` loses `participant_id` (with its foreign key and unique constraint)
  and `assigned_at`, and gains `pilot` and `rehearsal` (copied from the participant the
  slot went to), which the bundle's log and the audit used to read through the join.
  Nothing points from a participant to a log row either: a pointer cleared on
  withdrawal would leave the one unreferenced row of that arm, which is as good as a
  join. The participant row keeps arm, stratum and the exact time until a withdrawal
  erases them there.
- `duplicate_assignment` loses `assigned_at` (the participant row has it until a
  withdrawal; this row outlived it).

The log is rebuilt (copy, drop, create, copy back; the same on SQLite and PostgreSQL),
keeping every row's id, stratum, position, block, arm, seed and version hash, so the
log replays as before. Its append-only triggers go with the old table and are created
again on the new one (the PostgreSQL function stays). `duplicate_assignment` goes
through Alembic's batch mode (a leaf table, referenced by nothing).

Downgrade is refused: the link this revision removes cannot be rebuilt (a withdrawn
participant's stratum is gone from their row, on purpose).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s010"
down_revision = "s009"
branch_labels = None
depends_on = None

_TRIGGERS = {
    "sqlite": (
        "CREATE TRIGGER assignment_log_no_update BEFORE UPDATE ON assignment_log "
        "BEGIN SELECT RAISE(ABORT, 'assignment_log is append-only: rows cannot be updated'); END",
        "CREATE TRIGGER assignment_log_no_delete BEFORE DELETE ON assignment_log "
        "WHEN NOT EXISTS (SELECT 1 FROM assignment_log_erasure e WHERE e.study_id = OLD.study_id) "
        "BEGIN SELECT RAISE(ABORT, 'assignment_log is append-only: rows are deleted only by "
        "erase-study'); END",
    ),
    "postgresql": (
        "CREATE TRIGGER assignment_log_append_only BEFORE UPDATE OR DELETE "
        "ON assignment_log FOR EACH ROW EXECUTE FUNCTION assignment_log_append_only()",
        "CREATE TRIGGER assignment_log_no_truncate BEFORE TRUNCATE "
        "ON assignment_log FOR EACH STATEMENT EXECUTE FUNCTION assignment_log_append_only()",
    ),
}
_COLUMNS = "id, study_id, arm, stratum, position, block_index, position_in_block, seed, spec_hash"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # The old rows with their slot's marks, apart from the table (which is dropped).
    op.execute(
        "CREATE TABLE assignment_log_s010 AS SELECT "
        + ", ".join(f"l.{c.strip()}" for c in _COLUMNS.split(","))
        + ", p.pilot AS pilot, p.rehearsal AS rehearsal FROM assignment_log l "
        "JOIN participant p ON p.id = l.participant_id"
    )
    # DROP TABLE fires no row trigger on either backend (SQLite drops the table's
    # triggers first; PostgreSQL drops them with the table).
    op.drop_index(op.f("ix_assignment_log_study_id"), table_name="assignment_log")
    op.drop_table("assignment_log")
    op.create_table(
        "assignment_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("block_index", sa.Integer(), nullable=False),
        sa.Column("position_in_block", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("pilot", sa.Boolean(), nullable=False),
        sa.Column("rehearsal", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_assignment_log_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_log")),
        sa.UniqueConstraint(
            "study_id",
            "stratum",
            "position",
            name=op.f("uq_assignment_log_study_id_stratum_position"),
        ),
    )
    op.create_index(
        op.f("ix_assignment_log_study_id"), "assignment_log", ["study_id"], unique=False
    )
    op.execute(
        f"INSERT INTO assignment_log ({_COLUMNS}, pilot, rehearsal) "
        f"SELECT {_COLUMNS}, pilot, rehearsal FROM assignment_log_s010 ORDER BY id"
    )
    op.drop_table("assignment_log_s010")
    if dialect == "postgresql":
        # Rows copied with their ids leave the new id sequence behind.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('assignment_log', 'id'), "
            "COALESCE((SELECT MAX(id) FROM assignment_log), 0) + 1, false)"
        )
    for statement in _TRIGGERS.get(dialect, ()):
        op.execute(statement)
    with op.batch_alter_table("duplicate_assignment") as batch:
        batch.drop_column("assigned_at")


def downgrade() -> None:
    raise NotImplementedError(
        "s010 cannot be undone: the assignment log no longer names participants, and a "
        "withdrawn participant's stratum and times are erased on purpose"
    )
