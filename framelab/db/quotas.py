"""Quota fill: completed real participants per quota cell of a study (issue 21).

One row per (study, quota item, cell), created at the first check of the cell and
raised by one at every completion of a real participant (neither pilot, rehearsal nor
duplicate) whose answer falls in it. It names nobody and holds no time: a count, like
the block counter (`BlockState`), and locked the same way while a participant is
checked against it (framelab.services.participant_store.quotas). A withdrawal after
completing does not lower it: a cell once full stays full, as a study closed at its
target stays closed.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from framelab.db.models import Base


class QuotaFill(Base):
    """How many real participants completed in one quota cell of a study."""

    __tablename__ = "quota_fill"

    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), primary_key=True)
    variable: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    cell: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    completed: Mapped[int] = mapped_column(sa.Integer, default=0)
