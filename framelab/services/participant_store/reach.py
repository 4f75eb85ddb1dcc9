"""Channel links (`/c/<code>`) and invitation links (`/i/<token>`) (participant hot path only).

A channel link is the campaign's study link with its source fixed by the link: its
newcomers get the link's `source` and `channel_id`. Opening it adds one to the link's
bare counter (framelab.db.reach: a number, nothing about whoever opened it).

An invitation link carries a random token (framelab.services.recipient_lists); only
its SHA-256 is stored. Opening it reads only: it shows the consent page, or leads the
participant it enrolled back to their page. The consent POST enrols, in the same
transaction that ties the recipient to the new participant (the recipient's row is
locked first, so two posts of one link at once make one participant: the later one is
led to the first's page). A recipient whose participant withdrew enrols nobody again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.direct import DirectStatement, for_session
from framelab.db.models import Participant, Study
from framelab.db.reach import ChannelLink, Recipient
from framelab.domain.steps import SubmitResult, aware, consent_answer, consent_missing
from framelab.services.participant_store.lookups import Arrival, arrive
from framelab.services.participant_store.pages import enrol_newcomer
from framelab.services.participant_store.studies import open_study, study_entry
from framelab.services.study_versions import LoadedStudy, StudyClosed, StudyNotFound

INVITED_SOURCE = "invitation"

_C = ChannelLink.__table__
_R = Recipient.__table__
_S = Study.__table__
_P = Participant.__table__

_CHANNEL = DirectStatement(
    sa.select(_C.c.id, _C.c.source, _S.c.slug)
    .select_from(_C.join(_S, _S.c.id == _C.c.study_id))
    .where(_C.c.code == sa.bindparam("code"))
)
_OPENED = DirectStatement(
    _C.update().where(_C.c.code == sa.bindparam("code")).values(opened=_C.c.opened + 1)
)
_RECIPIENT_SELECT = (
    sa.select(_R.c.id, _R.c.participant_id, _R.c.withdrawn, _S.c.slug, _P.c.code)
    .select_from(
        _R.join(_S, _S.c.id == _R.c.study_id).outerjoin(_P, _P.c.id == _R.c.participant_id)
    )
    .where(_R.c.token_hash == sa.bindparam("token_hash"))
)
_RECIPIENT = DirectStatement(_RECIPIENT_SELECT)
_RECIPIENT_FOR_UPDATE = DirectStatement(_RECIPIENT_SELECT.with_for_update(of=_R))
_CODE_OF = DirectStatement(sa.select(_P.c.code).where(_P.c.id == sa.bindparam("pid")))
_CLAIM = DirectStatement(
    _R.update().where(_R.c.id == sa.bindparam("rid")).values(participant_id=sa.bindparam("pid"))
)


class LinkNotFound(LookupError):
    """No channel or invitation link has this code or token."""


class InvitationWithdrawn(LookupError):
    """The participant this invitation enrolled withdrew: the link enrols nobody again."""


@dataclass(frozen=True)
class ChannelEntry:
    """A channel link: its id, the source its newcomers get, and its campaign's slug."""

    id: int
    source: str
    slug: str


def token_hash(token: str) -> str:
    """What is stored of an invitation token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def channel_entry(session: Session, code: str) -> ChannelEntry:
    """The channel link with this code; raises LinkNotFound."""
    with for_session(session, write=False) as db:
        row = db.one_or_none(_CHANNEL, {"code": code})
    if row is None:
        raise LinkNotFound("channel link: no link with this code")
    return ChannelEntry(row.id, row.source, row.slug)


def channel_arrival(
    session: Session, code: str, remembered: Mapping[str, str], *, count: bool = True
) -> tuple[ChannelEntry, Arrival]:
    """A browser opening the channel link `code`: the link and what its campaign link shows.

    Adds one to the link's counter of openings when `count` (a request of the simulator
    is not counted). Raises LinkNotFound.
    """
    link = channel_entry(session, code)
    if count:
        with for_session(session, write=True) as db:
            db.execute(_OPENED, {"code": code})
    return link, arrive(session, link.slug, remembered)


@dataclass(frozen=True)
class Invitation:
    """What an invitation link shows: its participant's page (`code`), or the consent page.

    `slug` is the campaign's; `study` the version a newcomer enrols into (None with
    `unavailable` saying why none takes anyone now).
    """

    slug: str
    code: str | None = None
    study: LoadedStudy | None = None
    unavailable: LookupError | None = None


def invitation(session: Session, token: str) -> Invitation:
    """The invitation link with this token, read only; raises LinkNotFound or InvitationWithdrawn."""
    with for_session(session, write=False) as db:
        row = db.one_or_none(_RECIPIENT, {"token_hash": token_hash(token)})
        if row is None:
            raise LinkNotFound("invitation: no invitation with this token")
        if row.code is not None:
            return Invitation(row.slug, code=row.code)
        if row.withdrawn:
            raise InvitationWithdrawn("invitation: its participant withdrew")
        try:
            study = open_study(db, study_entry(db, row.slug).enrol_slug)
        except (StudyNotFound, StudyClosed) as error:
            return Invitation(row.slug, unavailable=error)
    return Invitation(row.slug, study=study)


def consent_from_invitation(
    session: Session,
    token: str,
    form: Mapping[str, str],
    *,
    language: str | Sequence[str],
    now: datetime,
) -> tuple[str | None, str | None, SubmitResult | None]:
    """Consent on an invitation link: enrol its recipient once, or return their participant.

    Returns (the campaign's slug, code, the consent page's result) for a newcomer;
    (slug, code, None) when the link already enrolled someone (they are led back to their
    page, never enrolled twice); (None, None, errors) when the form has no answer.
    Raises LinkNotFound, InvitationWithdrawn, StudyNotFound or StudyClosed.
    """
    now = aware(now)
    if consent_answer(form) is None:
        return None, None, consent_missing()
    with for_session(session, write=True) as db:
        row = db.one_or_none(
            _RECIPIENT_FOR_UPDATE if db.name == "postgresql" else _RECIPIENT,
            {"token_hash": token_hash(token)},
        )
        if row is None:
            raise LinkNotFound("invitation: no invitation with this token")
        if row.participant_id is not None:
            # On PostgreSQL a consent that waited for the row lock sees the recipient as
            # the winner left it, but the joined participant as it was before (none).
            return row.slug, row.code or db.scalar(_CODE_OF, {"pid": row.participant_id}), None
        if row.withdrawn:
            raise InvitationWithdrawn("invitation: its participant withdrew")
        loaded = open_study(db, study_entry(db, row.slug).enrol_slug)
        code, result, pid = enrol_newcomer(
            db, loaded, form, language=language, now=now, source=INVITED_SOURCE
        )
        db.execute(_CLAIM, {"rid": row.id, "pid": pid})
    return row.slug, code, result
