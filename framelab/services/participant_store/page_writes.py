"""A page's writes as one statement on PostgreSQL (participant hot path only).

Submitting a page changes the participant's row (their step, and what the page sets),
upserts the page's answers and records the page's submit and the next page's showing.
On PostgreSQL these are one UPDATE whose WITH clause holds the two upserts
(data-modifying CTEs): one statement for the server to parse and run instead of three.
They touch different tables, so running them together changes nothing but the count.
On SQLite (no INSERT in WITH; statements cost no round trip there) they stay three
statements in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from framelab.db.direct import Direct, DirectStatement
from framelab.db.models import Participant
from framelab.services.participant_store.answers import ANSWER_UPSERT, DELETE_SKIPPED
from framelab.services.participant_store.rows import VISIT_UPSERT, update_participant

_P = Participant.__table__
# Compiled once per number of answers and of visits (and, inside, per SET columns).
_COMBINED: dict[tuple[int, int, int], DirectStatement] = {}


def _combined(answers: int, visits: int, skipped: int) -> DirectStatement:
    found = _COMBINED.get((answers, visits, skipped))
    if found is None:
        statement = _P.update().where(_P.c.id == sa.bindparam("_pid"))
        if skipped:
            statement = statement.add_cte(DELETE_SKIPPED.build(skipped).cte("page_skipped"))
        if answers:
            upsert = ANSWER_UPSERT["postgresql"].build(answers)
            statement = statement.add_cte(upsert.cte("page_answers"))
        if visits:
            upsert = VISIT_UPSERT["postgresql"].build(visits)
            statement = statement.add_cte(upsert.cte("page_visits"))
        found = _COMBINED[(answers, visits, skipped)] = DirectStatement(statement)
    return found


def _flat(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {f"{k}_{i}": v for i, row in enumerate(rows) for k, v in row.items()}


def write_page(
    db: Direct,
    pid: int,
    changes: Mapping[str, object],
    *,
    answers: Sequence[Mapping[str, Any]] = (),
    visits: Sequence[Mapping[str, Any]] = (),
    skipped: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Set the participant's `changes`, upsert `answers` (answers.answer_rows) and
    `visits` (rows.submit_visits), and delete the earlier answers of `skipped` items
    (answers.answer_rows): one statement on PostgreSQL."""
    if db.name != "postgresql" or not changes:
        if skipped:
            db.insert_rows(DELETE_SKIPPED, skipped)
        if answers:
            db.insert_rows(ANSWER_UPSERT[db.name], answers)
        update_participant(db, pid, changes)
        if visits:
            db.insert_rows(VISIT_UPSERT[db.name], visits)
        return
    # Answer and visit parameters are named <column>_<i>, never a participant column.
    db.update(
        _combined(len(answers), len(visits), len(skipped)),
        changes,
        _pid=pid,
        **_flat(answers),
        **_flat(visits),
        **_flat(skipped),
    )
