"""Reaching people (issue 21): channel links, invitation lists and their invitations.

A campaign (its first study, DECISIONS rule 1) owns these rows: `study_id` is always
the campaign's first study, whichever version receives newcomers.

- `channel_link`: one named link per channel (SMS, WhatsApp, a poster...), reached at
  `/c/<code>`. Its `source` is what the participants it brings get in their `source`
  column (fixed here, never read from the address). `opened` counts the link's
  openings: a number only, with no time, address or anything else about whoever
  opened it (link previews of chat apps and repeat visits count too).
- `recipient_list`: one uploaded list of the campaign's contacts (its name only).
- `recipient`: one invited person of the campaign: the keyed pseudonym of their contact
  id (HMAC under the pseudonym key, DECISIONS rule 6; never the id itself), the hash of
  their link's token and the random nonce the token is derived from with the key
  (framelab.services.recipient_lists), and the participant the link enrolled, if any.
  The same contact id in two lists of a campaign is one recipient.
- `recipient_list_entry`: which lists a recipient was in.

A withdrawal unlinks the recipient from the participant and marks it withdrawn (its
link then enrols nobody); an erasure deletes the recipients of the erased participants.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from framelab.db.models import Base, one_of

CHANNEL_KINDS = ("sms", "whatsapp", "social", "email", "poster", "custom")


class ChannelLink(Base):
    """A campaign's named link for one channel, at `/c/<code>`."""

    __tablename__ = "channel_link"
    __table_args__ = (
        sa.UniqueConstraint("study_id", "name"),
        sa.UniqueConstraint("study_id", "source"),
        one_of("kind", CHANNEL_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(80))
    source: Mapped[str] = mapped_column(sa.String(64))
    # How often the link was opened: a bare counter (see the module docstring).
    opened: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("0"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(sa.String(254))


class RecipientList(Base):
    """One uploaded list of a campaign's contacts: its name, never the contacts."""

    __tablename__ = "recipient_list"
    __table_args__ = (sa.UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(sa.String(254))


class Recipient(Base):
    """One invited person of a campaign: a keyed pseudonym, a token's hash, a participant."""

    __tablename__ = "recipient"
    __table_args__ = (sa.UniqueConstraint("study_id", "pseudonym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(sa.String(64))
    token_nonce: Mapped[str] = mapped_column(sa.String(32))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    participant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="SET NULL"), unique=True
    )
    withdrawn: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    created_at: Mapped[datetime]


class RecipientListEntry(Base):
    """A recipient's place in a list (a recipient may be in several lists of a campaign)."""

    __tablename__ = "recipient_list_entry"

    list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("recipient_list.id", ondelete="CASCADE"), primary_key=True
    )
    recipient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("recipient.id", ondelete="CASCADE"), primary_key=True, index=True
    )
