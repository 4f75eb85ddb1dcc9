"""Keyed pseudonyms, duplicate panel ids, and the key file's check value.

Revision ID: s008
Revises: s007
Create Date: 2026-12-04

- Panel hashes become keyed pseudonyms (DECISIONS rule 6; framelab.services.pseudonyms):
  every stored `sha256(salt:id)` in `participant.panel_hash`, `panel_study_hash` and
  `panel_session_hash` is replaced by `HMAC-SHA256(key, old hash)`, under the key file
  `FRAMELAB_PSEUDONYM_KEY_FILE` (default `<instance>/pseudonym_key`, made with mode 0600
  when missing; run the upgrade with the app's environment so both use the same file).
  New arrivals are looked up as HMAC(key, sha256(salt:id)), so old rows still match.
  A database with no panel hash is left for the app to key on first use.
- `pseudonym_check`: the key chain applied to a fixed input, so a key file that does not
  belong to the database is refused rather than making every returning id look new.
- `participant.duplicate` (DECISIONS rule 5): a repeat panel id enrols like anyone, is
  flagged and kept out of real counts, targets and analyses (the target's index gains
  the column). Rows of earlier releases are not duplicates (a repeat id resumed then).
- `duplicate_counter` and `duplicate_assignment`: duplicates are assigned in a sequence
  of their own, outside the block sequences that the assignment log replays.

Downgrade drops the new tables and column; the stored hashes stay keyed (the unkeyed
values are not kept anywhere), so an older release would no longer recognise a
returning panel id from before the downgrade.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "s008"
down_revision = "s007"
branch_labels = None
depends_on = None

_INDEX = "ix_participant_study_status"
_HASHES = ("panel_hash", "panel_study_hash", "panel_session_hash")


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.add_column(
            sa.Column("duplicate", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.drop_index(_INDEX, table_name="participant")
    op.create_index(
        _INDEX, "participant", ["study_id", "status", "pilot", "rehearsal", "duplicate"]
    )
    op.create_table(
        "duplicate_counter",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_duplicate_counter_study_id_study")
        ),
        sa.PrimaryKeyConstraint("study_id", name=op.f("pk_duplicate_counter")),
    )  # fmt: skip
    op.create_table(
        "duplicate_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"],
            name=op.f("fk_duplicate_assignment_participant_id_participant"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_duplicate_assignment_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_assignment")),
        sa.UniqueConstraint(
            "participant_id", name=op.f("uq_duplicate_assignment_participant_id")
        ),
        sa.UniqueConstraint(
            "study_id", "position", name=op.f("uq_duplicate_assignment_study_id_position")
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_duplicate_assignment_study_id"), "duplicate_assignment", ["study_id"])
    op.create_table(
        "pseudonym_check",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pseudonym_check")),
    )  # fmt: skip
    _key_stored_hashes()


def _key_stored_hashes() -> None:
    # Imported here: only a database that holds panel hashes needs the key file.
    from framelab.services import pseudonyms

    conn = op.get_bind()
    participant = sa.table("participant", sa.column("id"), *(sa.column(c) for c in _HASHES))
    rows = conn.execute(
        sa.select(participant.c.id, *(participant.c[c] for c in _HASHES)).where(
            sa.or_(*(participant.c[c].is_not(None) for c in _HASHES))
        )
    ).all()
    if not rows:
        return
    path = pseudonyms.key_file_path()
    key = pseudonyms.load_or_create_key(path)
    for row in rows:
        values = {c: key.rekey(row[i + 1]) for i, c in enumerate(_HASHES) if row[i + 1] is not None}
        conn.execute(participant.update().where(participant.c.id == row.id).values(values))
    pseudonyms.record_check(conn, key, now=datetime.now(UTC))


def downgrade() -> None:
    op.drop_table("pseudonym_check")
    op.drop_index(op.f("ix_duplicate_assignment_study_id"), table_name="duplicate_assignment")
    op.drop_table("duplicate_assignment")
    op.drop_table("duplicate_counter")
    op.drop_index(_INDEX, table_name="participant")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("duplicate")
    op.create_index(_INDEX, "participant", ["study_id", "status", "pilot", "rehearsal"])
