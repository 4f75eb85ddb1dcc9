"""Allow the translator role on a study (texts and translations only).

Revision ID: s004
Revises: s003
Create Date: 2026-12-03

The role's check constraint lists every role; it is replaced by one that also allows
`translator`. Existing memberships are unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "s004"
down_revision = "s003"
branch_labels = None
depends_on = None

_BEFORE = ("owner", "editor", "analyst", "viewer")
_AFTER = ("owner", "editor", "analyst", "translator", "viewer")


def _replace(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table("study_membership") as batch:
        batch.drop_constraint(op.f("ck_study_membership_role"), type_="check")
        batch.create_check_constraint(
            op.f("ck_study_membership_role"), f"role IN ({', '.join(repr(r) for r in roles)})"
        )


def upgrade() -> None:
    _replace(_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM study_membership WHERE role = 'translator'")
    _replace(_BEFORE)
