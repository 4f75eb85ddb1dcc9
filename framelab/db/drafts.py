"""Page drafts: a page's valid answers kept across reloads and returns, never responses.

A participant whose page failed validation (or whose browser sent the page's answers as
it was hidden) has the answers that were valid kept here, one row per participant and
page, until the page is submitted (the row goes in the same transaction as the answers),
the participant withdraws, or the study is erased. Exports and analyses read responses
only, so a draft never reaches them. `answers` is a JSON object of item id to the value
as the form sends it, encrypted at rest like text answers when FRAMELAB_TEXT_KEY is set
(framelab.crypto).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from framelab.db.models import Base


class PageDraft(Base):
    """The valid answers of one participant's unsubmitted page (migration s015)."""

    __tablename__ = "page_draft"

    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )
    # The participant's step the answers belong to (participant.step).
    step: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    answers: Mapped[str] = mapped_column(sa.Text)
    saved_at: Mapped[datetime]
