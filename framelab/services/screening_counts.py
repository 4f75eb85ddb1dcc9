"""The dashboard's screening figures: who was turned away before assignment, and quota fill.

Real participants only (neither pilot, rehearsal nor duplicate), like the funnel: how
many refused the consent, were screened out by the screener (step `ineligible`) or
arrived in a full quota cell (step `over_quota`); all three have the status
`screened_out`, are never assigned and are in no arm. Each quota cell shows its limit,
whether it is full, and its completed count under the study's minimum cell size
(framelab.domain.disclosure), as the funnel by stratum does.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant
from framelab.db.quotas import QuotaFill
from framelab.db.session import reading
from framelab.domain.disclosure import Cell, protect_counts
from framelab.services.study_versions import LoadedStudy


@dataclass(frozen=True)
class QuotaRow:
    """One quota cell: its item and cell, the limit, the completed count (protected), full."""

    variable: str
    cell: str
    limit: int
    completed: Cell
    full: bool


@dataclass(frozen=True)
class Screening:
    """Real participants turned away before assignment, by reason, and each quota cell."""

    consent_refused: int = 0
    screened_out: int = 0
    over_quota: int = 0
    quotas: tuple[QuotaRow, ...] = ()


NO_SCREENING = Screening()  # nobody turned away, no quota: a dashboard's default


_TURNED_AWAY = (
    sa.select(Participant.step, sa.func.count())
    .where(
        Participant.study_id == sa.bindparam("study_id"),
        Participant.status == "screened_out",
        Participant.pilot.is_(False),
        Participant.rehearsal.is_(False),
        Participant.duplicate.is_(False),
    )
    .group_by(Participant.step)
)
_FILL = sa.select(QuotaFill.variable, QuotaFill.cell, QuotaFill.completed).where(
    QuotaFill.study_id == sa.bindparam("study_id")
)


def screening_counts(session: Session, loaded: LoadedStudy) -> Screening:
    """The study's turned-away counts by reason and its quota cells (limits in file order)."""
    spec = loaded.spec
    with reading(session):
        by_step = dict(session.execute(_TURNED_AWAY, {"study_id": loaded.id}).all())
        fill = (
            {(v, c): n for v, c, n in session.execute(_FILL, {"study_id": loaded.id})}
            if spec.quota
            else {}
        )
    cells = [
        (v, c, limit) for v, limits in (spec.quota or {}).items() for c, limit in limits.items()
    ]
    done = [fill.get((v, c), 0) for v, c, _ in cells]
    shown = protect_counts(done, spec.quality.min_cell_size) if cells else []
    return Screening(
        consent_refused=int(by_step.get("screened_out", 0)),
        screened_out=int(by_step.get("ineligible", 0)),
        over_quota=int(by_step.get("over_quota", 0)),
        quotas=tuple(
            QuotaRow(v, c, limit, cell, n >= limit)
            for (v, c, limit), n, cell in zip(cells, done, shown, strict=True)
        ),
    )
