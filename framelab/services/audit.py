"""The studio's audit trail: who edited, approved, locked, launched, closed, exported what.

Services record events in the transaction of the change they describe (`record` adds a
row and never commits), so an event exists exactly when its change does. Who is acting
is set once per request by the web layer (`acting_as`, from the signed-in account) or
by the command line; services never import Flask, so they read it from a context
variable. An event with nobody set is recorded as "system" (e.g. a study closed by the
completion that reached its target).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Study
from framelab.db.review import AuditEvent
from framelab.db.session import reading, writing

# action -> how an owner reads it in the trail
ACTIONS = {
    "created": "created the study",
    "edited": "edited",
    "approved": "approved (reviewer sign-off)",
    "changes_requested": "asked for changes (reviewer)",
    "plan_locked": "locked (pre-registered) the analysis plan",
    "launched": "launched (locked texts, design and plan)",
    "status": "changed the status",
    "target_raised": "raised the target sample",
    "closed": "closed the study",
    "version_created": "created a new version",
    "receiving": "switched which version receives new participants",
    "exported": "downloaded data",
    "card_published": "added a results card to the frame library",
    "card_exported": "downloaded the signed results card",
    "erased": "erased the participant data (a tombstone with counts remains)",
    "members": "changed who has a role",
}


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (id and e-mail) or a named process ("command line")."""

    id: int | None
    name: str

    @classmethod
    def of(cls, account: Any) -> Actor:
        """The actor for a studio account (anything with `id` and `email`)."""
        return cls(account.id, account.email)


COMMAND_LINE = Actor(None, "command line (server operator)")
SYSTEM = Actor(None, "system")
_ACTOR: ContextVar[Actor | None] = ContextVar("framelab_actor", default=None)


def set_actor(actor: Actor | None) -> None:
    """Who acts for the rest of this request or command (the web layer calls it per request)."""
    _ACTOR.set(actor)


def current_actor() -> Actor:
    """The actor set for this request or command, else SYSTEM."""
    return _ACTOR.get() or SYSTEM


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Within the block, recorded events name `actor`."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def record(
    session: Session,
    study_id: int,
    action: str,
    *,
    now: datetime,
    detail: str = "",
    spec_hash: str | None = None,
    actor: Actor | None = None,
) -> None:
    """Add an event to the session's transaction (the caller commits with its change)."""
    if action not in ACTIONS:
        raise ValueError(f"audit: {action!r} is not an audited action ({', '.join(ACTIONS)})")
    who = actor or current_actor()
    session.add(
        AuditEvent(
            study_id=study_id,
            actor_id=who.id,
            actor=who.name,
            action=action,
            detail=detail,
            spec_hash=spec_hash,
            at=now,
        )
    )


def record_export(
    session: Session,
    study_id: int,
    detail: str,
    *,
    now: datetime,
    spec_hash: str | None = None,
    actor: Actor | None = None,
) -> None:
    """Record a download or export (who took which file) as a unit of work of its own."""
    with writing(session):
        record(
            session, study_id, "exported", now=now, detail=detail, spec_hash=spec_hash, actor=actor
        )


@dataclass(frozen=True)
class TrailEntry:
    at: datetime
    actor: str
    action: str
    says: str
    detail: str
    spec_hash: str | None
    study_slug: str


def trail(session: Session, study_ids: list[int]) -> list[TrailEntry]:
    """Every event of these studies (a campaign's versions), oldest first."""
    with reading(session):
        rows = session.execute(
            sa.select(AuditEvent, Study.slug)
            .join(Study, Study.id == AuditEvent.study_id)
            .where(AuditEvent.study_id.in_(study_ids))
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all()
        return [
            TrailEntry(
                at=event.at,
                actor=event.actor,
                action=event.action,
                says=ACTIONS.get(event.action, event.action),
                detail=event.detail,
                spec_hash=event.spec_hash,
                study_slug=slug,
            )
            for event, slug in rows
        ]
