"""The study a participant link opens, a version's spec, and closing a study at its target.

Participant hot path only (see the package): the same reads as
framelab.services.study_versions and framelab.services.campaigns, run on a direct
connection. Everything else uses those modules through the Session.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from framelab.db.direct import Direct, DirectStatement
from framelab.db.models import Participant, Study, StudyVersion
from framelab.domain.study import Study as StudySpec
from framelab.services import campaigns
from framelab.services.study_targets import (
    CLOSE_LIVE,
    COMPLETED_COUNT,
    CURRENT_VERSION,
    target_reached,
)
from framelab.services.study_versions import (
    OPEN_STATUSES,
    VERSION_JSON,
    LoadedStudy,
    StudyClosed,
    StudyNotFound,
    spec_by_hash,
)

_S = Study.__table__
_P = Participant.__table__

_OPEN_BY_SLUG = DirectStatement(
    sa.select(
        Study.id,
        Study.status,
        StudyVersion.id.label("version_id"),
        StudyVersion.version,
        StudyVersion.spec_hash,
    )
    .join(
        StudyVersion,
        sa.and_(StudyVersion.study_id == Study.id, StudyVersion.version == Study.current_version),
    )
    .where(Study.slug == sa.bindparam("slug"))
)
_STUDY_BY_SLUG = DirectStatement(sa.select(Study.id).where(Study.slug == sa.bindparam("slug")))
_VERSION_JSON = DirectStatement(VERSION_JSON)
_COMPLETED = DirectStatement(COMPLETED_COUNT)
_CURRENT_VERSION = DirectStatement(CURRENT_VERSION)
_CLOSE_LIVE = DirectStatement(CLOSE_LIVE)
_ENTRY = DirectStatement(campaigns.ENTRY)

# The campaign's salt (every version shares the first study's) and its first study.
CAMPAIGN_SALT = DirectStatement(
    sa.select(_S.c.salt, sa.func.coalesce(_S.c.campaign_id, _S.c.id).label("root")).where(
        _S.c.id == sa.bindparam("study_id")
    )
)
# Whether a panel hash took part anywhere in the campaign (its versions' participants).
PANEL_SEEN = DirectStatement(
    sa.select(_P.c.id)
    .where(
        _P.c.panel_hash == sa.bindparam("hash"),
        _P.c.study_id.in_(
            sa.select(_S.c.id).where(
                sa.or_(_S.c.id == sa.bindparam("root"), _S.c.campaign_id == sa.bindparam("root"))
            )
        ),
    )
    .limit(1)
)


def version_spec(db: Direct, version_id: int, spec_hash: str) -> StudySpec:
    """The spec of a stored version, parsed once per process (study_versions.spec_by_hash)."""
    return spec_by_hash(
        spec_hash, version_id, lambda: db.scalar(_VERSION_JSON, {"version_id": version_id})
    )


def loaded_study(
    db: Direct, study_id: int, slug: str, status: str, version_id: int, version: int, spec_hash: str
) -> LoadedStudy:
    """A study with one of its versions (the spec parsed once per process)."""
    spec = version_spec(db, version_id, spec_hash)
    return LoadedStudy(
        id=study_id,
        slug=slug,
        status=status,
        version=version,
        spec=spec,
        spec_hash=spec_hash,
        version_id=version_id,
    )


def study_entry(db: Direct, slug: str) -> campaigns.Entry:
    """Where a newcomer at `/s/<slug>` goes (campaigns.entry_from_row)."""
    return campaigns.entry_from_row(db.one_or_none(_ENTRY, {"slug": slug}), slug)


# Where a newcomer at a campaign address goes (campaigns.ENTRY) and, in the same row, the
# study they enrol into with its current version: the study link's arrival in one read.
_ENROL = sa.orm.aliased(Study, name="enrol")
_ENTRY_OPEN = DirectStatement(
    campaigns.ENTRY.add_columns(
        _ENROL.id.label("enrol_id"),
        _ENROL.status.label("enrol_status"),
        StudyVersion.id.label("version_id"),
        StudyVersion.version,
        StudyVersion.spec_hash,
    )
    .join(
        _ENROL,
        _ENROL.id
        == sa.case(
            (campaigns.ENTRY_ADDRESSED.status == "pilot", campaigns.ENTRY_ADDRESSED.id),
            else_=campaigns.ENTRY_RECEIVING.id,
        ),
    )
    .outerjoin(
        StudyVersion,
        sa.and_(StudyVersion.study_id == _ENROL.id, StudyVersion.version == _ENROL.current_version),
    )
)


def entry_and_study(db: Direct, slug: str) -> tuple[campaigns.Entry, LoadedStudy | LookupError]:
    """`study_entry(slug)` and `open_study` of its enrol slug (the study, or the
    StudyNotFound / StudyClosed it raises), in one statement when the slug names a study."""
    row = db.one_or_none(_ENTRY_OPEN, {"slug": slug})
    entry = campaigns.entry_from_row(None if row is None else row[:4], slug)
    try:
        if row is None:
            return entry, open_study(db, entry.enrol_slug)  # raises StudyNotFound
        if row.version_id is None:
            raise StudyNotFound(f"study: {entry.enrol_slug} has no published version")
        if row.enrol_status not in OPEN_STATUSES:
            raise StudyClosed(entry.enrol_slug, row.enrol_status)
    except (StudyNotFound, StudyClosed) as error:
        return entry, error
    return entry, loaded_study(
        db,
        row.enrol_id,
        entry.enrol_slug,
        row.enrol_status,
        row.version_id,
        row.version,
        row.spec_hash,
    )


def open_study(db: Direct, slug: str) -> LoadedStudy:
    """The study if it accepts participants now; raises StudyNotFound or StudyClosed.

    A study that reaches its target is closed by the completion that reaches it
    (`close_at_target`), so the study link reads only the status, never a count.
    """
    row = db.one_or_none(_OPEN_BY_SLUG, {"slug": slug})
    if row is None:
        if db.scalar(_STUDY_BY_SLUG, {"slug": slug}) is None:
            raise StudyNotFound(f"study: no study with slug {slug!r}")
        raise StudyNotFound(f"study: {slug} has no published version")
    if row.status not in OPEN_STATUSES:
        raise StudyClosed(slug, row.status)
    return loaded_study(db, row.id, slug, row.status, row.version_id, row.version, row.spec_hash)


def close_at_target(db: Direct, study_id: int, target: int, *, now: datetime) -> bool:
    """Close a live study once its completed real participants reach `target`.

    Real: neither pilot nor rehearsal (simulated) participants, nor duplicates.

    Called in the transaction that completes a participant, after their row says so:
    the study stops taking newcomers at the completion that reaches the target, and
    participants already in it may still finish. (On PostgreSQL two completions at the
    same instant do not see each other; the next completion, or the studio's dashboard,
    closes it then.) Returns whether this call closed it.
    """
    done = db.scalar(_COMPLETED, {"study_id": study_id, "pilot": False}) or 0

    def current_target() -> int | None:
        current = db.one_or_none(_CURRENT_VERSION, {"study_id": study_id})
        return None if current is None else version_spec(db, *current).target_n

    if not target_reached(done, target, current_target):
        return False
    db.execute(_CLOSE_LIVE, {"study_id": study_id, "now": now})
    return True
