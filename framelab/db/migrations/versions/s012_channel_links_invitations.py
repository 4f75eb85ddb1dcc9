"""Channel links and invitation lists (issue 21).

Revision ID: s012
Revises: s011
Create Date: 2026-12-04

Work in progress: this revision is claimed in the chain so that parallel work on
issue 21 can land in any order; its tables arrive with the feature.
"""

from __future__ import annotations

revision = "s012"
down_revision = "s011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
