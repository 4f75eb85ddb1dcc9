"""The codebook of a study as its exports code it, read from the database.

framelab.services.codebook derives the columns and their coding from the study
definition alone; `export_codebook` adds what only the stored participants tell: the
codes of values the study file does not declare (`observed_categories`), the withdrawn
participants per arm with small cells suppressed (`withdrawn_counts`), the study version
and whether the data are interim. Every export file of a study carries this codebook.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant
from framelab.db.session import reading
from framelab.domain.disclosure import protect_counts
from framelab.domain.names import arm_name
from framelab.services.codebook import codebook
from framelab.services.dashboard import is_interim
from framelab.services.study_versions import get_study

__all__ = ["export_codebook", "observed_categories", "withdrawn_counts"]


def observed_categories(session: Session, study_id: int) -> dict[str, list[str]]:
    """Category column -> the values stored for any participant of the study.

    The codes of a value the study file does not declare (a source named in a link)
    follow from these, so every export of a study and its codebook share one coding.
    """
    with reading(session):
        out = {}
        for name in ("stratum", "source", "language", "arm"):
            column = getattr(Participant, name)
            query = sa.select(column).where(Participant.study_id == study_id).distinct()
            out[name] = sorted(v for v in session.scalars(query) if v)
        return out


def withdrawn_counts(
    session: Session, loaded: Any, *, include_pilot: bool = False, rehearsal: bool = False
) -> dict[str, Any]:
    """Withdrawn participants per arm, small cells suppressed (DECISIONS rule 7).

    Withdrawn participants are never rows of an export; this is all an export says of
    them. Counts from 1 to `quality.min_cell_size` - 1 are hidden, and so many more that
    no hidden count follows from the total and the others (framelab.domain.disclosure);
    a total below the minimum is hidden as well. Withdrawals before assignment have no
    arm: they are in the total only.
    """
    spec = loaded.spec
    query = sa.select(Participant.arm, sa.func.count()).where(
        Participant.study_id == loaded.id,
        Participant.status == "withdrawn",
        Participant.rehearsal.is_(rehearsal),
        Participant.duplicate.is_(False),
    )
    if not include_pilot:
        query = query.where(Participant.pilot.is_(False))
    with reading(session):
        counts = dict(session.execute(query.group_by(Participant.arm)).all())
    arms = [a.id for a in [spec.control_arm, *spec.frame_arms]]
    minimum = spec.quality.min_cell_size
    cells = protect_counts([int(counts.get(arm, 0)) for arm in arms], minimum)
    lang = spec.default_language
    total = sum(int(v) for v in counts.values())
    return {
        "min_cell_size": minimum,
        # A total below the minimum is itself a small cell: it is hidden too.
        "total": total if total == 0 or total >= minimum else None,
        "by_arm": [
            {
                "arm": arm,
                "label": arm_name(spec, arm, lang),
                "count": cell.value,
                "shown": cell.text,
            }
            for arm, cell in zip(arms, cells, strict=True)
        ],
    }


def export_codebook(
    session: Session,
    slug: str,
    *,
    include_pilot: bool = False,
    rehearsal: bool = False,
    exact_times: bool = False,
) -> dict[str, Any]:
    """The codebook of study `slug` as its exports code it (version, observed codes,
    time precision, withdrawn participants per arm)."""
    with reading(session):
        loaded = get_study(session, slug)
        observed = observed_categories(session, loaded.id)
        book = codebook(
            loaded.spec, version=loaded.version, observed=observed, exact_times=exact_times
        )
        book["withdrawn"] = withdrawn_counts(
            session, loaded, include_pilot=include_pilot, rehearsal=rehearsal
        )
        # Real data taken before the locked target is interim (DECISIONS rule 3).
        book["interim"] = not rehearsal and is_interim(session, loaded)
        return book
