"""The participant services the pages call, one per request.

The step machine itself is pure (framelab.domain.steps: which page comes next, what a
submission means). Showing and submitting pages, enrolling from the study link and the
resume lookups run on the participant hot path (framelab.services.participant_store,
the one place that bypasses the Session); switching language and withdrawing are rare
and use the Session like every other service. Each takes the request's Session and
commits before it returns.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.drafts import PageDraft
from framelab.db.models import PageVisit, Response
from framelab.db.reach import Recipient
from framelab.db.session import writing
from framelab.domain.steps import aware
from framelab.services.enrolment import (
    lock_participant_by_code,
    newcomer_language,
    participant_by_code,
)
from framelab.services.errors import ParticipantNotFound
from framelab.services.participant_store.draft_posts import keep_page_draft
from framelab.services.participant_store.lookups import (
    Arrival,
    arrive,
    is_participant,
    link_entry,
    participant_place,
)
from framelab.services.participant_store.pages import consent_from_link, current_page, submit_step
from framelab.services.study_versions import loaded_version
from framelab.services.waves import erase_waves

__all__ = [
    "Arrival",
    "ParticipantNotFound",
    "arrive",
    "consent_from_link",
    "current_page",
    "is_participant",
    "keep_page_draft",
    "link_entry",
    "participant_place",
    "set_language",
    "submit_step",
    "withdraw",
]


def set_language(session: Session, code: str, language: str) -> str:
    """Switch a participant's language (to one the study offers); returns the language used."""
    with writing(session):
        participant = participant_by_code(session, code)
        spec = loaded_version(session, participant.study_version_id).spec
        if language:
            participant.language = newcomer_language(spec, language)
    return participant.language


def _day(moment: datetime) -> datetime:
    return aware(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def withdraw(session: Session, code: str, *, now: datetime) -> str:
    """Erase what derives from the participant and mark them withdrawn; returns their language.

    Their answers, page times and drafts are deleted; so are their panel pseudonyms, their
    stratum (derived from an erased answer), the quality flags and duration, their
    source and language (back to the study's default), and every timestamp but the day
    they started and the day they withdrew. What stays is what the counts and the
    randomization audit need: the row itself (version, arm, status `withdrawn`, and the
    pilot, rehearsal and duplicate marks that keep it out of real counts) and the code
    they withdrew with. Their slot stays in the assignment log, which names nobody and
    holds no time (migration s010), so nothing joins the erased stratum back to them.
    The language returned is the one they used, for the page that confirms the
    withdrawal. Their channel link goes with their source, and an invitation that
    enrolled them is untied from them and enrols nobody again (framelab.db.reach).
    """
    now = aware(now)
    with writing(session):
        participant = lock_participant_by_code(session, code)
        language = participant.language
        default = loaded_version(session, participant.study_version_id).spec.default_language
        session.execute(sa.delete(Response).where(Response.participant_id == participant.id))
        session.execute(sa.delete(PageVisit).where(PageVisit.participant_id == participant.id))
        session.execute(sa.delete(PageDraft).where(PageDraft.participant_id == participant.id))
        if participant.status != "withdrawn":
            participant.withdrawn_at = _day(now)
        participant.status = "withdrawn"
        participant.step = "withdrawn"
        participant.panel_hash = None
        participant.panel_study_hash = None
        participant.panel_session_hash = None
        participant.stratum = None
        participant.source = None
        participant.language = default
        # These flags were derived from the erased answers (or the erased pages).
        participant.channel_id = None
        # An invitation that enrolled them no longer names them, and enrols nobody again.
        session.execute(
            sa.update(Recipient)
            .where(Recipient.participant_id == participant.id)
            .values(participant_id=None, withdrawn=True)
        )
        participant.attention_failed = False
        participant.speeder = False
        participant.honeypot = False
        participant.duration_seconds = None
        participant.started_at = _day(participant.started_at)
        participant.consented_at = None
        participant.assigned_at = None
        participant.completed_at = None
        erase_waves(session, participant.id)  # follow-up link, wave answers and returns
    return language
