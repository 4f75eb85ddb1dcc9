"""Answers that reach the server without being stored, kept as the page's draft (hot path only).

Two posts do so: a page that fails validation (participant_store.pages), and the answers a
browser with scripts sends as the participant leaves the page unsent (`navigator.sendBeacon`
when the page is hidden: the phone locked, the tab closed, another app opened). Either
way only the answers that pass their item's check are kept (framelab.domain.drafts), and
only for the participant's current page; nothing is written when there is nothing to keep
and no draft to replace, so such a post never queues for SQLite's writer lock in vain.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from framelab.db.direct import for_session
from framelab.domain.drafts import draft_values
from framelab.domain.steps import ITEM_STEPS, aware, items_for_step
from framelab.services.participant_store.drafts import keep_draft
from framelab.services.participant_store.rows import find


def replace_draft(
    session: Session,
    code: str,
    step: str,
    kept: Mapping[str, str],
    *,
    had_draft: bool,
    now: datetime,
) -> bool:
    """Make `kept` the draft of page `step` in a transaction of its own; False if no write was needed."""
    if not kept and not had_draft:
        return False
    with for_session(session, write=True) as db:
        keep_draft(db, find(db, code, lock=True).participant, step, kept, now)
    return True


def keep_page_draft(
    session: Session, code: str, step: str, form: Mapping[str, str], *, now: datetime
) -> bool:
    """Keep the valid answers of `form`, posted for page `step` as it was left, as its draft.

    A post for another page than the participant's current one (stale) keeps nothing.
    Returns whether anything was written. Raises ParticipantNotFound for an unknown code.
    """
    with for_session(session, write=False) as db:
        found = find(db, code, lock=False)
    row = found.participant
    if step not in ITEM_STEPS or row.step != step:
        return False
    kept = draft_values(items_for_step(found.loaded.spec, step), form)
    return replace_draft(session, code, step, kept, had_draft=row.draft is not None, now=aware(now))
