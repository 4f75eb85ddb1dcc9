"""Quota cells: whether one is full, and filling it at a completion (participant hot path only).

A page whose answers fall in quota cells (framelab.domain.screening.quota_cells) checks
each cell's count of completed real participants in the transaction that moves the
participant on, and a completion raises the counts of its cells in the transaction that
completes it. Both take the cell's row with the same atomic upsert as the block counter
(framelab.services.participant_store.assignment): on PostgreSQL the row stays locked
until commit, so a check waits for a completion of the same cell in flight and then sees
it; on SQLite the write transaction already holds the writer lock. A study without
quotas runs none of these statements.

A cell is full when its completed real participants reach its limit. Whoever passed the
check before may still finish, so a cell can end over its limit by at most the number of
its participants in progress when it filled (docs/panels.md, docs/study-format.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from framelab.db.direct import Direct, DirectStatement
from framelab.db.models import Response
from framelab.db.quotas import QuotaFill
from framelab.domain.screening import quota_cells
from framelab.domain.study import Study as StudySpec


def _fill_upsert(insert, step: int) -> sa.Executable:
    stmt = insert(QuotaFill).values(
        study_id=sa.bindparam("study_id"),
        variable=sa.bindparam("variable"),
        cell=sa.bindparam("cell"),
        completed=step,
    )
    return stmt.on_conflict_do_update(
        index_elements=["study_id", "variable", "cell"],
        set_={"completed": QuotaFill.completed + step},
    ).returning(QuotaFill.completed)


# +0 reads a cell's count and locks its row (creating it at 0); +1 records a completion.
_READ = {
    "postgresql": DirectStatement(_fill_upsert(postgresql.insert, 0)),
    "sqlite": DirectStatement(_fill_upsert(sqlite.insert, 0)),
}
_ADD = {
    "postgresql": DirectStatement(_fill_upsert(postgresql.insert, 1)),
    "sqlite": DirectStatement(_fill_upsert(sqlite.insert, 1)),
}
_PRE_ANSWERS = DirectStatement(
    sa.select(Response.item_id, Response.value_int).where(
        Response.participant_id == sa.bindparam("pid"),
        Response.phase == "pre",
        Response.value_int.is_not(None),
    )
)


def quota_full(
    db: Direct, study_id: int, spec: StudySpec, cells: Iterable[tuple[str, str]]
) -> bool:
    """Whether any of `cells` (variable, cell) has reached its limit (rows locked till commit)."""
    limits = spec.quota or {}
    full = False
    for variable, cell in cells:
        params = {"study_id": study_id, "variable": variable, "cell": cell}
        done = int(db.scalar(_READ[db.name], params))
        full = full or done >= limits[variable][cell]
    return full


def fill_quotas(db: Direct, row: Any, spec: StudySpec) -> None:
    """Count a completing participant in their quota cells, if they are a real participant."""
    if row.pilot or row.rehearsal or row.duplicate:
        return
    answers = dict(db.all(_PRE_ANSWERS, {"pid": row.id}))
    for variable, cell in quota_cells(spec, answers):
        db.scalar(_ADD[db.name], {"study_id": row.study_id, "variable": variable, "cell": cell})
