"""Follow-up waves (issue 21).

Revision ID: s014
Revises: s013
Create Date: 2026-12-04

Work in progress: this revision is claimed in the chain so that parallel work on
issue 21 can land in any order; its tables arrive with the feature.
"""

from __future__ import annotations

revision = "s014"
down_revision = "s013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
