"""Channel links: one named link per channel of a campaign, short enough for an SMS.

A channel link is `/c/<code>`: 7 characters of an alphabet without look-alikes (no 0/o,
1/l/i), random, unique across the instance. The campaign (its first study, DECISIONS
rule 1) owns it, so it keeps working when a new version receives newcomers. Newcomers
who consent through it get its `source` (a name-derived label, unique in the
campaign) and its id as `participant.channel_id`: the source is fixed by the link,
never read from the address. Its QR code is made here with segno (SVG, and PNG with
segno's own writer, no image library).
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import segno
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.models import Study
from framelab.db.reach import CHANNEL_KINDS, ChannelLink
from framelab.db.session import reading, writing
from framelab.services import audit

CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 7
CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
MAX_NAME = 80
KIND_LABELS = {
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "social": "Social media",
    "email": "E-mail",
    "poster": "Poster (QR code)",
    "custom": "Other",
}
QR_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
_ATTEMPTS = 5


class ChannelLinkError(ValueError):
    """A channel link that cannot be made; the message says why."""


@dataclass(frozen=True)
class ChannelLinkView:
    """A channel link as the studio shows it."""

    id: int
    code: str
    kind: str
    name: str
    source: str
    opened: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


def new_code() -> str:
    """A random link code (7 characters of CODE_ALPHABET: about 34 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def source_label(name: str) -> str:
    """The `source` a link's participants get: its name in lower-case ASCII words joined by -."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].strip("-")


def campaign_root(session: Session, study_id: int) -> int:
    """The id of the campaign's first study, which owns its links."""
    study = session.get(Study, study_id)
    if study is None:
        raise LookupError(f"study: no study with id {study_id}")
    return study.campaign_root_id


def _view(link: ChannelLink) -> ChannelLinkView:
    return ChannelLinkView(link.id, link.code, link.kind, link.name, link.source, link.opened)


def channel_links(session: Session, study_id: int) -> list[ChannelLinkView]:
    """The campaign's channel links, oldest first."""
    with reading(session):
        root = campaign_root(session, study_id)
        links = session.scalars(
            sa.select(ChannelLink).where(ChannelLink.study_id == root).order_by(ChannelLink.id)
        ).all()
        return [_view(link) for link in links]


def create_channel_link(
    session: Session, study_id: int, *, kind: str, name: str, now: datetime
) -> ChannelLinkView:
    """A new channel link for the campaign of `study_id`; raises ChannelLinkError.

    The name is what the studio and the dashboard show; its source label must differ
    from every other link's in the campaign.
    """
    name = " ".join(name.split())
    if kind not in CHANNEL_KINDS:
        raise ChannelLinkError(f"kind: expected one of {', '.join(CHANNEL_KINDS)}")
    name = name or KIND_LABELS[kind]
    if len(name) > MAX_NAME:
        raise ChannelLinkError(f"The name is longer than {MAX_NAME} characters.")
    source = source_label(name)
    if not source:
        raise ChannelLinkError("The name needs at least one letter or digit (a-z, 0-9).")
    for _attempt in range(_ATTEMPTS):
        try:
            with writing(session):
                root = campaign_root(session, study_id)
                taken = session.scalar(
                    sa.select(ChannelLink.name).where(
                        ChannelLink.study_id == root,
                        sa.or_(ChannelLink.name == name, ChannelLink.source == source),
                    )
                )
                if taken is not None:
                    raise ChannelLinkError(
                        f"The campaign already has a link named '{taken}', which would be "
                        "counted under the same source: choose another name."
                    )
                link = ChannelLink(
                    study_id=root,
                    code=new_code(),
                    kind=kind,
                    name=name,
                    source=source,
                    opened=0,
                    created_at=now,
                    created_by=audit.current_actor().name,
                )
                session.add(link)
                session.flush()
                audit.record(
                    session, study_id, "edited", now=now, detail=f"channel link '{name}' added"
                )
                return _view(link)
        except IntegrityError:
            continue  # the random code was taken meanwhile (or the name, checked again)
    raise ChannelLinkError("No free link code was found; please try again.")


def channel_link(session: Session, study_id: int, code: str) -> ChannelLinkView:
    """The campaign's channel link with this code; raises LookupError."""
    with reading(session):
        root = campaign_root(session, study_id)
        link = session.scalar(
            sa.select(ChannelLink).where(ChannelLink.study_id == root, ChannelLink.code == code)
        )
        if link is None:
            raise LookupError("channel link: the campaign has no link with this code")
        return _view(link)


def qr_image(url: str, fmt: str) -> bytes:
    """The QR code of `url` as an SVG or PNG file (printable: 10 pixels a module, quiet zone)."""
    if fmt not in QR_FORMATS:
        raise ValueError(f"format: expected one of {', '.join(QR_FORMATS)}")
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind=fmt, scale=10, border=4)
    return out.getvalue()
