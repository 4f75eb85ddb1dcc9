"""Account security: study-creation permission, session revocation, back-off, reset links, TOTP, invitations.

Revision ID: s007
Revises: s006
Create Date: 2026-12-03

- `account` gains plain columns (SQLite adds them without rebuilding the table that
  other tables reference): `can_create_studies`, `session_version` (part of every
  sign-in cookie; bumped to revoke them), `must_change_password`,
  `password_changed_at`, `failed_logins` and `login_delay_until` (per-account back-off
  after wrong passwords), `totp_secret` and `totp_last_step` (optional two-factor).
- Every account of an earlier release could create studies; after the upgrade those
  that own a study keep that permission (they were using it), the others ask an admin.
  Admins always may.
- `password_reset`: one-time reset links (SHA-256 of the token only, expiry, use).
- `study_invitation`: a role offered on a study to an e-mail address; it becomes a
  membership when the account with that address accepts it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s007"
down_revision = "s006"
branch_labels = None
depends_on = None

_ROLES = ("owner", "editor", "analyst", "reviewer", "translator", "viewer")


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(
            sa.Column("can_create_studies", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(
            sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("login_delay_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    account = sa.table("account", sa.column("id"), sa.column("can_create_studies", sa.Boolean))
    membership = sa.table("study_membership", sa.column("user_id"), sa.column("role"))
    owners = sa.select(membership.c.user_id).where(membership.c.role == "owner")
    op.execute(account.update().where(account.c.id.in_(owners)).values(can_create_studies=True))
    op.create_table(
        "password_reset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("issued_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["account.id"], name=op.f("fk_password_reset_user_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_token_hash")),
    )  # fmt: skip
    op.create_index(op.f("ix_password_reset_user_id"), "password_reset", ["user_id"])
    op.create_table(
        "study_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("invited_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"role IN ({', '.join(repr(r) for r in _ROLES)})", name=op.f("ck_study_invitation_role")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_study_invitation_study_id_study"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_invitation")),
        sa.UniqueConstraint(
            "study_id", "email", name=op.f("uq_study_invitation_study_id_email")
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_study_invitation_study_id"), "study_invitation", ["study_id"])
    op.create_index(op.f("ix_study_invitation_email"), "study_invitation", ["email"])


def downgrade() -> None:
    op.drop_index(op.f("ix_study_invitation_email"), table_name="study_invitation")
    op.drop_index(op.f("ix_study_invitation_study_id"), table_name="study_invitation")
    op.drop_table("study_invitation")
    op.drop_index(op.f("ix_password_reset_user_id"), table_name="password_reset")
    op.drop_table("password_reset")
    with op.batch_alter_table("account") as batch:
        for column in (
            "totp_last_step",
            "totp_secret",
            "login_delay_until",
            "failed_logins",
            "password_changed_at",
            "must_change_password",
            "session_version",
            "can_create_studies",
        ):
            batch.drop_column(column)
