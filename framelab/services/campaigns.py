"""Campaigns: the versions of one study behind one set of public links (DECISIONS rule 1).

The campaign is its first study's slug. A new version is a study row of its own (own
status, lock, plan, assignment log and data) whose `campaign_id` names the first
study; the first study's `receiving_study_id` names the one version that receives
new participants on the campaign's links. Arriving at any version's address enrols
into the receiving version (a version in pilot is reached at its own address, for its
pilot participants only); a participant stays on the version they consented to.
Switching the receiving version is an owner's confirmed action, recorded in the audit
trail. Duplicate panel ids are one namespace across the campaign: every version
shares the first study's salt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from framelab.db.models import Study
from framelab.db.session import reading, writing
from framelab.domain.study import StudyError
from framelab.services import audit

MAX_SLUG = 64


class CampaignError(ValueError):
    """A campaign action that is not possible now; the message says why."""


@dataclass(frozen=True)
class Entry:
    """Where a study address leads a newcomer: the campaign's slug and the slug to enrol in."""

    campaign_slug: str
    enrol_slug: str


_addressed = ENTRY_ADDRESSED = aliased(Study, name="addressed")
_root = aliased(Study, name="root")
_receiving = ENTRY_RECEIVING = aliased(Study, name="receiving")
# The row `entry_from_row` reads: the campaign's, the receiving and the addressed study.
ENTRY = (
    sa.select(_root.slug, _receiving.slug, _addressed.slug, _addressed.status)
    .select_from(_addressed)
    .join(_root, _root.id == sa.func.coalesce(_addressed.campaign_id, _addressed.id))
    .join(_receiving, _receiving.id == sa.func.coalesce(_root.receiving_study_id, _root.id))
    .where(_addressed.slug == sa.bindparam("slug"))
)


def entry_from_row(row, slug: str) -> Entry:
    """Where a newcomer at `/s/<slug>` goes, from the `ENTRY` row (None: the slug names no study).

    The study link reads the row on the participant hot path
    (framelab.services.participant_store.studies.study_entry).
    """
    if row is None:
        return Entry(slug, slug)
    root_slug, receiving_slug, addressed_slug, addressed_status = row
    if addressed_status == "pilot":
        # A version being piloted is reached at its own address by its pilot testers.
        return Entry(root_slug, addressed_slug)
    return Entry(root_slug, receiving_slug)


@dataclass(frozen=True)
class Version:
    id: int
    slug: str
    number: int
    status: str
    receiving: bool


@dataclass(frozen=True)
class Campaign:
    """A campaign's versions, oldest first, and which one receives newcomers."""

    root_id: int
    slug: str
    versions: tuple[Version, ...]

    @property
    def receiving(self) -> Version:
        return next(v for v in self.versions if v.receiving)

    @property
    def study_ids(self) -> list[int]:
        return [v.id for v in self.versions]

    def version_of(self, study_id: int) -> Version:
        return next(v for v in self.versions if v.id == study_id)


def campaign(session: Session, study_id: int) -> Campaign:
    """The campaign a study belongs to (a study with no versions is a campaign of one)."""
    with reading(session):
        study = session.get(Study, study_id)
        if study is None:
            raise LookupError(f"study: no study with id {study_id}")
        root = session.get(Study, study.campaign_root_id)
        rows = session.scalars(
            sa.select(Study)
            .where(sa.or_(Study.id == root.id, Study.campaign_id == root.id))
            .order_by(Study.id)
        ).all()
        receiving_id = root.receiving_study_id or root.id
        versions = tuple(
            Version(
                id=s.id, slug=s.slug, number=i + 1, status=s.status, receiving=s.id == receiving_id
            )
            for i, s in enumerate(rows)
        )
        return Campaign(root_id=root.id, slug=root.slug, versions=versions)


def version_slug(session: Session, root_slug: str) -> str:
    """The next free `<campaign>-vN` slug, never longer than the slug column.

    The campaign part is shortened (never the number) so that the result cannot be cut
    into a slug some other study already has; taken slugs are skipped whoever owns them.
    """
    number = 2
    while True:
        suffix = f"-v{number}"
        candidate = root_slug[: MAX_SLUG - len(suffix)].rstrip("-") + suffix
        taken = session.scalar(sa.select(Study.id).where(Study.slug == candidate))
        if taken is None:
            return candidate
        number += 1


def insert_version_study(
    session: Session, root: Study, slug: str, title: str, *, now: datetime
) -> Study:
    """Insert the study row of a new version (never touches an existing row).

    Raises StudyError when the slug was taken meanwhile: the unique constraint on the
    slug decides, in the same transaction as the insert (the caller's writing() block,
    which the error rolls back).
    """
    study = Study(
        slug=slug,
        title=title,
        status="draft",
        salt=root.salt,
        campaign_id=root.id,
        created_at=now,
        updated_at=now,
    )
    session.add(study)
    try:
        session.flush()
    except IntegrityError as exc:
        raise StudyError(
            [("slug", f"'{slug}' was just taken by another study; try New version again")]
        ) from exc
    return study


def make_receiving(session: Session, study_id: int, *, now: datetime) -> bool:
    """Make this (live) study the one its campaign's links enrol into, with its audit event.

    Joins the caller's writing() block (a launch), else is a unit of work of its own (the
    owner's confirmed switch). Returns whether anything changed (False: it already receives).
    """
    with writing(session):
        study = session.get(Study, study_id)
        if study.status != "live":
            raise CampaignError(
                f"status: {study.slug} is {study.status}; only a live version can receive "
                "new participants"
            )
        root = session.get(Study, study.campaign_root_id)
        before = root.receiving_study_id or root.id
        if before == study.id:
            return False
        previous = session.get(Study, before)
        root.receiving_study_id = None if study.id == root.id else study.id
        audit.record(
            session,
            study.id,
            "receiving",
            now=now,
            detail=(
                f"{study.slug} now receives new participants on /s/{root.slug} "
                f"(before: {previous.slug}; people already in {previous.slug} finish there)"
            ),
        )
        return True
