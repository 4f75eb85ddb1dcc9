"""The follow-up link on the participant hot path: made at completion, read at the debrief.

Participant hot path only (see the package). A study without waves costs nothing here:
both functions return at once. Completing wave 1 of a study with waves adds one INSERT
to that page's transaction; its debrief one small read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from framelab.db.direct import Direct, DirectStatement, insert_values
from framelab.db.models import Participant
from framelab.db.waves import WaveLink, new_follow_up_token
from framelab.domain.steps import aware

_L = WaveLink.__table__
_P = Participant.__table__
_ADD_LINK = DirectStatement(insert_values(_L, "participant_id", "token", "created_at"))
_LINK_OF = DirectStatement(
    sa.select(_L.c.token, _P.c.completed_at)
    .select_from(_L.join(_P, _P.c.id == _L.c.participant_id))
    .where(_L.c.participant_id == sa.bindparam("pid"))
)


@dataclass(frozen=True)
class FollowUpLink:
    """A participant's follow-up token and when they completed wave 1 (their windows' start)."""

    token: str
    completed_at: datetime


def add_follow_up_link(db: Direct, spec: Any, participant_id: int, now: datetime) -> None:
    """Give a participant completing wave 1 of a study with waves their follow-up token."""
    if spec.waves:
        db.execute(
            _ADD_LINK,
            {"participant_id": participant_id, "token": new_follow_up_token(), "created_at": now},
        )


def debrief_follow_up(db: Direct, found: Any) -> FollowUpLink | None:
    """The follow-up link the debrief shows (None: not the debrief, or a study without waves)."""
    row = found.participant
    if row.step != "debrief" or not found.loaded.spec.waves:
        return None
    link = db.one_or_none(_LINK_OF, {"pid": row.id})
    if link is None or link.completed_at is None:
        return None
    return FollowUpLink(link.token, aware(link.completed_at))
