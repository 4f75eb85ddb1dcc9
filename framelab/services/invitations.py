"""Invitations to a study: a role offered to an e-mail address, started by its acceptance.

An owner adding someone gets the same answer whether or not the address has a studio
account, and the study's member page shows the same pending invitation in both cases,
so "add member" cannot be used to find out who has an account. The role starts only
when the account with that address accepts the invitation from its own study list, so
nobody is added to a study without knowing it. An address that is already a member
(visible on the member page anyway) gets the new role at once. Invitations expire
after INVITATION_LIFETIME; an owner can withdraw one, the invited account can decline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.accounts import ROLES, StudyInvitation, StudyMembership, User
from framelab.db.models import Study
from framelab.db.session import reading, writing
from framelab.services.accounts import Account, AccountError, normalise_email

INVITATION_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class Invitation:
    id: int
    study_id: int
    slug: str
    title: str
    email: str
    role: str
    invited_by: str
    expires_at: datetime


def invite(
    session: Session, study_id: int, email: str, role: str, *, invited_by: str, now: datetime
) -> str:
    """Offer `role` on the study to `email`: "invited", or "changed" for a current member."""
    if role not in ROLES:
        raise AccountError(f"role: {role!r} is not a role (expected one of: {', '.join(ROLES)})")
    address = normalise_email(email)
    try:
        with writing(session):
            membership = session.scalar(
                sa.select(StudyMembership)
                .join(User, User.id == StudyMembership.user_id)
                .where(StudyMembership.study_id == study_id, User.email == address)
            )
            if membership is not None:
                membership.role = role
                return "changed"
            session.execute(
                sa.delete(StudyInvitation).where(
                    StudyInvitation.study_id == study_id,
                    (StudyInvitation.email == address) | (StudyInvitation.expires_at <= now),
                )
            )
            session.add(
                StudyInvitation(
                    study_id=study_id,
                    email=address,
                    role=role,
                    invited_by=invited_by,
                    created_at=now,
                    expires_at=now + INVITATION_LIFETIME,
                )
            )
    except IntegrityError:  # the same address invited twice at the same moment
        pass
    return "invited"


def _rows(session: Session, *where: sa.ColumnElement[bool]) -> list[Invitation]:
    with reading(session):
        rows = session.execute(
            sa.select(StudyInvitation, Study.slug, Study.title)
            .join(Study, Study.id == StudyInvitation.study_id)
            .where(*where)
            .order_by(StudyInvitation.created_at, StudyInvitation.id)
        ).all()
        return [
            Invitation(
                id=inv.id,
                study_id=inv.study_id,
                slug=slug,
                title=title,
                email=inv.email,
                role=inv.role,
                invited_by=inv.invited_by,
                expires_at=inv.expires_at,
            )
            for inv, slug, title in rows
        ]


def pending_for_study(session: Session, study_id: int, *, now: datetime) -> list[Invitation]:
    """The study's unexpired invitations (for its member page)."""
    return _rows(session, StudyInvitation.study_id == study_id, StudyInvitation.expires_at > now)


def pending_for(session: Session, account: Account, *, now: datetime) -> list[Invitation]:
    """The unexpired invitations addressed to this account (shown on its study list)."""
    return _rows(session, StudyInvitation.email == account.email, StudyInvitation.expires_at > now)


def withdraw(session: Session, study_id: int, invitation_id: int) -> None:
    """An owner withdraws a pending invitation of the study."""
    with writing(session):
        session.execute(
            sa.delete(StudyInvitation).where(
                StudyInvitation.id == invitation_id, StudyInvitation.study_id == study_id
            )
        )


def _own(session: Session, account: Account, invitation_id: int, now: datetime) -> StudyInvitation:
    invitation = session.get(StudyInvitation, invitation_id)
    if invitation is None or invitation.email != account.email or invitation.expires_at <= now:
        raise AccountError("invitation: not found, or it has expired or was withdrawn")
    return invitation


def accept(session: Session, account: Account, invitation_id: int, *, now: datetime) -> str:
    """The invited account takes the role; returns the study's slug."""
    with writing(session):
        invitation = _own(session, account, invitation_id, now)
        study = session.get(Study, invitation.study_id)
        membership = session.scalar(
            sa.select(StudyMembership).where(
                StudyMembership.user_id == account.id,
                StudyMembership.study_id == invitation.study_id,
            )
        )
        if membership is None:
            session.add(
                StudyMembership(
                    user_id=account.id,
                    study_id=invitation.study_id,
                    role=invitation.role,
                    created_at=now,
                )
            )
        else:
            membership.role = invitation.role
        session.delete(invitation)
        return study.slug if study is not None else ""


def decline(session: Session, account: Account, invitation_id: int, *, now: datetime) -> None:
    """The invited account declines; the invitation is gone."""
    with writing(session):
        session.delete(_own(session, account, invitation_id, now))
