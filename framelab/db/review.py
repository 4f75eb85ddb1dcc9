"""Reviewer sign-off and the studio's audit trail (DECISIONS rules 1 and 9).

A `Review` is one reviewer's decision on one exact spec (by its hash): an approval
counts only while the study's current spec still has that hash, so any later edit
voids it without anybody having to remember to. `AuditEvent` rows are append-only:
who did what to which study, when, and for which spec.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from framelab.db import accounts as _accounts  # noqa: F401  (the `account` table the keys name)
from framelab.db.models import Base, one_of

REVIEW_DECISIONS = ("approved", "changes_requested")


class Review(Base):
    """A reviewer's decision on the spec with hash `spec_hash` of a study."""

    __tablename__ = "review"
    __table_args__ = (one_of("decision", REVIEW_DECISIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    spec_hash: Mapped[str] = mapped_column(sa.String(64))
    reviewer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="SET NULL")
    )
    reviewer_email: Mapped[str] = mapped_column(sa.String(254))
    decision: Mapped[str] = mapped_column(sa.String(24))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    decided_at: Mapped[datetime]


class AuditEvent(Base):
    """One staff action on a study: edited, approved, locked, launched, closed, exported..."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id", ondelete="SET NULL"))
    # The e-mail at the time (kept when the account is removed); "command line" for the CLI.
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    spec_hash: Mapped[str | None] = mapped_column(sa.String(64))
    at: Mapped[datetime]


@event.listens_for(Session, "before_flush")
def _audit_trail_is_append_only(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise ValueError(f"audit_event: row {obj.id} is append-only")
