"""A page's draft: its valid answers kept until the page is submitted (participant hot path only).

The participant lookup (rows.find) reads the draft of the participant's current page in
its one statement (an outer join on the draft's primary key), so a page without a draft
costs nothing more; a draft is written, replaced or deleted only inside the page's own
write transaction, with the participant's row locked, and only for their current page.
The stored text is encrypted like text answers when FRAMELAB_TEXT_KEY is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from framelab.crypto import TextKeyError, decrypt_text, encrypt_text
from framelab.db.direct import Direct, DirectStatement
from framelab.db.drafts import PageDraft
from framelab.domain.drafts import decode_draft, encode_draft
from framelab.domain.study import Item

_D = PageDraft.__table__


def _draft_upsert(insert) -> sa.Executable:
    stmt = insert(_D).values({c.name: sa.bindparam(c.name, type_=c.type) for c in _D.c})
    return stmt.on_conflict_do_update(
        index_elements=["participant_id", "step"],
        set_={"answers": stmt.excluded.answers, "saved_at": stmt.excluded.saved_at},
    )


_UPSERT = {
    "postgresql": DirectStatement(_draft_upsert(postgresql.insert)),
    "sqlite": DirectStatement(_draft_upsert(sqlite.insert)),
}
_DELETE = DirectStatement(sa.delete(_D).where(_D.c.participant_id == sa.bindparam("pid")))
# What the participant lookup selects: the draft of their current page, if any.
DRAFT_COLUMN = _D.c.answers.label("draft")


def draft_join(participant: sa.Table) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    """The outer join that finds the draft of the participant's current page."""
    on = sa.and_(_D.c.participant_id == participant.c.id, _D.c.step == participant.c.step)
    return _D, on


def keep_draft(db: Direct, row: Any, step: str, values: Mapping[str, str], now: datetime) -> None:
    """Make `values` the draft of page `step` (none valid: no draft); `row` is locked.

    Only the participant's current page keeps a draft: a post for another page (stale,
    or raced by a submit) changes nothing. The previous draft of the page is replaced.
    """
    if row.step != step:
        return
    if values:
        params = {"participant_id": row.id, "step": step, "saved_at": now}
        params["answers"] = encrypt_text(encode_draft(values))
        db.execute(_UPSERT[db.name], params)
    elif row.draft is not None:
        db.execute(_DELETE, {"pid": row.id})


def drop_drafts(db: Direct, row: Any) -> None:
    """Delete the participant's drafts once their page is stored (no statement when none)."""
    if row.draft is not None:
        db.execute(_DELETE, {"pid": row.id})


def shown_draft(row: Any, items: Iterable[Item]) -> dict[str, str] | None:
    """The answers a draft puts back on the participant's current page, or None.

    A draft encrypted under a key this server no longer has is shown as no draft: it is
    a convenience, and the page must still be shown.
    """
    if row.draft is None:
        return None
    try:
        text = decrypt_text(row.draft)
    except TextKeyError:
        return None
    return decode_draft(text, items) or None
