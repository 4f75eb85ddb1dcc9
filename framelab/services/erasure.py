"""Erase a study's participant data, and keep it no longer than the study's retention period.

`erase_studies` removes, in one transaction per study, every row about a participant:
answers, page visits, the assignment log and its counters, duplicate assignments,
the participant rows themselves (codes, panel pseudonyms, flags, timestamps) and any
other row that references a participant. What remains is a tombstone:

- the study row, closed and marked `erased_at`, with its versions (the study file:
  texts, design and plan, no participant data), its members and reviews;
- the audit trail, with a new "erased" event that gives the counts removed (how many
  participants, completed, withdrawn, answers, assignments...) and nothing per person.

The assignment log is append-only in the database (a trigger refuses UPDATE and
DELETE; migration s009). Erasure is the one exception: inside its transaction it
writes the study's id to `assignment_log_erasure`, which the trigger reads to let that
study's rows be deleted, and removes it again before committing, so no other
transaction ever sees the marker.

Export files: studio downloads went to someone's browser and cannot be reached from
here; the audit trail says who downloaded what, when (`downloads`). Files that
`framelab export` wrote on this machine were recorded with their SHA-256; the CLI
deletes each one that is still there with exactly that content (`recorded_export_files`).

`expired_studies` finds the studies whose retention period (`privacy.retention_days`
of the current version) has run out: closed, not yet erased, and closed (last changed)
at least that many days before `now`. `framelab purge-expired` erases them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db import full_metadata
from framelab.db.models import (
    AssignmentLog,
    AssignmentLogErasure,
    Participant,
    Study,
)
from framelab.db.reach import Recipient, RecipientList
from framelab.db.review import AuditEvent
from framelab.db.session import reading, writing
from framelab.services import audit
from framelab.services.study_versions import StudyNotFound, get_study, list_studies

__all__ = [
    "ErasureError",
    "RecordedExport",
    "Tombstone",
    "campaign_studies",
    "check_erasable",
    "delete_recorded_file",
    "downloads",
    "erase_studies",
    "expired_studies",
    "export_record",
    "recorded_export_files",
]

# Counters of a study's sequences: they restart with the data.
STUDY_COUNTER_TABLES = ("block_state", "duplicate_counter", "quota_fill")
_RECORD = re.compile(r"^wrote (?P<path>.+) \((?P<what>[^()]*)\) sha256=(?P<digest>[0-9a-f]{64})$")


class ErasureError(ValueError):
    """An erasure that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class Tombstone:
    """What an erasure removed from one study (counts only)."""

    study_id: int
    slug: str
    erased_at: datetime
    counts: dict[str, int]

    @property
    def detail(self) -> str:
        return json.dumps(self.counts, sort_keys=True)


@dataclass(frozen=True)
class RecordedExport:
    """An export file `framelab export` wrote, as the audit trail recorded it."""

    path: Path
    what: str
    digest: str


def export_record(path: Path, what: str) -> str:
    """The audit trail's detail for a file written by `framelab export` (path, kind, SHA-256)."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"wrote {Path(path).resolve()} ({what}) sha256={digest}"


def campaign_studies(session: Session, slug: str) -> list[Study]:
    """The study `slug` and, when it is a campaign's first study, every later version."""
    with reading(session):
        study = session.scalar(sa.select(Study).where(Study.slug == slug))
        if study is None:
            raise StudyNotFound(f"study: no study with slug {slug!r}")
        if study.campaign_id is not None:
            return [study]
        versions = session.scalars(
            sa.select(Study).where(Study.campaign_id == study.id).order_by(Study.id)
        ).all()
        return [study, *versions]


def _participant_tables() -> list[tuple[sa.Table, sa.Column]]:
    """Every table with a column referencing participant.id (dependent rows of a person)."""
    found = []
    for table in full_metadata().sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "participant" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _count_people(session: Session, study_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(Participant.status, sa.func.count())
        .where(Participant.study_id == study_id)
        .group_by(Participant.status)
    ).all()
    by_status = {status: int(n) for status, n in rows}
    return {
        "participants": sum(by_status.values()),
        **{f"status_{status}": n for status, n in sorted(by_status.items())},
    }


def _erase_one(session: Session, study: Study, *, now: datetime, reason: str) -> Tombstone:
    counts = _count_people(session, study.id)
    people = sa.select(Participant.id).where(Participant.study_id == study.id).scalar_subquery()
    for table, column in _participant_tables():
        removed = session.execute(sa.delete(table).where(column.in_(people))).rowcount
        counts[table.name] = int(removed or 0)
    if study.campaign_id is None:  # a campaign's first study holds its invitation lists
        for model in (Recipient, RecipientList):
            removed = session.execute(sa.delete(model).where(model.study_id == study.id)).rowcount
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + int(removed or 0)
    # The log names nobody (migration s010): it goes by study, and the trigger lets this
    # study's rows go only while the marker is there.
    session.add(AssignmentLogErasure(study_id=study.id))
    session.flush()
    removed = session.execute(
        sa.delete(AssignmentLog).where(AssignmentLog.study_id == study.id)
    ).rowcount
    counts[AssignmentLog.__tablename__] = int(removed or 0)
    session.execute(
        sa.delete(AssignmentLogErasure).where(AssignmentLogErasure.study_id == study.id)
    )
    tables = full_metadata().tables
    for name in STUDY_COUNTER_TABLES:
        if name in tables:
            session.execute(sa.delete(tables[name]).where(tables[name].c.study_id == study.id))
    counts["participant"] = int(
        session.execute(sa.delete(Participant).where(Participant.study_id == study.id)).rowcount
        or 0
    )
    study.status = "closed"
    study.erased_at = now
    study.updated_at = now
    tombstone = Tombstone(study.id, study.slug, now, counts)
    audit.record(
        session, study.id, "erased", now=now, detail=f"{reason}: removed {tombstone.detail}"
    )
    return tombstone


def erase_studies(
    session: Session, studies: list[Study], *, now: datetime, reason: str
) -> list[Tombstone]:
    """Erase the participant data of `studies`, each in its own transaction; their tombstones.

    `reason` heads the audit event ("erase-study", "purge-expired (retention 180 days)").
    """
    tombstones = []
    for study in studies:
        with writing(session):
            tombstones.append(_erase_one(session, study, now=now, reason=reason))
    return tombstones


def expired_studies(session: Session, *, now: datetime) -> list[tuple[Study, int]]:
    """(study, retention days) of every closed, unerased study whose retention has run out.

    A study's retention is its current version's `privacy.retention_days`, counted from
    when it was closed (its last change of state).
    """
    expired = []
    with reading(session):
        unerased = session.scalars(sa.select(Study).where(Study.erased_at.is_(None)))
        rows = {s.id: s for s in unerased}
        for loaded in list_studies(session):
            study = rows.get(loaded.id)
            days = loaded.spec.retention_days
            if study is None or days is None or study.status != "closed":
                continue
            if study.updated_at + timedelta(days=days) <= now:
                expired.append((study, days))
    return expired


def downloads(session: Session, study_ids: list[int]) -> list[Any]:
    """Every "exported" event of these studies (who downloaded or exported what, when)."""
    return [e for e in audit.trail(session, study_ids) if e.action == "exported"]


def recorded_export_files(session: Session, study_ids: list[int]) -> list[RecordedExport]:
    """The files `framelab export` recorded writing for these studies (path, kind, SHA-256)."""
    with reading(session):
        details = session.scalars(
            sa.select(AuditEvent.detail).where(
                AuditEvent.study_id.in_(study_ids), AuditEvent.action == "exported"
            )
        ).all()
    found = []
    for detail in details:
        match = _RECORD.match(detail or "")
        if match:
            found.append(RecordedExport(Path(match["path"]), match["what"], match["digest"]))
    return found


def delete_recorded_file(record: RecordedExport) -> str:
    """Delete one recorded export file if it is still there with the recorded content.

    Returns what happened ("deleted", "gone", "changed: kept"): a file whose content
    differs from what framelab wrote is not framelab's to delete.
    """
    path = record.path
    if not path.is_file() or path.is_symlink():
        return "gone"
    if hashlib.sha256(path.read_bytes()).hexdigest() != record.digest:
        return "changed since it was written: kept"
    path.unlink()
    return "deleted"


def check_erasable(session: Session, slug: str, confirm: str | None) -> list[Study]:
    """The studies `erase-study slug` would erase; ErasureError unless `confirm` is the slug."""
    with reading(session):
        studies = campaign_studies(session, slug)
        get_study(session, slug)  # a study with a published version (StudyNotFound otherwise)
    if confirm != slug:
        raise ErasureError(
            f"confirm: erasing cannot be undone; repeat the study's slug to confirm "
            f"(--confirm {slug})"
        )
    return studies
