"""Follow-up waves: the page a follow-up link opens, its answers, and erasing them.

A follow-up link (`/f/<token>`, framelab.db.waves) belongs to one participant who
completed wave 1. It shows the wave of their own study version (DECISIONS rule 1) in
their language: its questions inside the wave's window, a come-back date before it, a
closed page after it (framelab.domain.waves.wave_visit). A page's answers are stored
all together with the wave's return, or not at all; the answers are linked to wave 1
by the participant's row only. The token may resume the follow-up; it never withdraws
(only the participant code does, framelab.services.flow.withdraw).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.models import Participant
from framelab.db.session import reading, writing
from framelab.db.waves import WaveLink, WaveResponse, WaveReturn
from framelab.domain.errors import ValueProblem
from framelab.domain.steps import aware, check_answers
from framelab.domain.study import Item
from framelab.domain.study import Study as StudySpec
from framelab.domain.waves import WaveVisit, wave_visit
from framelab.services.errors import ParticipantNotFound
from framelab.services.study_versions import loaded_version

__all__ = ["WavePage", "WaveSubmit", "erase_waves", "submit_wave", "wave_page"]


@dataclass(frozen=True)
class WavePage:
    """What a follow-up link shows: the visit (open, early, done, closed) and its questions."""

    spec: StudySpec
    spec_hash: str
    language: str
    visit: WaveVisit
    items: tuple[Item, ...] = ()

    @property
    def wave_id(self) -> str | None:
        return self.visit.window.wave.id if self.visit.window else None


@dataclass(frozen=True)
class WaveSubmit:
    """A wave page's submission: the page again with `errors` and `values` (not `ok`), or
    done: `saved` when this post stored the answers (a stale one stores nothing).

    `page` is the page the submission was read against (its study, language, wave).
    """

    ok: bool
    page: WavePage
    errors: dict[str, ValueProblem] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    saved: bool = False


def _participant(session: Session, token: str) -> Participant:
    person = session.scalar(
        sa.select(Participant)
        .join(WaveLink, WaveLink.participant_id == Participant.id)
        .where(WaveLink.token == token)
    )
    # A withdrawn participant's link is deleted with their answers; the status check
    # only guards a row from before that.
    if person is None or person.status != "completed" or person.completed_at is None:
        raise ParticipantNotFound("follow-up: no participant with this link")
    return person


def _page(session: Session, person: Participant, now: datetime) -> WavePage:
    loaded = loaded_version(session, person.study_version_id)
    spec = loaded.spec
    returned = set(
        session.scalars(sa.select(WaveReturn.wave_id).where(WaveReturn.participant_id == person.id))
    )
    visit = wave_visit(spec.waves or [], aware(person.completed_at), returned, aware(now))
    items: tuple[Item, ...] = ()
    if visit.kind == "open" and visit.window is not None:
        items = tuple(spec.item(i) for i in visit.window.wave.items)
    return WavePage(spec, loaded.spec_hash, person.language, visit, items)


def wave_page(session: Session, token: str, *, now: datetime) -> WavePage:
    """The page `token`'s follow-up link shows at `now`; raises ParticipantNotFound."""
    with reading(session):
        return _page(session, _participant(session, token), now)


def submit_wave(
    session: Session, token: str, wave_id: str, form: Mapping[str, str], *, now: datetime
) -> WaveSubmit:
    """Store a wave page's answers and the return, all of them or none.

    A form for a wave that is not the one open now (answered already, a double submit,
    or a window that closed meanwhile) stores nothing and counts as done: the link then
    shows what is true now.
    """
    now = aware(now)
    try:
        with writing(session):
            person = _participant(session, token)
            page = _page(session, person, now)
            if page.visit.kind != "open" or page.wave_id != wave_id:
                return WaveSubmit(ok=True, page=page)
            check = check_answers(page.items, form)
            if check.errors:
                kept = {i.id: str(form.get(i.id) or "") for i in page.items}
                return WaveSubmit(False, page, dict(check.errors), kept)
            session.add(WaveReturn(participant_id=person.id, wave_id=wave_id, returned_at=now))
            session.add_all(
                WaveResponse(
                    participant_id=person.id,
                    wave_id=wave_id,
                    item_id=item_id,
                    value_int=value,
                    answered_at=now,
                )
                for item_id, value in check.values.items()
            )
    except IntegrityError:
        # The same page posted twice at once: the other post stored it.
        return WaveSubmit(ok=True, page=page, saved=True)
    return WaveSubmit(ok=True, page=page, saved=True)


def erase_waves(session: Session, participant_id: int) -> None:
    """Delete a participant's follow-up link, wave answers and returns (inside the caller's
    write: withdrawal)."""
    for table in (WaveResponse, WaveReturn, WaveLink):
        session.execute(sa.delete(table).where(table.participant_id == participant_id))
