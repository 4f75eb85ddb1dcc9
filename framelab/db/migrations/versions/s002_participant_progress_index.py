"""Index participants by study, status and pilot: the study link's target check counts them.

Revision ID: s002
Revises: s001
Create Date: 2026-11-25

`open_study` counts a live study's completed participants on every study-link request
when the study has a target; with this index the count reads the index alone instead of
every participant row of the study.
"""

from __future__ import annotations

from alembic import op

revision = "s002"
down_revision = "s001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_participant_study_status", "participant", ["study_id", "status", "pilot"])


def downgrade() -> None:
    op.drop_index("ix_participant_study_status", table_name="participant")
