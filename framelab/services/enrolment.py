"""Enrol participants and assign arms, race-safe on SQLite and PostgreSQL.

Assignment takes the next position of the participant's stratum from the
persistent counter (`block_state`) and derives the arm with the domain's pure
function of (seed, stratum, position), so the assignment log can be replayed.
The counter row is locked for the length of the transaction: SQLite sessions
begin with `BEGIN IMMEDIATE` (framelab.db.session), PostgreSQL takes
`SELECT ... FOR UPDATE` on the row (created race-free with ON CONFLICT DO
NOTHING). Two arrivals can never take the same slot or skip one.

A panel id never resumes anyone (DECISIONS rule 5). A repeat panel id in the campaign
enrols a participant of its own, flagged `duplicate`, with no panel hash, and assigned
outside the block sequences: a weighted draw from its position among the study's
duplicates (`duplicate_counter`, `duplicate_assignment`), taken with the same two
statements as a real assignment. The assignment log therefore replays as if no
duplicate had come, and neither the pages nor the work behind them differ for one.

Neither the assignment log nor a duplicate's assignment row holds a time, and the log
names no participant (migration s010): the participant's row is the one place that ties
a person to a stratum and a time, and a withdrawal erases both there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.direct import Direct, DirectStatement, in_session, insert_values
from framelab.db.models import (
    AssignmentLog,
    BlockState,
    DuplicateAssignment,
    DuplicateCounter,
    Participant,
    Response,
    Study,
)
from framelab.domain.assignment import arm_for_slot, simple_draw
from framelab.domain.localized import first_language_match
from framelab.domain.study import Study as StudySpec
from framelab.services.errors import ParticipantNotFound
from framelab.services.pseudonyms import PseudonymKey
from framelab.services.study_versions import (
    LoadedStudy,
    loaded_version,
    open_study_for_participants,
)

PANEL_PERSON_KEYS = ("PROLIFIC_PID", "workerId")
PANEL_STUDY_KEYS = ("STUDY_ID", "hitId")
PANEL_SESSION_KEYS = ("SESSION_ID", "assignmentId")
PANEL_SOURCES = {"PROLIFIC_PID": "prolific", "workerId": "mturk"}
MAX_PANEL_VALUE = 200
# The draw of a duplicate's arm is keyed by this name instead of a stratum's.
DUPLICATE_SEQUENCE = "~duplicate"


class AssignmentError(ValueError):
    """The participant cannot be assigned yet (e.g. the blocking item is unanswered)."""


@dataclass(frozen=True)
class PanelIds:
    """A panel link's ids as stored: keyed pseudonyms (None where the link had none)."""

    person: str | None = None
    study: str | None = None
    session: str | None = None
    source: str | None = None  # prolific | mturk, from which person id the link carried


def panel_ids(panel: Mapping[str, str] | None, salt: str, key: PseudonymKey | None) -> PanelIds:
    """The pseudonyms of a link's panel ids (framelab.services.pseudonyms); raw ids are never kept."""
    panel = panel or {}
    person_key, person = _first(panel, PANEL_PERSON_KEYS)
    _, study = _first(panel, PANEL_STUDY_KEYS)
    _, session = _first(panel, PANEL_SESSION_KEYS)
    if not (person or study or session):
        return PanelIds()
    if key is None:
        raise ValueError("key: panel ids are stored as keyed pseudonyms; pass the pseudonym key")
    return PanelIds(
        person=key.pseudonym(salt, person) if person else None,
        study=key.pseudonym(salt, study) if study else None,
        session=key.pseudonym(salt, session) if session else None,
        source=PANEL_SOURCES.get(person_key or ""),
    )


def _first(panel: Mapping[str, str], keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    for key in keys:
        value = (panel.get(key) or "").strip()[:MAX_PANEL_VALUE]
        if value:
            return key, value
    return None, None


def choose_language(spec: StudySpec, language: str | Sequence[str] | None) -> str:
    """The first of the wanted languages the study has, else the study's default.

    `language` is one language or several in order of preference (an explicit choice
    first, then the browser's Accept-Language in its order). Each is matched whole, then
    by its primary subtag (es-MX -> es), against the study's own languages, whichever
    they are: a study in [en, de] gives German to a browser asking for de-AT.
    """
    wanted = [language] if isinstance(language, str) else list(language or ())
    return first_language_match(wanted, spec.languages) or spec.default_language


def start_participant(
    session: Session,
    slug: str,
    *,
    language: str | Sequence[str],
    source: str | None,
    panel: Mapping[str, str] | None,
    now: datetime,
    rehearsal: bool = False,
    key: PseudonymKey | None = None,
) -> Participant:
    """Enrol a new participant at the consent step (no commit of answers: that is the flow's).

    A panel id seen before in the campaign enrols a new participant too, flagged as a
    duplicate and without a panel hash: it never returns the earlier record (DECISIONS
    rule 5). `key` is the pseudonym key, needed when `panel` carries ids. `rehearsal`
    marks a simulated participant (services.rehearsal: only a valid token sets it).
    The web's consent uses `flow.consent_from_link`, which does the same in one
    transaction with the consent.
    """
    loaded = open_study_for_participants(session, slug)
    for attempt in (1, 2):
        try:
            study = session.get(Study, loaded.id)
            ids = panel_ids(panel, study.salt, key)
            # The second attempt follows a unique-constraint race: the same id arrived twice
            # at once (PostgreSQL) and the other arrival's row won.
            duplicate = ids.person is not None and (
                attempt == 2 or _by_panel_hash(session, study, ids.person) is not None
            )
            participant = Participant(
                study_id=loaded.id,
                study_version_id=loaded.version_id,
                spec_hash=loaded.spec_hash,
                panel_hash=None if duplicate else ids.person,
                panel_study_hash=ids.study,
                panel_session_hash=ids.session,
                source=((source or "").strip()[:64] or ids.source),
                language=choose_language(loaded.spec, language),
                step="consent",
                status="started",
                pilot=loaded.status == "pilot",
                rehearsal=rehearsal,
                duplicate=duplicate,
                started_at=now,
            )
            session.add(participant)
            session.commit()
            return participant
        except IntegrityError:
            session.rollback()
            if attempt == 2 or ids.person is None:
                raise
        except Exception:
            session.rollback()
            raise
    raise AssertionError("unreachable: the second attempt returns or raises")


def _by_panel_hash(session: Session, study: Study, hashed: str) -> Participant | None:
    # One duplicate namespace per campaign (DECISIONS rule 1): its versions share a salt.
    root = study.campaign_root_id
    versions = sa.select(Study.id).where(sa.or_(Study.id == root, Study.campaign_id == root))
    return session.scalar(
        sa.select(Participant)
        .where(Participant.study_id.in_(versions), Participant.panel_hash == hashed)
        .order_by(Participant.id)
        .limit(1)
    )


_S = Study.__table__
_P = Participant.__table__
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


def participant_by_code(session: Session, code: str) -> Participant:
    """The participant with this code; raises ParticipantNotFound."""
    participant = session.scalar(_BY_CODE, {"code": code})
    if participant is None:
        raise ParticipantNotFound("participant: no participant with this code")
    return participant


def _counter_upsert(insert) -> sa.Executable:
    stmt = insert(BlockState).values(
        study_id=sa.bindparam("study_id"), stratum=sa.bindparam("stratum"), next_position=1
    )
    return stmt.on_conflict_do_update(
        index_elements=["study_id", "stratum"],
        set_={"next_position": BlockState.next_position + 1},
    ).returning(BlockState.next_position)


_COUNTER_UPSERT = {
    "postgresql": DirectStatement(_counter_upsert(postgresql.insert)),
    "sqlite": DirectStatement(_counter_upsert(sqlite.insert)),
}


def _duplicate_counter_upsert(insert) -> sa.Executable:
    stmt = insert(DuplicateCounter).values(study_id=sa.bindparam("study_id"), next_position=1)
    return stmt.on_conflict_do_update(
        index_elements=["study_id"],
        set_={"next_position": DuplicateCounter.next_position + 1},
    ).returning(DuplicateCounter.next_position)


_DUPLICATE_COUNTER_UPSERT = {
    "postgresql": DirectStatement(_duplicate_counter_upsert(postgresql.insert)),
    "sqlite": DirectStatement(_duplicate_counter_upsert(sqlite.insert)),
}


def _take_position(connection: Direct, study_id: int, stratum: str) -> int:
    # One atomic upsert creates the counter or bumps it; the row stays locked until
    # commit (PostgreSQL row lock; SQLite already holds the write lock).
    stmt = _COUNTER_UPSERT[connection.name]
    return int(connection.scalar(stmt, {"study_id": study_id, "stratum": stratum})) - 1


def _take_duplicate_position(connection: Direct, study_id: int) -> int:
    stmt = _DUPLICATE_COUNTER_UPSERT[connection.name]
    return int(connection.scalar(stmt, {"study_id": study_id})) - 1


def assign_in_transaction(
    session: Session, participant: Participant, loaded: LoadedStudy, *, now: datetime
) -> str:
    """Assign without committing (the flow stores pre answers in the same transaction)."""
    if participant.arm is not None:
        return participant.arm
    session.flush()  # the blocking answer may still be pending in the session
    changes = assign_participant(
        in_session(session),
        participant_id=participant.id,
        study_id=participant.study_id,
        spec=loaded.spec,
        spec_hash=loaded.spec_hash,
        now=now,
        duplicate=participant.duplicate,
        pilot=participant.pilot,
        rehearsal=participant.rehearsal,
    )
    for name, value in changes.items():
        setattr(participant, name, value)  # flushed with the caller's other changes
    return changes["arm"]


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
_NO_ANSWER = object()


def assign_participant(
    connection: Direct,
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
    """Take the next slot of the participant's stratum and log it (Core, no commit).

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
            connection.scalar(_BLOCK_ANSWER, {"pid": participant_id, "item": block_by})
            if block_value is _NO_ANSWER
            else block_value
        )
        if value is None:
            raise AssignmentError(
                f"{block_by}: the blocking item must be answered before assignment"
            )
        stratum = spec.stratum_for(value)
    if duplicate:
        return _assign_duplicate(
            connection, participant_id, study_id, spec, spec_hash, stratum, now
        )
    position = _take_position(connection, study_id, stratum)
    slot = arm_for_slot(spec, stratum, position)
    connection.execute(
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
    return {"arm": slot.arm, "stratum": stratum, "assigned_at": now, "status": "assigned"}


def _assign_duplicate(
    connection: Direct,
    participant_id: int,
    study_id: int,
    spec: StudySpec,
    spec_hash: str,
    stratum: str,
    now: datetime,
) -> dict[str, object]:
    position = _take_duplicate_position(connection, study_id)
    arm = simple_draw(spec, spec.design.seed, DUPLICATE_SEQUENCE, position)
    connection.execute(
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
    return {"arm": arm, "stratum": stratum, "assigned_at": now, "status": "assigned"}


_BY_ID = (
    sa.select(Participant)
    .where(Participant.id == sa.bindparam("pid"))
    .execution_options(populate_existing=True)
)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BLOCK_ANSWER = DirectStatement(
    sa.select(Response.value_int).where(
        Response.participant_id == sa.bindparam("pid"),
        Response.item_id == sa.bindparam("item"),
        Response.phase == "pre",
    )
)
_BY_CODE = sa.select(Participant).where(Participant.code == sa.bindparam("code"))
_BY_CODE_FRESH = _BY_CODE.execution_options(populate_existing=True)
_BY_CODE_FOR_UPDATE = _BY_CODE_FRESH.with_for_update()


def lock_participant_by_code(session: Session, code: str) -> Participant:
    """The participant with this code, locked for update on PostgreSQL; raises ParticipantNotFound."""
    query = (
        _BY_CODE_FOR_UPDATE if session.get_bind().dialect.name == "postgresql" else _BY_CODE_FRESH
    )
    participant = session.scalars(query, {"code": code}).one_or_none()
    if participant is None:
        raise ParticipantNotFound("participant: no participant with this code")
    return participant


def lock_participant(session: Session, participant_id: int) -> Participant:
    """Load a participant for update (row lock on PostgreSQL; SQLite already holds the write lock)."""
    query = _BY_ID_FOR_UPDATE if session.get_bind().dialect.name == "postgresql" else _BY_ID
    participant = session.scalars(query, {"pid": participant_id}).one_or_none()
    if participant is None:
        raise ParticipantNotFound(f"participant: no participant with id {participant_id}")
    return participant


def assign(session: Session, participant_id: int, *, now: datetime) -> str:
    """The participant's arm: the existing one, or the next slot of their stratum (race-safe, logged)."""
    try:
        participant = lock_participant(session, participant_id)
        loaded = loaded_version(session, participant.study_version_id)
        arm = assign_in_transaction(session, participant, loaded, now=now)
        session.commit()
        return arm
    except Exception:
        session.rollback()
        raise
