"""Reading a participant's stored answers back, for tests (production exports them instead)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.crypto import decrypt_text
from framelab.db.models import Response
from framelab.db.session import reading


def stored_answers(
    session: Session, participant_id: int, phase: str | None = None
) -> dict[str, int | str]:
    """A participant's stored answers by item id (of one phase, or `phase:item` keys for all)."""
    query = sa.select(Response).where(Response.participant_id == participant_id)
    if phase is not None:
        query = query.where(Response.phase == phase)
    out: dict[str, int | str] = {}
    with reading(session):
        for row in session.scalars(query):
            key = row.item_id if phase is not None else f"{row.phase}:{row.item_id}"
            text = decrypt_text(row.value_text)  # framelab.crypto
            out[key] = row.value_int if row.value_int is not None else (text or "")
    return out
