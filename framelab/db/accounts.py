"""Studio accounts: users (argon2 password hashes only) and their role on each study.

On the same DeclarativeBase as framelab.db.models, so one metadata (and one Alembic
history) covers the whole schema. Models never commit; services own the transaction.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from framelab.db.models import Base, Study

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

    memberships: Mapped[list[StudyMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class StudyMembership(Base):
    """One user's role on one study (at most one role per user and study)."""

    __tablename__ = "study_membership"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "study_id"),
        sa.CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id", ondelete="CASCADE"))
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="memberships")
    study: Mapped[Study] = relationship()
