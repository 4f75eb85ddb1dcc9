"""Studio accounts: users (argon2 password hashes only) and their role on each study.

On the same DeclarativeBase as framelab.db.models, so one metadata (and one Alembic
history) covers the whole schema. Models never commit; services own the transaction.

Account security (schema s007): `session_version` is part of every sign-in cookie and
bumped on sign-out, password change and deactivation, so older cookies open nothing;
`failed_logins`/`login_delay_until` hold the per-account back-off; one-time reset links
are stored only as SHA-256 hashes (`PasswordReset`); a study membership starts as a
`StudyInvitation` the invited account accepts.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from framelab.db.models import Base, Study, one_of

# Most to least powerful; the permissions of each role live in framelab.services.accounts.
ROLES = ("owner", "editor", "analyst", "reviewer", "translator", "viewer")


class User(Base):
    """A studio account; the first one created is usually the site admin."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_admin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # Admins always may; for everyone else a site admin grants it (accounts page).
    can_create_studies: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    session_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # An admin-set (temporary) password: changed before any other studio page opens.
    must_change_password: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    password_changed_at: Mapped[datetime | None]
    # Consecutive wrong passwords or codes since the last sign-in, and the back-off.
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    login_delay_until: Mapped[datetime | None]
    # Base32 TOTP secret once two-factor sign-in is confirmed; the last time step used,
    # so a code is accepted once.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    memberships: Mapped[list[StudyMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class StudyMembership(Base):
    """One user's role on one study (at most one role per user and study)."""

    __tablename__ = "study_membership"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "study_id"),
        one_of("role", ROLES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id", ondelete="CASCADE"))
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="memberships")
    study: Mapped[Study] = relationship()


class PasswordReset(Base):
    """A one-time reset link an admin issued: only its SHA-256 is stored."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class StudyInvitation(Base):
    """A role offered on a study to an e-mail address, whether or not it has an account.

    The role starts when an account with that address accepts it, so the owner never
    learns from the answer whether the address has an account.
    """

    __tablename__ = "study_invitation"
    __table_args__ = (
        sa.UniqueConstraint("study_id", "email"),
        one_of("role", ROLES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    invited_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
