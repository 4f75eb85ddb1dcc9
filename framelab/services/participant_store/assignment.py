"""Assign a participant: the next slot of their stratum, logged (participant hot path only).

Assignment takes the next position of the participant's stratum from the persistent
counter (`block_state`) and derives the arm with the domain's pure function of (seed,
stratum, position), so the assignment log can be replayed. The counter row is locked
for the length of the transaction: on SQLite the write transaction holds the writer
lock (BEGIN IMMEDIATE), on PostgreSQL the atomic upsert locks the row (created
race-free with ON CONFLICT). Two arrivals can never take the same slot or skip one.

A duplicate (a repeat panel id in the campaign, framelab.services.enrolment) is
assigned outside the block sequences: a weighted draw from its position among the
study's duplicates (`duplicate_counter`, `duplicate_assignment`), taken with the same
two statements as a real assignment. The assignment log therefore replays as if no
duplicate had come, and neither the pages nor the work behind them differ for one.

Neither the assignment log nor a duplicate's assignment row holds a time, and the log
names no participant (migration s010): the participant's row is the one place that ties
a person to a stratum and a time, and a withdrawal erases both there.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from framelab.db.direct import Direct, DirectStatement, insert_values
from framelab.db.models import (
    AssignmentLog,
    BlockState,
    DuplicateAssignment,
    DuplicateCounter,
    Response,
)
from framelab.domain.assignment import arm_for_slot, simple_draw
from framelab.domain.study import Study as StudySpec

# The draw of a duplicate's arm is keyed by this name instead of a stratum's.
DUPLICATE_SEQUENCE = "~duplicate"


class AssignmentError(ValueError):
    """The participant cannot be assigned yet (e.g. the blocking item is unanswered)."""


def _counter_upsert(insert) -> sa.Executable:
    stmt = insert(BlockState).values(
        study_id=sa.bindparam("study_id"), stratum=sa.bindparam("stratum"), next_position=1
    )
    return stmt.on_conflict_do_update(
        index_elements=["study_id", "stratum"],
        set_={"next_position": BlockState.next_position + 1},
    ).returning(BlockState.next_position)


def _duplicate_counter_upsert(insert) -> sa.Executable:
    stmt = insert(DuplicateCounter).values(study_id=sa.bindparam("study_id"), next_position=1)
    return stmt.on_conflict_do_update(
        index_elements=["study_id"],
        set_={"next_position": DuplicateCounter.next_position + 1},
    ).returning(DuplicateCounter.next_position)


# One atomic upsert creates the counter or bumps it; the row stays locked until commit
# (PostgreSQL row lock; SQLite already holds the write lock).
_COUNTER_UPSERT = {
    "postgresql": DirectStatement(_counter_upsert(postgresql.insert)),
    "sqlite": DirectStatement(_counter_upsert(sqlite.insert)),
}
_DUPLICATE_COUNTER_UPSERT = {
    "postgresql": DirectStatement(_duplicate_counter_upsert(postgresql.insert)),
    "sqlite": DirectStatement(_duplicate_counter_upsert(sqlite.insert)),
}
_LOG_INSERT = DirectStatement(
    insert_values(
        AssignmentLog.__table__,
        "study_id",
        "arm",
        "stratum",
        "position",
        "block_index",
        "position_in_block",
        "seed",
        "spec_hash",
        "pilot",
        "rehearsal",
    )
)
_DUPLICATE_INSERT = DirectStatement(
    insert_values(
        DuplicateAssignment.__table__,
        "participant_id",
        "study_id",
        "arm",
        "position",
        "seed",
        "spec_hash",
    )
)
_BLOCK_ANSWER = DirectStatement(
    sa.select(Response.value_int).where(
        Response.participant_id == sa.bindparam("pid"),
        Response.item_id == sa.bindparam("item"),
        Response.phase == "pre",
    )
)
_NO_ANSWER = object()


def assign_participant(
    db: Direct,
    *,
    participant_id: int,
    study_id: int,
    spec: StudySpec,
    spec_hash: str,
    now: datetime,
    block_value: object = _NO_ANSWER,
    duplicate: bool = False,
    pilot: bool = False,
    rehearsal: bool = False,
) -> dict[str, object]:
    """Take the next slot of the participant's stratum and log it (no commit).

    The log row names neither the participant nor the time (`pilot` and `rehearsal`
    only mark the slot); the participant's own row keeps arm, stratum and time, and a
    withdrawal erases the stratum and the time there with nothing left to join back.

    Returns the participant columns to set (arm, stratum, assigned_at, status); the caller
    writes them in its own UPDATE. `block_value` is the blocking item's stored answer
    when the caller has it at hand (it was just submitted), saving a read. A
    `duplicate` takes the next position among the study's duplicates instead, and its
    arm is a weighted draw for that position: the block sequences and their log never
    see it.
    """
    block_by = spec.design.block_by if spec.design.scheme == "blocked" else None
    if block_by is None:
        stratum = spec.stratum_for(None)
    else:
        value = (
            db.scalar(_BLOCK_ANSWER, {"pid": participant_id, "item": block_by})
            if block_value is _NO_ANSWER
            else block_value
        )
        if value is None:
            raise AssignmentError(
                f"{block_by}: the blocking item must be answered before assignment"
            )
        stratum = spec.stratum_for(value)
    assigned = {"stratum": stratum, "assigned_at": now, "status": "assigned"}
    if duplicate:
        position = int(db.scalar(_DUPLICATE_COUNTER_UPSERT[db.name], {"study_id": study_id})) - 1
        arm = simple_draw(spec, spec.design.seed, DUPLICATE_SEQUENCE, position)
        db.execute(
            _DUPLICATE_INSERT,
            {
                "participant_id": participant_id,
                "study_id": study_id,
                "arm": arm,
                "position": position,
                "seed": spec.design.seed,
                "spec_hash": spec_hash,
            },
        )
        return {"arm": arm, **assigned}
    counter = _COUNTER_UPSERT[db.name]
    position = int(db.scalar(counter, {"study_id": study_id, "stratum": stratum})) - 1
    slot = arm_for_slot(spec, stratum, position)
    db.execute(
        _LOG_INSERT,
        {
            "study_id": study_id,
            "arm": slot.arm,
            "stratum": stratum,
            "position": position,
            "block_index": slot.block_index,
            "position_in_block": slot.position_in_block,
            "seed": spec.design.seed,
            "spec_hash": spec_hash,
            "pilot": bool(pilot),
            "rehearsal": bool(rehearsal),
        },
    )
    return {"arm": slot.arm, **assigned}
