"""Validate and record answers: all of a page's answers are stored, or none.

Each raw value goes through the item's own `validate_value` (the domain owns
answer rules, so the participant pages and the studio preview agree). Rows are
upserted on (participant, item, phase), so replaying the same page never makes
duplicate rows; an unchanged answer keeps its original `answered_at`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from framelab.crypto import decrypt_text, encrypt_text, is_encrypted
from framelab.db.direct import Direct, DirectRows, DirectStatement, in_session, row_params
from framelab.db.models import PHASES, Participant, Response
from framelab.domain.study import Item, ValueProblem
from framelab.services.errors import ParticipantNotFound

Answer = int | str


class AnswerError(ValueError):
    """Some answers were rejected; `.errors` maps item id to its ValueProblem. Nothing was stored."""

    def __init__(self, errors: Mapping[str, ValueProblem]) -> None:
        self.errors: dict[str, ValueProblem] = dict(errors)
        super().__init__("; ".join(f"{item}: {p.message}" for item, p in self.errors.items()))


def validate_answers(items: Iterable[Item], answers: Mapping[str, str]) -> dict[str, Answer | None]:
    """Every item's stored value (None for a skipped optional item); raises AnswerError."""
    values: dict[str, Answer | None] = {}
    errors: dict[str, ValueProblem] = {}
    for item in items:
        try:
            values[item.id] = item.validate_value(answers.get(item.id))
        except ValueProblem as problem:
            errors[item.id] = problem
    if errors:
        raise AnswerError(errors)
    return values


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


def store_answers(
    session: Session,
    participant: Participant,
    phase: str,
    values: Mapping[str, Answer | None],
    *,
    items: Iterable[Item],
    now: datetime,
) -> None:
    """Upsert validated values and flag failed attention checks; no commit (callers own it)."""
    if write_answers(in_session(session), participant.id, phase, values, items=items, now=now):
        participant.attention_failed = True


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
    connection: Direct,
    participant_id: int,
    phase: str,
    values: Mapping[str, Answer | None],
    *,
    items: Iterable[Item],
    now: datetime,
) -> bool:
    """Upsert validated values (Core, no commit); True when an attention check failed."""
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
            connection.execute(
                _DELETE_ANSWER, {"pid": participant_id, "item": item_id, "phase": phase}
            )
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
    rows = _drop_unchanged_texts(connection, participant_id, phase, rows, values)
    if rows:
        # One statement for the page: one execution for the database, no ORM bookkeeping.
        connection.insert_rows(_ANSWER_UPSERT[connection.name], rows)
    return failed


def _drop_unchanged_texts(
    connection: Direct, participant_id: int, phase: str, rows: list[dict], values: Mapping
) -> list[dict]:
    # Encrypted text differs on every save (Fernet is randomized), so the upsert's
    # "unchanged" test cannot see a replayed comment; compare the plain text here.
    text_ids = [r["item_id"] for r in rows if is_encrypted(r["value_text"])]
    if not text_ids:
        return rows
    stored = connection.all(_STORED_TEXTS, {"pid": participant_id, "phase": phase})
    unchanged = {
        item_id
        for item_id, text in stored
        if item_id in text_ids and decrypt_text(text) == values[item_id]
    }
    return [r for r in rows if r["item_id"] not in unchanged]


def record_answers(
    session: Session,
    participant_id: int,
    phase: str,
    answers: Mapping[str, str],
    *,
    items: Iterable[Item],
    now: datetime,
) -> dict[str, Answer]:
    """Validate and store one page's answers in one transaction; raises AnswerError storing nothing."""
    items = list(items)
    values = validate_answers(items, answers)
    try:
        participant = session.get(Participant, participant_id)
        if participant is None:
            raise ParticipantNotFound(f"participant: no participant with id {participant_id}")
        store_answers(session, participant, phase, values, items=items, now=now)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return {k: v for k, v in values.items() if v is not None}


def stored_answers(
    session: Session, participant_id: int, phase: str | None = None
) -> dict[str, Answer]:
    """A participant's stored answers by item id (of one phase, or `phase:item` keys for all)."""
    query = sa.select(Response).where(Response.participant_id == participant_id)
    if phase is not None:
        query = query.where(Response.phase == phase)
    out: dict[str, Answer] = {}
    for row in session.scalars(query):
        key = row.item_id if phase is not None else f"{row.phase}:{row.item_id}"
        text = decrypt_text(row.value_text)  # framelab.crypto
        out[key] = row.value_int if row.value_int is not None else (text or "")
    return out
