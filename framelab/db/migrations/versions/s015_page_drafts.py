"""Page drafts kept across reloads (issue 21).

Revision ID: s015
Revises: s014
Create Date: 2026-12-04

- `page_draft`: the valid answers of a participant's page that has not been submitted
  yet (framelab.db.drafts), one row per participant and page: its primary key is
  (participant_id, step), which the participant lookup joins on, so showing a page for
  a participant without a draft costs no extra statement.

A new table only: nothing existing changes, so the upgrade is the same on SQLite and
PostgreSQL and downgrade drops the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s015"
down_revision = "s014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_draft",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"],
            name=op.f("fk_page_draft_participant_id_participant"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", "step", name=op.f("pk_page_draft")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("page_draft")
