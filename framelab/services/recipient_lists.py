"""Invitation lists: a campaign's contact ids in, one personal link per contact out.

What is stored of a contact (framelab.db.reach.Recipient) is never the id itself (nor a
phone number or e-mail address, if that is what the campaign's ids are): only its
keyed pseudonym, HMAC under the instance's pseudonym key of the salted SHA-256
(framelab.services.pseudonyms, DECISIONS rule 6), with the campaign's salt. The same
contact id in two lists of one campaign is one recipient with one link, so a person
invited twice still takes part once.

The link's token (at least 128 bits, DECISIONS rule 5) is derived, not stored:

    token = base64url(HMAC-SHA256(k_1, "framelab.invitation-token:" + nonce)[:16])

with k_1 the first key of the pseudonym key chain (rotation appends keys and keeps
k_1, so links already sent keep working) and `nonce` 128 random bits stored with the
recipient. The database keeps the nonce and SHA-256(token), which is how the link is
looked up: a dump alone yields no working link (the key file is needed), and an
upload of the same contacts again gives the same links (the CSV of links is given
when a list is uploaded, and again whenever that list is uploaded again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.models import Study
from framelab.db.reach import Recipient, RecipientList, RecipientListEntry
from framelab.db.session import reading, writing
from framelab.domain.contact_lists import ContactListError, links_csv, read_contact_ids
from framelab.services import audit
from framelab.services.participant_store.reach import token_hash
from framelab.services.pseudonyms import PseudonymKey

TOKEN_BYTES = 16  # 128 bits
MAX_LIST_NAME = 80
_CHUNK = 500


@dataclass(frozen=True)
class Upload:
    """What an upload did: the list, how many contacts it had, how many were new to the
    campaign, and the CSV of (contact id, link) to hand to a bulk-SMS or mailing tool."""

    list_id: int
    name: str
    contacts: int
    new: int
    csv: bytes


@dataclass(frozen=True)
class ListView:
    id: int
    name: str
    size: int


def invitation_token(key: PseudonymKey, nonce: str) -> str:
    """The token of the invitation link whose recipient stores `nonce` (22 characters)."""
    mac = hmac.new(key.chain[0], f"framelab.invitation-token:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:TOKEN_BYTES]).decode("ascii").rstrip("=")


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def upload_recipient_list(
    session: Session,
    study_id: int,
    data: bytes,
    *,
    name: str,
    column: str,
    key: PseudonymKey,
    link_for: Callable[[str], str],
    now: datetime,
) -> Upload:
    """Read an uploaded CSV and invite each contact of `column` once; all or nothing.

    `name` names the list (a list of that name in the campaign gains the new contacts);
    `link_for(token)` is the full address of an invitation link. Raises
    ContactListError (nothing is stored) when the file or name cannot be used.
    """
    name = " ".join(name.split())
    if not name or len(name) > MAX_LIST_NAME:
        raise ContactListError(f"Give the list a name of 1 to {MAX_LIST_NAME} characters.")
    contacts = read_contact_ids(data, column)
    for attempt in (1, 2):
        try:
            with writing(session):
                return _invite(session, study_id, contacts, name, key, link_for, now)
        except IntegrityError:
            # The same contacts or list name, uploaded at the same moment (PostgreSQL):
            # the other upload's rows are there now, and the second attempt reuses them.
            if attempt == 2:
                raise
    raise AssertionError("unreachable: the second attempt returns or raises")


def _invite(
    session: Session,
    study_id: int,
    contacts: list[str],
    name: str,
    key: PseudonymKey,
    link_for: Callable[[str], str],
    now: datetime,
) -> Upload:
    campaign = session.get(Study, session.get(Study, study_id).campaign_root_id)
    hashes = {contact: key.pseudonym(campaign.salt, contact) for contact in contacts}
    known: dict[str, Recipient] = {}
    for chunk in _chunks(list(hashes.values())):
        known.update(
            (r.pseudonym, r)
            for r in session.scalars(
                sa.select(Recipient).where(
                    Recipient.study_id == campaign.id, Recipient.pseudonym.in_(chunk)
                )
            )
        )
    fresh = []
    for pseudonym in hashes.values():
        if pseudonym not in known:
            nonce = secrets.token_hex(TOKEN_BYTES)
            known[pseudonym] = recipient = Recipient(
                study_id=campaign.id,
                pseudonym=pseudonym,
                token_nonce=nonce,
                token_hash=token_hash(invitation_token(key, nonce)),
                withdrawn=False,
                created_at=now,
            )
            fresh.append(recipient)
    session.add_all(fresh)
    listed = _list_named(session, campaign.id, name, now)
    session.flush()
    _add_entries(session, listed.id, [r.id for r in known.values()])
    rows = [
        (contact, link_for(invitation_token(key, known[h].token_nonce)))
        for contact, h in hashes.items()
    ]
    audit.record(
        session,
        study_id,
        "exported",
        now=now,
        detail=f"invitation list '{name}': {len(rows)} links ({len(fresh)} new), CSV",
    )
    return Upload(listed.id, name, len(rows), len(fresh), links_csv(rows))


def _list_named(session: Session, root: int, name: str, now: datetime) -> RecipientList:
    found = session.scalar(
        sa.select(RecipientList).where(RecipientList.study_id == root, RecipientList.name == name)
    )
    if found is None:
        found = RecipientList(
            study_id=root, name=name, created_at=now, created_by=audit.current_actor().name
        )
        session.add(found)
    return found


def _add_entries(session: Session, list_id: int, recipient_ids: list[int]) -> None:
    present: set[int] = set()
    for chunk in _chunks(recipient_ids):
        present.update(
            session.scalars(
                sa.select(RecipientListEntry.recipient_id).where(
                    RecipientListEntry.list_id == list_id,
                    RecipientListEntry.recipient_id.in_(chunk),
                )
            )
        )
    session.add_all(
        RecipientListEntry(list_id=list_id, recipient_id=rid)
        for rid in dict.fromkeys(recipient_ids)
        if rid not in present
    )


def recipient_lists(session: Session, study_id: int) -> list[ListView]:
    """The campaign's invitation lists with their sizes, oldest first."""
    with reading(session):
        root = session.get(Study, study_id).campaign_root_id
        rows = session.execute(
            sa.select(
                RecipientList.id, RecipientList.name, sa.func.count(RecipientListEntry.recipient_id)
            )
            .outerjoin(RecipientListEntry, RecipientListEntry.list_id == RecipientList.id)
            .where(RecipientList.study_id == root)
            .group_by(RecipientList.id, RecipientList.name)
            .order_by(RecipientList.id)
        ).all()
        return [ListView(i, n, int(size)) for i, n, size in rows]
