"""Study roles for tests, given the way the studio gives them.

give_role(session, study_id, email, role, now=...)   # an invitation the account accepts
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from framelab.services import accounts, invitations


def give_role(session: Session, study_id: int, email: str, role: str, *, now: datetime) -> None:
    """Give an account a role on a study: the member page's invitation, then its acceptance.

    A current member's role changes at once, as on the member page.
    """
    invited = invitations.invite(session, study_id, email, role, invited_by="tests", now=now)
    if invited == "changed":
        return
    account = accounts.account_by_email(session, email)
    assert account is not None, f"no account for {email}"
    (invitation,) = [
        i for i in invitations.pending_for(session, account, now=now) if i.study_id == study_id
    ]
    invitations.accept(session, account, invitation.id, now=now)
