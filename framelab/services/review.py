"""Reviewer sign-off before launch (DECISIONS rule 9).

A reviewer (an ethics or safeguarding lead with the `reviewer` role on the study; an
admin reviews through such a membership too) approves the consent text, debrief and
data plan of one exact spec: the approval names the spec hash, so any later edit
voids it without anyone having to remember. When the instance requires sign-off (the
default), a study goes live only while an approval of its current spec stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.accounts import StudyMembership
from framelab.db.review import REVIEW_DECISIONS, Review
from framelab.db.session import reading, writing
from framelab.services import audit
from framelab.services.accounts import Account
from framelab.services.study_versions import get_study

MAX_COMMENT = 4000


class ReviewError(ValueError):
    """A review request that cannot be taken; the message says why."""


@dataclass(frozen=True)
class Decision:
    reviewer: str
    decision: str
    comment: str
    at: datetime
    spec_hash: str
    current: bool  # made on the spec the study has now


@dataclass(frozen=True)
class ReviewState:
    """The study's sign-off: the standing approval (if any) and every decision, newest first."""

    spec_hash: str
    decisions: tuple[Decision, ...]

    @property
    def approval(self) -> Decision | None:
        """The newest decision on the current spec, when it is an approval."""
        current = [d for d in self.decisions if d.current]
        return current[0] if current and current[0].decision == "approved" else None

    @property
    def voided(self) -> Decision | None:
        """The newest approval that a later edit voided (nothing stands on the current spec)."""
        if any(d.current for d in self.decisions):
            return None
        return next((d for d in self.decisions if d.decision == "approved"), None)

    @property
    def changes_requested(self) -> Decision | None:
        current = [d for d in self.decisions if d.current]
        return current[0] if current and current[0].decision == "changes_requested" else None


def is_reviewer(session: Session, account: Account, study_id: int) -> bool:
    """Whether the account holds the reviewer role on the study (admins only by membership)."""
    with reading(session):
        role = session.scalar(
            sa.select(StudyMembership.role).where(
                StudyMembership.user_id == account.id, StudyMembership.study_id == study_id
            )
        )
    return role == "reviewer"


def review_state(session: Session, slug: str) -> ReviewState:
    with reading(session):
        loaded = get_study(session, slug)
        rows = session.scalars(
            sa.select(Review).where(Review.study_id == loaded.id).order_by(Review.id.desc())
        ).all()
        decisions = tuple(
            Decision(
                reviewer=r.reviewer_email,
                decision=r.decision,
                comment=r.comment,
                at=r.decided_at,
                spec_hash=r.spec_hash,
                current=r.spec_hash == loaded.spec_hash,
            )
            for r in rows
        )
    return ReviewState(spec_hash=loaded.spec_hash, decisions=decisions)


def decide(
    session: Session,
    slug: str,
    account: Account,
    decision: str,
    *,
    spec_hash: str,
    comment: str = "",
    now: datetime,
) -> ReviewState:
    """Record a reviewer's decision on the spec the reviewer saw (`spec_hash`).

    Refused when the study changed since the reviewer's page was drawn (the approval
    would otherwise cover texts they never read) or when the account is not a reviewer.
    """
    if decision not in REVIEW_DECISIONS:
        raise ReviewError(f"decision: {decision!r} is not one of {', '.join(REVIEW_DECISIONS)}")
    text = (comment or "").strip()[:MAX_COMMENT]
    with writing(session):
        loaded = get_study(session, slug)
        if not is_reviewer(session, account, loaded.id):
            raise ReviewError("role: only a reviewer of this study can sign it off")
        if spec_hash != loaded.spec_hash:
            raise ReviewError(
                "The study was edited while you were reading it; read the current texts and "
                "decide again."
            )
        if decision == "changes_requested" and not text:
            raise ReviewError("comment: say what needs to change, so the editors can act on it")
        session.add(
            Review(
                study_id=loaded.id,
                spec_hash=loaded.spec_hash,
                reviewer_id=account.id,
                reviewer_email=account.email,
                decision=decision,
                comment=text,
                decided_at=now,
            )
        )
        audit.record(
            session,
            loaded.id,
            decision,
            now=now,
            detail=text,
            spec_hash=loaded.spec_hash,
            actor=audit.Actor.of(account),
        )
    return review_state(session, slug)


def approved(session: Session, slug: str) -> bool:
    """Whether an approval of the study's current spec stands."""
    return review_state(session, slug).approval is not None
