"""Eligibility screener, quotas and panel outcomes (issue 21).

Revision ID: s013
Revises: s012
Create Date: 2026-12-04

- `quota_fill`: completed real participants per (study, quota item, cell), the count
  a quota cell is checked against (framelab.db.quotas). No study written before this
  revision has a quota, so the table starts empty.

The screener and the panel outcomes are parts of the study file; the participants they
turn away keep the existing status `screened_out` (never assigned) on terminal steps of
their own (`ineligible`, `over_quota`; a refused consent stays on `screened_out`), so no
existing column or constraint changes. New table only: the upgrade is the same on SQLite
and PostgreSQL and downgrade drops it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s013"
down_revision = "s012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quota_fill",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("variable", sa.String(64), nullable=False),
        sa.Column("cell", sa.String(64), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_quota_fill_study_id_study")
        ),
        sa.PrimaryKeyConstraint("study_id", "variable", "cell", name=op.f("pk_quota_fill")),
    )


def downgrade() -> None:
    op.drop_table("quota_fill")
