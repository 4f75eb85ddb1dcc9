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

ANSWER_TYPES = {
    name: Response.__table__.c[name].type
    for name in ("participant_id", "item_id", "phase", "value_int", "value_text", "answered_at")
}


def _answer_upsert(insert, rows: int) -> sa.Executable:
    stmt = insert(Response).values(row_params(rows, ANSWER_TYPES))
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
ANSWER_UPSERT = {
    "postgresql": DirectRows(functools.partial(_answer_upsert, postgresql.insert)),
    "sqlite": DirectRows(functools.partial(_answer_upsert, sqlite.insert)),
}


def _delete_skipped(rows: int) -> sa.Executable:
    # A page's skipped optional items are one DELETE (parameters skip_item_0 ... _<n-1>;
    # named apart from the other statements of a page's writes, page_writes).
    return sa.delete(Response).where(
        Response.participant_id == sa.bindparam("skip_pid_0"),
        Response.phase == sa.bindparam("skip_phase_0"),
        Response.item_id.in_([sa.bindparam(f"skip_item_{i}") for i in range(rows)]),
    )


DELETE_SKIPPED = DirectRows(_delete_skipped)
_STORED_TEXTS = DirectStatement(
    sa.select(Response.item_id, Response.value_text).where(
        Response.participant_id == sa.bindparam("pid"),
        Response.phase == sa.bindparam("phase"),
        Response.value_text.is_not(None),
    )
)


def answer_rows(
    db: Direct,
    participant_id: int,
    phase: str,
    values: Mapping[str, Answer | None],
    *,
    items: Iterable[Item],
    now: datetime,
) -> tuple[list[dict], list[dict], bool]:
    """For checked values: the rows of `ANSWER_UPSERT`, the rows of `DELETE_SKIPPED` (the
    earlier answers of skipped optional items, None) and whether an attention check failed.

    The caller writes them with the page's other writes (page_writes.write_page).
    """
    if phase not in PHASES:
        raise ValueError(f"phase: expected one of {', '.join(PHASES)}, got {phase!r}")
    by_id = {item.id: item for item in items}
    rows = []
    skipped = []
    failed = False
    for item_id, value in values.items():
        item = by_id[item_id]
        if not item.in_phase(phase):
            raise ValueError(
                f"{item_id}: this item is not asked in phase {phase!r} (phases: {', '.join(item.phase)})"
            )
        if value is None:
            skipped.append({"skip_pid": participant_id, "skip_phase": phase, "skip_item": item_id})
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
    return _drop_unchanged_texts(db, participant_id, phase, rows, values), skipped, failed


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
