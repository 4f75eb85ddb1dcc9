"""Follow-up waves (issue 21): follow-up links, wave answers and wave returns.

Revision ID: s014
Revises: s013
Create Date: 2026-12-04

- `wave_link`: a participant's follow-up token (framelab.db.waves), one per participant,
  unique; it opens the wave pages only (it may resume, it never withdraws).
- `wave_response`: one answer to one item in one later wave, by participant row.
- `wave_return`: that a participant answered a wave, and when.

New tables only: nothing existing changes, so the upgrade is the same on SQLite and
PostgreSQL, participants in progress resume as before, and downgrade drops the tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s014"
down_revision = "s013"
branch_labels = None
depends_on = None


def _participant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["participant_id"], ["participant.id"],
        name=op.f(f"fk_{table}_participant_id_participant"), ondelete="CASCADE",
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "wave_link",
        sa.Column("participant_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _participant_fk("wave_link"),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_wave_link")),
        sa.UniqueConstraint("token", name=op.f("uq_wave_link_token")),
    )
    op.create_table(
        "wave_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("value_int", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        _participant_fk("wave_response"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wave_response")),
        sa.UniqueConstraint(
            "participant_id", "wave_id", "item_id",
            name=op.f("uq_wave_response_participant_id_wave_id_item_id"),
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_wave_response_participant_id"), "wave_response", ["participant_id"])
    op.create_table(
        "wave_return",
        sa.Column("participant_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("wave_id", sa.String(16), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=False),
        _participant_fk("wave_return"),
        sa.PrimaryKeyConstraint("participant_id", "wave_id", name=op.f("pk_wave_return")),
    )


def downgrade() -> None:
    op.drop_table("wave_return")
    op.drop_index(op.f("ix_wave_response_participant_id"), table_name="wave_response")
    op.drop_table("wave_response")
    op.drop_table("wave_link")
