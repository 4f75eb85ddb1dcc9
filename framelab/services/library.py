"""The frame library: results cards of finished studies and partners' cards, pooled.

- `finality`: whether a study's analysis is final (DECISIONS rule 2: closed at its
  locked target, or closed by the owner's confirmed close, which the audit trail keeps).
- `publish_card`: analyse the final data, build the study's card, sign it, keep it.
- `export_card`: the signed file of a local card (audited on the study's trail).
- `add_partner` / `import_card`: a partner's public key; a card it signed, verified.
- `library` and `value_evidence` (framelab.services.library_view): what the studio shows.

Services take a Session, own the transaction and never import Flask.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.library import LibraryCard, LibraryEvent, LibraryPartner
from framelab.db.models import Participant, Study, StudyVersion
from framelab.db.review import AuditEvent
from framelab.db.session import reading, writing
from framelab.services import audit, card_keys, cards
from framelab.services.cards import CardDetails, CardRefused
from framelab.services.reporting import report_inputs
from framelab.services.study_versions import get_study

__all__ = [
    "Finality",
    "add_partner",
    "export_card",
    "finality",
    "has_card",
    "import_card",
    "partners",
    "publish_card",
]


@dataclass(frozen=True)
class Finality:
    """Whether a study's analysis is final, how it closed and when."""

    final: bool
    reason: str
    closed_by: str | None = None  # "target" or "owner"
    launched_on: date | None = None
    closed_on: date | None = None


def _real_completed(session: Session, study_id: int) -> int:
    return session.scalar(
        sa.select(sa.func.count(Participant.id)).where(
            Participant.study_id == study_id,
            Participant.status == "completed",
            Participant.pilot.is_(False),
            Participant.rehearsal.is_(False),
            Participant.duplicate.is_(False),
        )
    )


def finality(session: Session, slug: str) -> Finality:
    """Final = closed, and either its real completions reached the locked target or the
    owner confirmed "close now" (an audited `closed` event); DECISIONS rule 2."""
    with reading(session):
        loaded = get_study(session, slug)
        version = session.get(StudyVersion, loaded.version_id)
        if loaded.status != "closed" or version.locked_at is None:
            return Finality(False, f"{slug} is {loaded.status}; a card needs a closed study")
        closed_event = session.scalar(
            sa.select(AuditEvent.at)
            .where(AuditEvent.study_id == loaded.id, AuditEvent.action == "closed")
            .order_by(AuditEvent.at.desc())
            .limit(1)
        )
        target = loaded.spec.target_n
        done = _real_completed(session, loaded.id)
        updated = session.get(Study, loaded.id).updated_at
        launched_on = version.locked_at.date()
    if target is not None and done >= target:
        return Finality(True, "closed at its target", "target", launched_on, updated.date())
    if closed_event is not None:
        return Finality(True, "closed by the owner", "owner", launched_on, closed_event.date())
    return Finality(False, f"{slug} closed without reaching its target or an owner's close")


def _event(session: Session, action: str, detail: str, *, now: datetime) -> None:
    who = audit.current_actor()
    session.add(LibraryEvent(at=now, actor_id=who.id, actor=who.name, action=action, detail=detail))


def publish_card(
    session: Session,
    slug: str,
    details: CardDetails,
    *,
    key: card_keys.SigningKey,
    now: datetime,
    rehearsal: bool = False,
    analyse: Callable[..., Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Analyse the study's final data, build and sign its card; keep it in the library.

    With `rehearsal` the simulated participants are analysed instead and the card,
    stamped `rehearsal: true`, is returned but never kept (DECISIONS rule 4). Raises
    CardRefused when the study is not final or the card cannot be built.
    """
    state = finality(session, slug)
    if not state.final:
        raise CardRefused(f"study: {state.reason}")
    if analyse is None:
        from analysis.run import run as analyse
    inputs = report_inputs(session, slug, rehearsal=rehearsal, now=now)
    if inputs.data.empty:
        raise CardRefused(f"study: {slug} has no participants to analyse")
    results = analyse(inputs.data, inputs.plan, provenance=inputs.provenance)
    card = cards.build_card(
        inputs.loaded.spec,
        results,
        details,
        launched_on=state.launched_on,
        closed_on=state.closed_on,
        closed_by=state.closed_by,
        rehearsal=rehearsal,
    )
    envelope = cards.seal(card, key)
    if rehearsal:
        return envelope
    detail = f"{len(card['results'])} aggregate rows, country {card['study']['country']}"
    with writing(session):  # only now: the analysis above holds no lock
        old = session.scalars(
            sa.select(LibraryCard).where(
                LibraryCard.study_id == inputs.loaded.id, LibraryCard.origin == "local"
            )
        ).all()
        for row in old:
            session.delete(row)
        session.flush()
        session.add(
            LibraryCard(
                card_hash=cards.card_id(card),
                origin="local",
                study_id=inputs.loaded.id,
                key_id=key.key_id,
                envelope=json.dumps(envelope, ensure_ascii=False, sort_keys=True),
                added_at=now,
                added_by=audit.current_actor().name,
            )
        )
        audit.record(session, inputs.loaded.id, "card_published", now=now, detail=detail)
        _event(session, "card_published", f"{slug}: {detail}", now=now)
    return envelope


def has_card(session: Session, slug: str) -> bool:
    """Whether the study has a card in the library."""
    with reading(session):
        loaded = get_study(session, slug)
        found = session.scalar(
            sa.select(LibraryCard.id).where(
                LibraryCard.study_id == loaded.id, LibraryCard.origin == "local"
            )
        )
    return found is not None


def export_card(session: Session, slug: str, *, now: datetime) -> bytes:
    """The signed card file of the study's library card (LookupError when it has none)."""
    with writing(session):
        loaded = get_study(session, slug)
        row = session.scalar(
            sa.select(LibraryCard).where(
                LibraryCard.study_id == loaded.id, LibraryCard.origin == "local"
            )
        )
        if row is None:
            raise LookupError(f"library: {slug} has no results card yet")
        detail = f"card {row.card_hash[:12]}"
        audit.record(session, loaded.id, "card_exported", now=now, detail=detail)
        _event(session, "card_exported", f"{slug}: {detail}", now=now)
        return row.envelope.encode("utf-8")


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    key_id: str
    public_key: str
    added_at: datetime


def partners(session: Session) -> list[Partner]:
    """The registered partners, by name."""
    with reading(session):
        rows = session.scalars(sa.select(LibraryPartner).order_by(LibraryPartner.name))
        return [Partner(r.id, r.name, r.key_id, r.public_key, r.added_at) for r in rows]


def add_partner(
    session: Session, name: str, public_key: str, *, own_key_id: str | None, now: datetime
) -> Partner:
    """Register a partner's public key (CardRefused naming the field when it cannot be)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise CardRefused("name: expected the partner's name (1 to 120 characters)")
    try:
        public = card_keys.parse_public_key(public_key)
    except card_keys.CardKeyError as error:
        raise CardRefused(str(error)) from None
    kid = card_keys.key_id(public)
    if kid == own_key_id:
        raise CardRefused("public_key: this is this instance's own key, not a partner's")
    who = audit.current_actor()
    row = LibraryPartner(
        name=name,
        key_id=kid,
        public_key=card_keys.public_text(public),
        added_at=now,
        added_by=who.name,
    )
    try:
        with writing(session):
            session.add(row)
            _event(session, "partner_added", f"{name}: key {kid[:16]}", now=now)
    except IntegrityError:
        raise CardRefused(
            f"name, public_key: a partner named {name!r} or with this key is already registered"
        ) from None
    return Partner(row.id, row.name, row.key_id, row.public_key, row.added_at)


def import_card(session: Session, raw: bytes | str, *, now: datetime) -> dict[str, Any]:
    """Verify a partner's signed card and add it to the library; returns the card.

    A refused card (unknown signer, changed after signing, malformed, a rehearsal, a
    card already here) raises CardRefused with the reason, which is also logged.
    """
    refused: CardRefused | None = None
    with writing(session):
        try:
            card, card_hash, partner = _verified(session, raw)
        except CardRefused as refusal:
            _event(session, "card_refused", str(refusal)[:500], now=now)  # kept: logged
            refused = refusal
        else:
            session.add(
                LibraryCard(
                    card_hash=card_hash,
                    origin="imported",
                    partner_id=partner.id,
                    key_id=partner.key_id,
                    envelope=json.dumps(json.loads(raw), ensure_ascii=False, sort_keys=True),
                    added_at=now,
                    added_by=audit.current_actor().name,
                )
            )
            _event(
                session,
                "card_imported",
                f"from {partner.name}: {card['study']['title'][:120]} ({card_hash[:12]})",
                now=now,
            )
    if refused is not None:
        raise refused
    return card


def _verified(session: Session, raw: bytes | str) -> tuple[dict[str, Any], str, LibraryPartner]:
    """A partner's card, its hash and its signer; CardRefused when it cannot be added."""
    rows = session.scalars(sa.select(LibraryPartner)).all()
    keys = {r.key_id: card_keys.parse_public_key(r.public_key) for r in rows}
    card, kid = cards.open_envelope(raw, keys)
    if card["study"].get("rehearsal"):
        raise CardRefused(
            "card: a rehearsal card (simulated participants) never enters the library"
        )
    card_hash = cards.card_id(card)
    exists = session.scalar(sa.select(LibraryCard.id).where(LibraryCard.card_hash == card_hash))
    if exists is not None:
        raise CardRefused("card: this card is already in the library")
    return card, card_hash, next(r for r in rows if r.key_id == kid)
