"""The participant's row, their page visits and their enrolment (participant hot path only).

One statement finds the participant, their study version (the spec is cached per process
by hash), the page visit of their current step and that page's draft (participant_store
.drafts); one UPDATE sets the columns a page changes; one upsert records a page's showing
and submit (time on page); one INSERT enrols a newcomer.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from framelab.db.direct import Direct, DirectRows, DirectStatement, insert_values, row_params
from framelab.db.models import PageVisit, Participant, Study, StudyVersion
from framelab.domain.steps import aware
from framelab.services.errors import ParticipantNotFound
from framelab.services.participant_store.drafts import DRAFT_COLUMN, draft_join
from framelab.services.participant_store.studies import loaded_study
from framelab.services.study_versions import LoadedStudy

_P = Participant.__table__
_V = StudyVersion.__table__
_S = Study.__table__
_PV = PageVisit.__table__
_DRAFT, _DRAFT_ON = draft_join(_P)

# With FOR UPDATE OF participant on PostgreSQL for a submit (SQLite's BEGIN IMMEDIATE
# already holds the write lock).
_LOOKUP_SELECT = (
    sa.select(
        _P.c.id,
        _P.c.code,
        _P.c.study_id,
        _P.c.study_version_id,
        _P.c.step,
        _P.c.status,
        _P.c.arm,
        _P.c.language,
        _P.c.pilot,
        _P.c.rehearsal,
        _P.c.duplicate,
        _P.c.attention_failed,
        _P.c.started_at,
        _V.c.spec_hash,
        _V.c.version,
        _S.c.slug,
        _S.c.status.label("study_status"),
        _PV.c.shown_at,
        _PV.c.submitted_at,
        DRAFT_COLUMN,
    )
    .select_from(
        _P.join(_V, _V.c.id == _P.c.study_version_id)
        .join(_S, _S.c.id == _V.c.study_id)
        .outerjoin(_PV, sa.and_(_PV.c.participant_id == _P.c.id, _PV.c.step == _P.c.step))
        .outerjoin(_DRAFT, _DRAFT_ON)
    )
    .where(_P.c.code == sa.bindparam("code"))
)
_LOOKUP = DirectStatement(_LOOKUP_SELECT)
_LOOKUP_FOR_UPDATE = DirectStatement(_LOOKUP_SELECT.with_for_update(of=_P))
# SET columns come from the values given (compiled once per set of columns).
_UPDATE_PARTICIPANT = DirectStatement(_P.update().where(_P.c.id == sa.bindparam("_pid")))
EXISTS = DirectStatement(sa.select(_P.c.id).where(_P.c.code == sa.bindparam("code")))
PLACE_OF = DirectStatement(
    sa.select(_S.c.slug, _P.c.step)
    .select_from(_P.join(_S, _S.c.id == _P.c.study_id))
    .where(_P.c.code == sa.bindparam("code"))
)
_ENROL_INSERT = insert_values(
    _P,
    "code",
    "study_id",
    "study_version_id",
    "spec_hash",
    "panel_hash",
    "panel_study_hash",
    "panel_session_hash",
    "source",
    "channel_id",
    "language",
    "step",
    "status",
    "pilot",
    "rehearsal",
    "duplicate",
    "attention_failed",
    "speeder",
    "honeypot",
    "started_at",
)
ENROL = DirectStatement(_ENROL_INSERT)
# The same, RETURNING the new row's id, so the enrolment need not read back what it wrote
# (PostgreSQL; SQLite from 3.35, older builds read the row back).
ENROL_RETURNING = DirectStatement(_ENROL_INSERT.returning(_P.c.id))


@dataclass(frozen=True)
class Found:
    """A participant as the lookup read them, and their study version."""

    participant: Any  # the lookup's row: id, code, step, status, arm, language, ...
    loaded: LoadedStudy


def find(db: Direct, code: str, *, lock: bool) -> Found:
    """The participant with this code and their version; raises ParticipantNotFound."""
    statement = _LOOKUP_FOR_UPDATE if lock and db.name == "postgresql" else _LOOKUP
    row = db.one_or_none(statement, {"code": code})
    if row is None:
        raise ParticipantNotFound("participant: no participant with this code")
    loaded = loaded_study(
        db,
        row.study_id,
        row.slug,
        row.study_status,
        row.study_version_id,
        row.version,
        row.spec_hash,
    )
    return Found(row, loaded)


def enrol(db: Direct, row: Mapping[str, Any], loaded: LoadedStudy) -> Found:
    """Insert a participant (ENROL's values in `row`) into `loaded`, and return them as
    `find` would read them back, without reading them back where RETURNING is there."""
    if db.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        db.execute(ENROL, row)
        return find(db, str(row["code"]), lock=True)
    pid = db.scalar(ENROL_RETURNING, row)
    make = _LOOKUP.compiled(db.dialect).row
    # A newcomer has no arm, no page visit and no draft yet.
    values = dict.fromkeys(make._fields)
    values.update({k: v for k, v in row.items() if k in values})
    values.update(
        id=pid,
        spec_hash=loaded.spec_hash,
        version=loaded.version,
        slug=loaded.slug,
        study_status=loaded.status,
    )
    return Found(make(**values), loaded)


def update_participant(db: Direct, pid: int, changes: Mapping[str, object]) -> None:
    """Set the participant's columns named in `changes`."""
    db.update(_UPDATE_PARTICIPANT, changes, _pid=pid)


_VISIT_TYPES = {
    "pid": _PV.c.participant_id.type,
    "step": _PV.c.step.type,
    "shown": _PV.c.shown_at.type,
    "done": _PV.c.submitted_at.type,
    "seconds": sa.Float(),
}


def _visit_upsert(insert, rows: int) -> sa.Executable:
    # A new visit row is inserted; an existing one keeps what it has (its first showing,
    # its first submit) and only gains a submit time and seconds it did not have yet.
    c = _PV.c
    names = {"pid": "participant_id", "step": "step", "shown": "shown_at"}
    names.update(done="submitted_at", seconds="seconds")
    values = [{names[k]: v for k, v in row.items()} for row in row_params(rows, _VISIT_TYPES)]
    stmt = insert(PageVisit).values(values)
    return stmt.on_conflict_do_update(
        index_elements=["participant_id", "step"],
        set_={
            "submitted_at": sa.func.coalesce(c.submitted_at, stmt.excluded.submitted_at),
            "seconds": sa.func.coalesce(c.seconds, stmt.excluded.seconds),
        },
    )


# One statement per page (compiled once per dialect and number of visits).
VISIT_UPSERT = {
    "postgresql": DirectRows(functools.partial(_visit_upsert, postgresql.insert)),
    "sqlite": DirectRows(functools.partial(_visit_upsert, sqlite.insert)),
}


def record_shown(db: Direct, pid: int, step: str, now: datetime) -> None:
    """Record the first showing of the participant's page `step` (a later one changes nothing)."""
    shown = {"pid": pid, "step": step, "shown": now, "done": None, "seconds": None}
    db.insert_rows(VISIT_UPSERT[db.name], [shown])


def submit_visits(
    row: Any, step: str, now: datetime, *, shown_next: str | None = None
) -> list[dict[str, Any]]:
    """The `VISIT_UPSERT` rows of a submit of `step` and the first showing of `shown_next`."""
    seconds = None
    if row.shown_at is not None and row.submitted_at is None:
        seconds = max(0.0, (now - aware(row.shown_at)).total_seconds())
    # Without a recorded showing (a bot, or a form resubmitted) the visit is just the submit.
    rows = [{"pid": row.id, "step": step, "shown": now, "done": now, "seconds": seconds}]
    if shown_next is not None:
        rows.append(
            {"pid": row.id, "step": shown_next, "shown": now, "done": None, "seconds": None}
        )
    return rows
