"""Record when a study version's analysis plan was locked.

Revision ID: s003
Revises: s002
Create Date: 2026-12-03

The report may call a plan "pre-registered" only when it was locked before the data it
analyses were collected, so the time of the plan lock is kept beside its hash. A version
that went live before this revision has its plan lock time backfilled from `locked_at`
(going live locks the plan with everything else); a plan locked on its own before this
revision has no recorded time and is reported as such, never as pre-registered.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s003"
down_revision = "s002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("study_version") as batch:
        batch.add_column(sa.Column("plan_locked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE study_version SET plan_locked_at = locked_at "
        "WHERE locked_at IS NOT NULL AND plan_hash IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("study_version") as batch:
        batch.drop_column("plan_locked_at")
