"""Publish, version, lock and open studies.

A study row holds the status and points at its current version; every version
keeps the exact spec JSON and its content hash. Going live locks the current
version (hashes of frames, items, design and analysis plan); a locked version
that participants have seen is never changed: a changed file becomes a new
version only with `replace=True`, and not at all once non-pilot participants
have answered a locked version whose frames, items, design or plan differ.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab import clock
from framelab.db.models import STUDY_STATUSES, Participant, Study, StudyVersion
from framelab.db.session import reading, writing
from framelab.domain.study import Study as StudySpec
from framelab.domain.study import study_from_data

OPEN_STATUSES = ("pilot", "live")
# Once a study has been live its data are real: it may pause, close or reopen, never go back.
AFTER_LIVE = ("live", "paused", "closed")
LOCK_PARTS = {
    "frames": ("arms",),
    "items": ("items", "scales"),
    # Who is admitted is part of the design: the screener and the quotas (issue 21).
    "design": ("design", "screener", "quota"),
    "plan": ("analysis",),
}


class StudyNotFound(LookupError):
    """No study with this slug."""


class StudyClosed(LookupError):
    """The study exists but does not accept participants now (draft, paused, closed or full)."""

    def __init__(self, slug: str, status: str, reason: str | None = None) -> None:
        self.slug = slug
        self.status = status
        super().__init__(
            reason or f"{slug}: the study is {status} and does not accept participants"
        )


class StudyConflict(ValueError):
    """A publish or status change that would alter data participants already gave."""


@dataclass(frozen=True)
class LoadedStudy:
    """A study with the spec of one version (the current one unless said otherwise)."""

    id: int
    slug: str
    status: str
    version: int
    spec: StudySpec
    spec_hash: str
    version_id: int


def _hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lock_hashes(spec: StudySpec) -> dict[str, str]:
    """SHA-256 of each locked part of a spec: frames, items, design, plan.

    A key the spec leaves out (an optional section never set) is not hashed, so a part's
    hash is the one it had before that section existed.
    """
    data = spec.model_dump(mode="json")
    return {
        part: _hash({key: data[key] for key in keys if key in data})
        for part, keys in LOCK_PARTS.items()
    }


@lru_cache(maxsize=64)
def spec_from_json(spec_hash: str, spec_json: str) -> StudySpec:
    """The validated spec of a stored version (parsed once per process per hash)."""
    return study_from_data(json.loads(spec_json))


def _study_row(session: Session, slug: str) -> Study:
    study = session.scalar(sa.select(Study).where(Study.slug == slug))
    if study is None:
        raise StudyNotFound(f"study: no study with slug {slug!r}")
    return study


def _version_row(session: Session, study: Study, version: int | None = None) -> StudyVersion:
    number = study.current_version if version is None else version
    row = session.scalar(
        sa.select(StudyVersion).where(
            StudyVersion.study_id == study.id, StudyVersion.version == number
        )
    )
    if row is None:
        raise StudyNotFound(f"study: {study.slug} has no version {number}")
    return row


def _loaded(study: Study, version: StudyVersion) -> LoadedStudy:
    return LoadedStudy(
        id=study.id,
        slug=study.slug,
        status=study.status,
        version=version.version,
        spec=spec_from_json(version.spec_hash, version.spec_json),
        spec_hash=version.spec_hash,
        version_id=version.id,
    )


# Hot statements are built once (every participant page runs them); only parameters vary.
_CURRENT_BY_SLUG = (
    sa.select(Study, StudyVersion)
    .join(
        StudyVersion,
        sa.and_(StudyVersion.study_id == Study.id, StudyVersion.version == Study.current_version),
    )
    .where(Study.slug == sa.bindparam("slug"))
)


# Every participant page needs its version's spec: read the small columns with Core
# (no ORM objects) and fetch the spec JSON only the first time a hash is seen.
_VERSION_HEAD = (
    sa.select(
        StudyVersion.spec_hash,
        StudyVersion.version,
        Study.id,
        Study.slug,
        Study.status,
    )
    .join(Study, Study.id == StudyVersion.study_id)
    .where(StudyVersion.id == sa.bindparam("version_id"))
)
VERSION_JSON = sa.select(StudyVersion.spec_json).where(
    StudyVersion.id == sa.bindparam("version_id")
)
_SPECS_BY_HASH: dict[str, StudySpec] = {}


def loaded_version(session: Session, version_id: int) -> LoadedStudy:
    """A study with the spec of one particular version (the one a participant saw)."""
    connection = session.connection()
    row = connection.execute(_VERSION_HEAD, {"version_id": version_id}).one_or_none()
    if row is None:
        raise StudyNotFound(f"study_version: no version with id {version_id}")
    spec_hash, version, study_id, slug, status = row
    return LoadedStudy(
        id=study_id,
        slug=slug,
        status=status,
        version=version,
        spec=version_spec(session, version_id, spec_hash),
        spec_hash=spec_hash,
        version_id=version_id,
    )


def version_spec(session: Session, version_id: int, spec_hash: str) -> StudySpec:
    """The validated spec of a stored version, parsed once per process.

    A version's spec is immutable and named by its content hash, so the parsed spec is
    kept per process; the spec JSON is read only the first time a hash is seen.
    """
    return spec_by_hash(
        spec_hash, version_id, lambda: session.scalar(VERSION_JSON, {"version_id": version_id})
    )


def spec_by_hash(spec_hash: str, version_id: int, read_json: Callable[[], str | None]) -> StudySpec:
    """The spec named `spec_hash` from the per-process cache, else parsed from `read_json()`.

    The participant hot path reads the JSON on its own connection
    (framelab.services.participant_store); everything else through `version_spec`.
    """
    spec = _SPECS_BY_HASH.get(spec_hash)
    if spec is None:
        text = read_json()
        if text is None:
            raise StudyNotFound(f"study_version: no version with id {version_id}")
        spec = spec_from_json(spec_hash, text)
        if len(_SPECS_BY_HASH) < 256:  # a content hash names one spec forever
            _SPECS_BY_HASH[spec_hash] = spec
    return spec


def _check_transition(slug: str, old: str, new: str, *, was_live: bool) -> None:
    if new not in STUDY_STATUSES:
        raise ValueError(
            f"status: {new!r} is not a study status (expected one of: {', '.join(STUDY_STATUSES)})"
        )
    if was_live and new not in AFTER_LIVE:
        raise StudyConflict(
            f"status: {slug} has been live, so it can only be {', '.join(AFTER_LIVE)} (not {new}); it is {old}"
        )


def _lock(version: StudyVersion, spec: StudySpec, now: datetime) -> None:
    if version.locked_at is not None:
        return
    hashes = lock_hashes(spec)
    version.locked_at = now
    version.frames_hash = hashes["frames"]
    version.items_hash = hashes["items"]
    version.design_hash = hashes["design"]
    if version.plan_hash != hashes["plan"] or version.plan_locked_at is None:
        # a plan locked earlier keeps its own (earlier) lock time
        version.plan_hash = hashes["plan"]
        version.plan_locked_at = now


def _has_real_participants(session: Session, version: StudyVersion) -> bool:
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(Participant)
        .where(
            Participant.study_version_id == version.id,
            Participant.pilot.is_(False),
            Participant.rehearsal.is_(False),
        )
    )
    return bool(count)


def publish_study(
    session: Session,
    spec: StudySpec,
    *,
    status: str = "draft",
    replace: bool = False,
    now: datetime | None = None,
) -> StudyVersion:
    """Store `spec` as a study (or a new version of one) with `status`; idempotent for an unchanged spec."""
    now = now or clock.now()
    spec_hash = spec.content_hash()
    title = spec.text(spec.title, spec.default_language)
    with writing(session):
        study = session.scalar(sa.select(Study).where(Study.slug == spec.slug))
        if study is None:
            _check_transition(spec.slug, "new", status, was_live=False)
            study = Study(
                slug=spec.slug, title=title, status=status, created_at=now, updated_at=now
            )
            session.add(study)
            session.flush()
            version = add_version(session, study, spec, spec_hash, 1, now)
        else:
            was_live = _was_live(session, study)
            _check_transition(spec.slug, study.status, status, was_live=was_live)
            version = _version_row(session, study)
            if version.spec_hash != spec_hash:
                version = _replace_version(session, study, version, spec, spec_hash, replace, now)
            study.title = title
            study.status = status
            study.updated_at = now
        if status == "live":
            _lock(version, spec, now)
    return version


def _was_live(session: Session, study: Study) -> bool:
    if study.status in AFTER_LIVE:
        return True
    locked = session.scalar(
        sa.select(sa.func.count())
        .select_from(StudyVersion)
        .where(StudyVersion.study_id == study.id, StudyVersion.locked_at.is_not(None))
    )
    return bool(locked)


def add_version(
    session: Session, study: Study, spec: StudySpec, spec_hash: str, number: int, now: datetime
) -> StudyVersion:
    """Store `spec` as version `number` of `study` and make it the current one (no commit)."""
    version = StudyVersion(
        study_id=study.id,
        version=number,
        # Key order kept (not the sorted canonical form): strata and factors are listed in
        # the author's order; the hash is still taken of the canonical form.
        spec_json=json.dumps(spec.model_dump(mode="json"), ensure_ascii=False),
        spec_hash=spec_hash,
        created_at=now,
    )
    session.add(version)
    study.current_version = number
    session.flush()
    return version


def _replace_version(
    session: Session,
    study: Study,
    current: StudyVersion,
    spec: StudySpec,
    spec_hash: str,
    replace: bool,
    now: datetime,
) -> StudyVersion:
    if not replace:
        raise StudyConflict(
            f"{study.slug}: a different version {current.version} is already stored "
            f"(spec_hash {current.spec_hash[:12]}); use --replace to publish this file as a new version"
        )
    if current.locked_at is not None and _has_real_participants(session, current):
        new_hashes = lock_hashes(spec)
        old_hashes = {
            "frames": current.frames_hash,
            "items": current.items_hash,
            "design": current.design_hash,
            "plan": current.plan_hash,
        }
        changed = [part for part in LOCK_PARTS if new_hashes[part] != old_hashes[part]]
        if changed:
            raise StudyConflict(
                f"{study.slug}: version {current.version} is locked and participants have answered it; "
                f"this file changes its {', '.join(changed)} (start a new study instead)"
            )
    return add_version(session, study, spec, spec_hash, current.version + 1, now)


def get_study(session: Session, slug: str) -> LoadedStudy:
    """The study `slug` with its current version's spec; raises StudyNotFound."""
    with reading(session):
        row = session.execute(_CURRENT_BY_SLUG, {"slug": slug}).one_or_none()
        if row is None:
            _study_row(session, slug)  # raises StudyNotFound for an unknown slug
            raise StudyNotFound(f"study: {slug} has no published version")
        return _loaded(row[0], row[1])


def list_studies(session: Session) -> list[LoadedStudy]:
    """Every study with its current version, by slug."""
    with reading(session):
        studies = session.scalars(sa.select(Study).order_by(Study.slug)).all()
        return [
            _loaded(s, _version_row(session, s)) for s in studies if s.current_version is not None
        ]


def set_status(session: Session, slug: str, status: str, *, now: datetime) -> LoadedStudy:
    """Change a study's status; going live locks the current version."""
    with writing(session):
        study = _study_row(session, slug)
        _check_transition(slug, study.status, status, was_live=_was_live(session, study))
        version = _version_row(session, study)
        study.status = status
        study.updated_at = now
        if status == "live":
            _lock(version, spec_from_json(version.spec_hash, version.spec_json), now)
        return _loaded(study, version)
