"""The frame library's tables: partners' public keys, results cards and the library's log.

A card row keeps the signed envelope exactly as exported or received (so it can be
verified again), plus the few columns the library filters on. Local cards belong to a
study of this instance; imported cards to the partner whose key signed them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from framelab.db import accounts as _accounts  # noqa: F401  (the `account` table the keys name)
from framelab.db.models import Base, one_of

CARD_ORIGINS = ("local", "imported")


class LibraryPartner(Base):
    """A coalition partner whose signed cards this instance accepts."""

    __tablename__ = "library_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # sha256 of the 32 raw bytes of the Ed25519 public key (what a card's signature names).
    key_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    public_key: Mapped[str] = mapped_column(sa.String(64))
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(sa.String(254))


class LibraryCard(Base):
    """One results card: a local study's or one imported from a partner."""

    __tablename__ = "library_card"
    __table_args__ = (one_of("origin", CARD_ORIGINS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the card's canonical JSON: the same card is stored once.
    card_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    origin: Mapped[str] = mapped_column(sa.String(16))
    study_id: Mapped[int | None] = mapped_column(sa.ForeignKey("study.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("library_partner.id"))
    key_id: Mapped[str] = mapped_column(sa.String(64))
    envelope: Mapped[str] = mapped_column(sa.Text)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(sa.String(254))


class LibraryEvent(Base):
    """Who added a partner, published, exported, imported or had a card refused (append-only
    by use; study-bound events also go to the study's audit trail)."""

    __tablename__ = "library_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
