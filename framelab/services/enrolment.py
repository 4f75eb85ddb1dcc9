"""Enrol participants: panel ids as pseudonyms, the newcomer's language, the participant row.

A panel id never resumes anyone (DECISIONS rule 5). A repeat panel id in the campaign
enrols a participant of its own, flagged `duplicate`, with no panel hash, and assigned
outside the block sequences (framelab.services.participant_store.assignment, where
assignment and its race-safety live).

The study link enrols through the participant hot path (participant_store.pages.
consent_from_link, the one way in), which uses `panel_ids` and `newcomer_language` from
here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant
from framelab.domain.localized import first_language_match
from framelab.domain.study import Study as StudySpec
from framelab.services.errors import ParticipantNotFound
from framelab.services.pseudonyms import PseudonymKey

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
