"""A page's answers as one upsert (participant hot path only; all of them or none).

Rows are upserted on (participant, item, phase), so replaying the same page never makes
duplicate rows; an unchanged answer keeps its original `answered_at`. Reading answers
back is framelab.services.responses (through the Session).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from framelab.crypto import decrypt_text, encrypt_text, is_encrypted
from framelab.db.direct import Direct, DirectRows, DirectStatement, row_params
from framelab.db.models import PHASES, Response
from framelab.domain.steps import Answer
from framelab.domain.study import Item

_ANSWER_TYPES = {
    name: Response.__table__.c[name].type
    for name in ("participant_id", "item_id", "phase", "value_int", "value_text", "answered_at")
}


def _answer_upsert(insert, rows: int) -> sa.Executable:
    stmt = insert(Response).values(row_params(rows, _ANSWER_TYPES))
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["participant_id", "item_id", "phase"],
        set_={
            "value_int": excluded.value_int,
            "value_text": excluded.value_text,
            "answered_at": excluded.answered_at,
        },
        # A replay of the same answer is a no-op, so answered_at keeps the first save.
        where=sa.or_(
            Response.value_int.is_distinct_from(excluded.value_int),
            Response.value_text.is_distinct_from(excluded.value_text),
        ),
    )


# A page's answers are one statement (compiled once per dialect and number of answers).
_ANSWER_UPSERT = {
    "postgresql": DirectRows(functools.partial(_answer_upsert, postgresql.insert)),
    "sqlite": DirectRows(functools.partial(_answer_upsert, sqlite.insert)),
}
_DELETE_ANSWER = DirectStatement(
    sa.delete(Response).where(
        Response.participant_id == sa.bindparam("pid"),
        Response.item_id == sa.bindparam("item"),
        Response.phase == sa.bindparam("phase"),
    )
)
_STORED_TEXTS = DirectStatement(
    sa.select(Response.item_id, Response.value_text).where(
        Response.participant_id == sa.bindparam("pid"),
        Response.phase == sa.bindparam("phase"),
        Response.value_text.is_not(None),
    )
)


def write_answers(
    db: Direct,
    participant_id: int,
    phase: str,
    values: Mapping[str, Answer | None],
    *,
    items: Iterable[Item],
    now: datetime,
) -> bool:
    """Upsert checked values (no commit); True when an attention check failed.

    A skipped optional item (None) deletes an earlier answer to it.
    """
    if phase not in PHASES:
        raise ValueError(f"phase: expected one of {', '.join(PHASES)}, got {phase!r}")
    by_id = {item.id: item for item in items}
    rows = []
    failed = False
    for item_id, value in values.items():
        item = by_id[item_id]
        if not item.in_phase(phase):
            raise ValueError(
                f"{item_id}: this item is not asked in phase {phase!r} (phases: {', '.join(item.phase)})"
            )
        if value is None:
            db.execute(_DELETE_ANSWER, {"pid": participant_id, "item": item_id, "phase": phase})
            continue
        rows.append(
            {
                "participant_id": participant_id,
                "item_id": item_id,
                "phase": phase,
                "value_int": value if isinstance(value, int) else None,
                # Encrypted at rest when FRAMELAB_TEXT_KEY is set (framelab.crypto).
                "value_text": encrypt_text(value) if isinstance(value, str) else None,
                "answered_at": now,
            }
        )
        if item.role == "attention_check" and value != item.correct:
            failed = True
    rows = _drop_unchanged_texts(db, participant_id, phase, rows, values)
    if rows:
        # One statement for the page: one execution for the database, no ORM bookkeeping.
        db.insert_rows(_ANSWER_UPSERT[db.name], rows)
    return failed


def _drop_unchanged_texts(
    db: Direct, participant_id: int, phase: str, rows: list[dict], values: Mapping
) -> list[dict]:
    # Encrypted text differs on every save (Fernet is randomized), so the upsert's
    # "unchanged" test cannot see a replayed comment; compare the plain text here.
    text_ids = [r["item_id"] for r in rows if is_encrypted(r["value_text"])]
    if not text_ids:
        return rows
    stored = db.all(_STORED_TEXTS, {"pid": participant_id, "phase": phase})
    unchanged = {
        item_id
        for item_id, text in stored
        if item_id in text_ids and decrypt_text(text) == values[item_id]
    }
    return [r for r in rows if r["item_id"] not in unchanged]
