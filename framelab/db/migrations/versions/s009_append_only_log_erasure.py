"""Append-only assignment log in the database, erasure tombstones.

Revision ID: s009
Revises: s008
Create Date: 2026-12-04

- The assignment log was append-only in the ORM only (a flush that changed a row
  raised); any other writer could change it. Triggers now refuse every UPDATE (and, on
  PostgreSQL, TRUNCATE) of `assignment_log`, on SQLite and PostgreSQL alike.
- DELETE is refused too, except while the row's study is listed in the new table
  `assignment_log_erasure`. Only an erasure (`framelab erase-study`, `purge-expired`;
  framelab.services.erasure) writes that row, deletes the study's log and removes the
  row again, all in one transaction, so no other transaction ever sees it. (Dropping
  and re-creating the trigger would open the log of every study to every writer for
  that moment; a marker names one study and lives only inside the erasing transaction.)
- `study.erased_at`: when the study's participant data was erased (its tombstone keeps
  the study row, versions and audit trail). A plain column, so SQLite adds it without
  rebuilding the table that everything references.

Downgrade drops the triggers, the marker table and the column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s009"
down_revision = "s008"
branch_labels = None
depends_on = None

_SQLITE = (
    "CREATE TRIGGER assignment_log_no_update BEFORE UPDATE ON assignment_log "
    "BEGIN SELECT RAISE(ABORT, 'assignment_log is append-only: rows cannot be updated'); END",
    "CREATE TRIGGER assignment_log_no_delete BEFORE DELETE ON assignment_log "
    "WHEN NOT EXISTS (SELECT 1 FROM assignment_log_erasure e WHERE e.study_id = OLD.study_id) "
    "BEGIN SELECT RAISE(ABORT, 'assignment_log is append-only: rows are deleted only by "
    "erase-study'); END",
)
_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION assignment_log_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM assignment_log_erasure e "
    "WHERE e.study_id = OLD.study_id) THEN RETURN OLD; END IF; "
    "RAISE EXCEPTION USING MESSAGE = 'assignment_log is append-only: ' || TG_OP || "
    "' refused', ERRCODE = 'restrict_violation'; END $$",
    "CREATE TRIGGER assignment_log_append_only BEFORE UPDATE OR DELETE "
    "ON assignment_log FOR EACH ROW EXECUTE FUNCTION assignment_log_append_only()",
    "CREATE TRIGGER assignment_log_no_truncate BEFORE TRUNCATE "
    "ON assignment_log FOR EACH STATEMENT EXECUTE FUNCTION assignment_log_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "assignment_log_erasure",
        sa.Column("study_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("study_id", name=op.f("pk_assignment_log_erasure")),
    )
    with op.batch_alter_table("study") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}.get(dialect, ()):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS assignment_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS assignment_log_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS assignment_log_no_truncate ON assignment_log")
        op.execute("DROP TRIGGER IF EXISTS assignment_log_append_only ON assignment_log")
        op.execute("DROP FUNCTION IF EXISTS assignment_log_append_only()")
    with op.batch_alter_table("study") as batch:
        batch.drop_column("erased_at")
    op.drop_table("assignment_log_erasure")
