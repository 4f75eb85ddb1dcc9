"""The study link's arrival and the lookups of a code (participant hot path only).

Where a newcomer at a study link goes, whether this browser already has a participant
there, and whether a typed or remembered code is a participant's: reads only, each on
a pooled connection of its own in autocommit (never waiting for writers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from framelab.db.direct import for_session
from framelab.domain.steps import FINISHED_STEPS
from framelab.services.campaigns import Entry
from framelab.services.participant_store.rows import EXISTS, PLACE_OF
from framelab.services.participant_store.studies import (
    entry_and_study,
)
from framelab.services.study_versions import LoadedStudy


@dataclass(frozen=True)
class Arrival:
    """What a study link shows a browser: its own participant's page, the consent page, or why not.

    `returning` is the code of this browser's unfinished participant in the campaign
    (their page is shown instead); `forget` the slugs whose remembered participant is
    finished or gone (whoever holds the phone next starts afresh); `study` the study a
    newcomer enrols into, or `unavailable` (StudyNotFound, StudyClosed) saying why none.
    """

    entry: Entry
    returning: str | None = None
    forget: tuple[str, ...] = ()
    study: LoadedStudy | None = None
    unavailable: LookupError | None = None


def arrive(session: Session, slug: str, remembered: Mapping[str, str]) -> Arrival:
    """A browser at the study link `/s/<slug>`, which remembers these codes (by study slug).

    A participant stays on the version they consented to, whichever version the
    campaign's link enrols newcomers into now (DECISIONS rule 1).
    """
    with for_session(session, write=False) as db:
        entry, study = entry_and_study(db, slug)
        forget = []
        for key in dict.fromkeys((entry.campaign_slug, slug)):
            code = remembered.get(key)
            if not code:
                continue
            place = db.one_or_none(PLACE_OF, {"code": code})
            if place is not None and place.step not in FINISHED_STEPS:
                return Arrival(entry, returning=code, forget=tuple(forget))
            forget.append(key)
    if isinstance(study, LookupError):
        return Arrival(entry, forget=tuple(forget), unavailable=study)
    return Arrival(entry, forget=tuple(forget), study=study)


def is_participant(session: Session, code: str) -> bool:
    """Whether `code` is a participant's (a browser may remember one the database lost)."""
    with for_session(session, write=False) as db:
        return db.scalar(EXISTS, {"code": code}) is not None


def participant_place(session: Session, code: str) -> Any:
    """The participant's study (campaign version) slug and step, as a row; None if no such code.

    A participant stays on their version (DECISIONS rule 1), whichever version the
    campaign's link enrols newcomers into now.
    """
    with for_session(session, write=False) as db:
        return db.one_or_none(PLACE_OF, {"code": code})


def link_entry(session: Session, slug: str) -> tuple[Entry, LoadedStudy | LookupError]:
    """Where a newcomer at the study link `/s/<slug>` goes (DECISIONS rule 1), and the study
    they enrol into there (or the StudyNotFound / StudyClosed that says why none): one read."""
    with for_session(session, write=False) as db:
        return entry_and_study(db, slug)
