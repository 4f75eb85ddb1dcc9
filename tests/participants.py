"""Participants for tests, enrolled the way production does it.

The study link is the one way in (framelab.services.flow.consent_from_link: enrol and
consent in one transaction), so a test participant starts on the page after consent.

enrol(session, slug, now=..., language="en", source=None, panel=None, rehearsal=False,
      key=None, form=None) -> Participant       # consented ("yes" unless `form` says)
export_id_for(session, code) -> str             # their id in the exports (export.export_id)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from framelab.db.models import Participant, Study
from framelab.db.session import reading
from framelab.services.enrolment import participant_by_code
from framelab.services.export import export_id
from framelab.services.flow import consent_from_link, link_entry
from framelab.services.pseudonyms import PseudonymKey
from framelab.services.study_versions import LoadedStudy


def enrol(
    session: Session,
    slug: str,
    *,
    now: datetime,
    language: str | Sequence[str] = "en",
    source: str | None = None,
    panel: Mapping[str, str] | None = None,
    rehearsal: bool = False,
    key: PseudonymKey | None = None,
    form: Mapping[str, str] | None = None,
) -> Participant:
    """A new participant through the study link's consent, as the participant page does it."""
    code, result = consent_from_link(
        session,
        slug,
        form or {"consent": "yes"},
        language=language,
        source=source,
        now=now,
        rehearsal=rehearsal,
        panel=panel,
        key=key,
    )
    assert code is not None and result.ok, result.errors
    return participant_by_code(session, code)


def export_id_for(session: Session, code: str) -> str:
    """The id the exports give the participant with this code (the exports' own export_id)."""
    with reading(session):
        participant = participant_by_code(session, code)
        return export_id(session.get(Study, participant.study_id).salt, code)


def open_study_link(session: Session, slug: str) -> LoadedStudy:
    """The study the link `/s/<slug>` enrols into now; raises StudyNotFound or StudyClosed
    (the study link's consent reads it with flow.link_entry)."""
    _entry, study = link_entry(session, slug)
    if isinstance(study, LookupError):
        raise study
    return study
