"""Follow-up waves' tables: a participant's follow-up link, their wave answers and returns.

- `wave_link`: the participant's follow-up token (160 random bits, URL-safe), made when
  they complete wave 1 of a study with waves. It opens the wave pages only: it may
  resume, it never withdraws (DECISIONS rule 5). It is kept in clear, like the
  participant code, because the campaign's "due" list hands it out again.
- `wave_response`: one answer to one item in one later wave; linked to wave 1 by the
  participant's row only (nothing identifying).
- `wave_return`: that the participant answered a wave, and when; written in the same
  transaction as the wave's answers (all of them or none).

Every row goes with its participant (ON DELETE CASCADE; withdrawal and erasure delete
them, framelab.services.waves and framelab.services.erasure).
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from framelab.db.models import Base

TOKEN_BYTES = 20  # 160 bits (DECISIONS rule 5 asks at least 128)


def new_follow_up_token() -> str:
    """An unguessable follow-up token: 160 random bits, URL-safe base64 (27 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


class WaveLink(Base):
    __tablename__ = "wave_link"

    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]


class WaveResponse(Base):
    __tablename__ = "wave_response"
    __table_args__ = (sa.UniqueConstraint("participant_id", "wave_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    wave_id: Mapped[str] = mapped_column(sa.String(16))
    item_id: Mapped[str] = mapped_column(sa.String(64))
    value_int: Mapped[int | None] = mapped_column(sa.Integer)
    answered_at: Mapped[datetime]


class WaveReturn(Base):
    __tablename__ = "wave_return"

    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    wave_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    returned_at: Mapped[datetime]
