"""Enrol participants: panel ids as pseudonyms, the newcomer's language, the participant row.

A panel id never resumes anyone (DECISIONS rule 5). A repeat panel id in the campaign
enrols a participant of its own, flagged `duplicate`, with no panel hash, and assigned
outside the block sequences (framelab.services.participant_store.assignment, where
assignment and its race-safety live).

The study link enrols through the participant hot path (participant_store.pages.
consent_from_link), which uses `panel_ids` and `newcomer_language` from here;
`start_participant` is the same enrolment through the Session, for scripts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.models import Participant, Study
from framelab.db.session import writing
from framelab.domain.localized import first_language_match
from framelab.domain.study import Study as StudySpec
from framelab.services.errors import ParticipantNotFound
from framelab.services.pseudonyms import PseudonymKey
from framelab.services.study_versions import open_study_for_participants

PANEL_PERSON_KEYS = ("PROLIFIC_PID", "workerId")
PANEL_STUDY_KEYS = ("STUDY_ID", "hitId")
PANEL_SESSION_KEYS = ("SESSION_ID", "assignmentId")
PANEL_SOURCES = {"PROLIFIC_PID": "prolific", "workerId": "mturk"}
MAX_PANEL_VALUE = 200


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


def newcomer_language(spec: StudySpec, language: str | Sequence[str] | None) -> str:
    """A newcomer's study language: the first of the wanted ones the study has, else its default.

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
    The web's consent uses `participant_store.pages.consent_from_link`, the same in one
    transaction with the consent.
    """
    loaded = open_study_for_participants(session, slug)
    for attempt in (1, 2):
        try:
            with writing(session):
                study = session.get(Study, loaded.id)
                ids = panel_ids(panel, study.salt, key)
                # The second attempt follows a unique-constraint race: the same id arrived
                # twice at once (PostgreSQL) and the other arrival's row won.
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
                    language=newcomer_language(loaded.spec, language),
                    step="consent",
                    status="started",
                    pilot=loaded.status == "pilot",
                    rehearsal=rehearsal,
                    duplicate=duplicate,
                    started_at=now,
                )
                session.add(participant)
            return participant
        except IntegrityError:
            if attempt == 2 or ids.person is None:
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


def participant_by_code(session: Session, code: str) -> Participant:
    """The participant with this code; raises ParticipantNotFound."""
    participant = session.scalar(_BY_CODE, {"code": code})
    if participant is None:
        raise ParticipantNotFound("participant: no participant with this code")
    return participant


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
