"""The studio's live dashboard: a recruitment funnel and data-quality figures, no outcomes.

Outcome results stay hidden until the planned sample (target_n completes, or the study
is closed when there is no target) so that nobody peeks and stops early.
Pilot participants are counted apart and never in the funnel; rehearsal
(simulated) participants and duplicates (a panel id that had taken part before,
DECISIONS rule 5) are in no figure but their own count. Groups are named as a
person reads them: arms by their label, strata by the answers of the blocking question
(its option labels, never the stored codes), in the studio's language.

Small cells stay small (framelab.domain.disclosure). The whole study's funnel is exact.
Counts by group (arm, stratum, source) are not: each column of such a table moves only
in whole batches of `quality.min_cell_size` participants (in the order the table could
first count them: at assignment for arms and strata, at arrival for sources), and in
each column a count from 1 to the minimum - 1 reads "fewer than", with further counts
hidden until no hidden count follows from the exact total. Subtracting the visible
groups from the total, or reloading the page after each arrival, therefore never gives
a small group's count back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant
from framelab.db.session import reading
from framelab.domain.disclosure import Cell, protect_counts, released_counts
from framelab.domain.names import arm_name
from framelab.domain.study import Study as StudySpec
from framelab.services.reach_counts import NO_REACH, ReachTables, reach_tables
from framelab.services.screening_counts import NO_SCREENING, Screening, screening_counts
from framelab.services.study_targets import COMPLETED_COUNT
from framelab.services.study_versions import LoadedStudy

FUNNEL = ("started", "consented", "assigned", "completed", "excluded", "withdrawn")
EXCLUSION_FLAGS = ("attention_failed", "speeder", "honeypot")
# The studio's pages are written in English; study labels follow it where the study has it.
STUDIO_LANGUAGE = "en"


@dataclass(frozen=True)
class FunnelRow:
    """Counts for one group (the whole study, an arm or a stratum)."""

    label: str  # what a person reads: the arm's label, the stratum's answers
    key: str = ""  # an arm's id in the export's `arm` column
    started: int = 0
    consented: int = 0
    assigned: int = 0
    completed: int = 0
    excluded: int = 0
    withdrawn: int = 0


@dataclass(frozen=True)
class GroupRow:
    """One group's counts as shown (FUNNEL's columns), released in batches, small ones hidden."""

    label: str
    key: str = ""
    cells: tuple[Cell, ...] = ()

    def count(self, column: str) -> int | None:
        """The released count shown in `column` (one of FUNNEL); None when it is hidden."""
        return self.cells[FUNNEL.index(column)].value

    started = property(lambda self: self.count("started"))
    consented = property(lambda self: self.count("consented"))
    assigned = property(lambda self: self.count("assigned"))
    completed = property(lambda self: self.count("completed"))
    excluded = property(lambda self: self.count("excluded"))
    withdrawn = property(lambda self: self.count("withdrawn"))


@dataclass(frozen=True)
class Dashboard:
    total: FunnelRow  # the whole study: exact
    arms: tuple[GroupRow, ...]
    strata: tuple[GroupRow, ...]
    sources: tuple[tuple[str, Cell], ...]
    median_completion_seconds: float | None
    attention_failure_rate: float | None
    pilot_started: int
    pilot_completed: int
    target_n: int | None
    analysable: int  # completed and not excluded by the plan's rules
    results_visible: bool
    results_reason: str
    rehearsal_started: int = 0  # simulated participants: only counted here, never above
    rehearsal_completed: int = 0
    duplicates_started: int = 0  # repeat panel ids: only counted here, never above
    duplicates_completed: int = 0
    batch: int = 1  # group counts move in steps of this many participants
    sources_pending: int = 0  # participants not yet counted by source (the current batch)
    screening: Screening = NO_SCREENING  # turned away before assignment; quota cells
    reach: ReachTables = NO_REACH  # channel links and invitation lists (reach_counts)


def _excluded(row: sa.Row, flags: tuple[str, ...]) -> bool:
    return row.status == "completed" and any(getattr(row, f) for f in flags)


def label_language(spec: StudySpec) -> str:
    """The language of study labels on studio pages: the studio's, else the study's default."""
    return STUDIO_LANGUAGE if STUDIO_LANGUAGE in spec.languages else spec.default_language


def stratum_labels(spec: StudySpec, lang: str) -> dict[str, str]:
    """Stratum -> the answers it stands for, by their option labels (`left: Very left, Left`)."""
    strata = spec.strata()
    if spec.design.scheme != "blocked" or spec.design.block_by is None:
        return {s: s for s in strata}
    item = spec.item(spec.design.block_by)
    labels = item.value_labels(lang, spec.default_language)

    def answer(code: int) -> str:
        # A likert item may label only its end points; the others read as their position.
        return labels.get(code) or f"point {code} of {item.points}"

    if spec.design.strata:
        return {
            name: f"{name}: {', '.join(answer(v) for v in values)}"
            for name, values in spec.design.strata.items()
        }
    return {s: answer(int(s)) for s in strata}


def _funnel(label: str, rows: list[sa.Row], flags: tuple[str, ...], key: str = "") -> FunnelRow:
    return FunnelRow(
        label=label,
        key=key if key != label else "",
        started=len(rows),
        consented=sum(r.consented_at is not None for r in rows),
        assigned=sum(r.arm is not None for r in rows),
        completed=sum(r.status == "completed" for r in rows),
        excluded=sum(_excluded(r, flags) for r in rows),
        withdrawn=sum(r.status == "withdrawn" for r in rows),
    )


# When a table could first count a participant in a column (its group is known from
# assignment on, so no arrival is ever counted earlier than that).
_LATEST = datetime.max.replace(tzinfo=UTC)


def _moment(*times: datetime | None) -> datetime:
    known = [t for t in times if t is not None]
    return max(known) if len(known) == len(times) else _LATEST


_COLUMN_EVENTS: dict[str, Callable[[sa.Row, tuple[str, ...]], datetime | None]] = {
    "started": lambda r, _f: _moment(r.assigned_at),
    "consented": lambda r, _f: _moment(r.consented_at, r.assigned_at) if r.consented_at else None,
    "assigned": lambda r, _f: _moment(r.assigned_at),
    "completed": lambda r, _f: _moment(r.completed_at) if r.status == "completed" else None,
    "excluded": lambda r, f: _moment(r.completed_at) if _excluded(r, f) else None,
    "withdrawn": lambda r, _f: _moment(r.withdrawn_at) if r.status == "withdrawn" else None,
}


def _group_table(
    rows: list[sa.Row],
    group_of: Callable[[sa.Row], str | None],
    groups: list[tuple[str, str, str]],
    flags: tuple[str, ...],
    batch: int,
    minimum: int,
) -> tuple[GroupRow, ...]:
    """Rows (label, key) of `groups` (group, label, key): released in batches, protected."""
    assigned = [r for r in rows if r.arm is not None]
    columns = []
    for name in FUNNEL:
        event = _COLUMN_EVENTS[name]
        arrivals = [
            ((moment, r.id), group_of(r))
            for r in assigned
            if (moment := event(r, flags)) is not None
        ]
        counts = released_counts(arrivals, batch)
        columns.append(protect_counts([counts.get(g, 0) for g, _, _ in groups], minimum))
    return tuple(
        GroupRow(label, key if key != label else "", tuple(column[i] for column in columns))
        for i, (_, label, key) in enumerate(groups)
    )


def _source_table(
    rows: list[sa.Row], batch: int, minimum: int
) -> tuple[tuple[tuple[str, Cell], ...], int]:
    """(source, count) of the released participants, protected; and how many wait for release."""
    arrivals = [((r.started_at, r.id), r.source or "direct") for r in rows]
    counts = released_counts(arrivals, batch)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    cells = protect_counts([n for _, n in ordered], minimum)
    pending = len(rows) - sum(counts.values())
    return tuple((name, cell) for (name, _), cell in zip(ordered, cells, strict=True)), pending


# The dashboard's columns of a study's participants (no codes, no answers).
_DASHBOARD_ROWS = sa.select(
    Participant.id,
    Participant.status,
    Participant.arm,
    Participant.stratum,
    Participant.source,
    Participant.started_at,
    Participant.consented_at,
    Participant.assigned_at,
    Participant.completed_at,
    Participant.withdrawn_at,
    Participant.pilot,
    Participant.rehearsal,
    Participant.duplicate,
    Participant.attention_failed,
    Participant.speeder,
    Participant.honeypot,
    Participant.duration_seconds,
).where(Participant.study_id == sa.bindparam("study_id"))


def dashboard(session: Session, loaded: LoadedStudy, *, lang: str | None = None) -> Dashboard:
    """Funnel per arm and stratum, timing, attention checks and sources of a study.

    Arms and strata are labelled in `lang` (default: `label_language(spec)`).
    """
    with reading(session):
        rows = session.execute(_DASHBOARD_ROWS, {"study_id": loaded.id}).all()
    spec = loaded.spec
    flags = tuple(f for f in spec.analysis.exclude if f in EXCLUSION_FLAGS)
    rehearsal = [r for r in rows if r.rehearsal]
    duplicates = [r for r in rows if r.duplicate and not r.rehearsal]
    real = [r for r in rows if not r.pilot and not r.rehearsal and not r.duplicate]
    pilot = [r for r in rows if r.pilot and not r.rehearsal and not r.duplicate]
    lang = lang or label_language(spec)
    minimum = spec.quality.min_cell_size
    arms = _group_table(
        real,
        lambda r: r.arm,
        [(arm.id, arm_name(spec, arm.id, lang), arm.id) for arm in spec.arms],
        flags,
        minimum,
        minimum,
    )
    names = stratum_labels(spec, lang)
    strata = (
        _group_table(
            real,
            lambda r: r.stratum,
            [(s, names[s], "") for s in spec.strata()],
            flags,
            minimum,
            minimum,
        )
        if len(spec.strata()) > 1
        else ()
    )
    sources, pending = _source_table(real, minimum, minimum)
    durations = [
        r.duration_seconds
        for r in real
        if r.status == "completed" and r.duration_seconds is not None
    ]
    answered_pre = [r for r in real if r.arm is not None]
    attention = (
        sum(r.attention_failed for r in answered_pre) / len(answered_pre)
        if spec.attention_items and answered_pre
        else None
    )
    total = _funnel("all", real, flags)
    analysable = total.completed - total.excluded
    visible, reason = _results_gate(loaded, total.completed)
    return Dashboard(
        total=total,
        arms=arms,
        strata=strata,
        sources=sources,
        median_completion_seconds=median(durations) if durations else None,
        attention_failure_rate=attention,
        pilot_started=len(pilot),
        pilot_completed=sum(r.status == "completed" for r in pilot),
        target_n=spec.target_n,
        analysable=analysable,
        results_visible=visible,
        results_reason=reason,
        rehearsal_started=len(rehearsal),
        rehearsal_completed=sum(r.status == "completed" for r in rehearsal),
        duplicates_started=len(duplicates),
        duplicates_completed=sum(r.status == "completed" for r in duplicates),
        batch=minimum,
        sources_pending=pending,
        screening=screening_counts(session, loaded),
        reach=reach_tables(session, loaded),
    )


def completed_count(session: Session, loaded: LoadedStudy) -> int:
    """Completed real participants (no pilot, rehearsal or duplicate): what the target counts."""
    with reading(session):
        count = session.scalar(COMPLETED_COUNT, {"study_id": loaded.id, "pilot": False})
    return int(count or 0)


def channels(session: Session, study_id: int) -> list[str]:
    """The channels (`?src=`) the study's participants came through so far, rehearsal aside."""
    with reading(session):
        rows = session.scalars(
            sa.select(Participant.source)
            .where(
                Participant.study_id == study_id,
                Participant.source.is_not(None),
                Participant.rehearsal.is_(False),
            )
            .distinct()
            .order_by(Participant.source)
        )
        return [source for source in rows if source]


def is_interim(session: Session, loaded: LoadedStudy) -> bool:
    """Whatever is made of the study now is interim: short of its locked target, not closed.

    Interim files and reports say so in their name and metadata and carry only the
    anytime-valid inference (DECISIONS rule 3).
    """
    return not _results_gate(loaded, completed_count(session, loaded))[0]


def _results_gate(loaded: LoadedStudy, completed: int) -> tuple[bool, str]:
    target = loaded.spec.target_n
    if target is not None and completed >= target:
        return True, f"The planned sample of {target} completed participants has been reached."
    if target is None and loaded.status == "closed":
        return True, "The study is closed (it has no planned sample size)."
    if loaded.status == "closed":
        # The owner's confirmed close (a stopping rule's advice leads there too): final.
        return True, f"The study was closed by its owner at {completed} of {target} completed."
    why = (
        "Outcome results stay hidden until the planned sample is reached: looking at results "
        "early and stopping when they look good makes false positives far more likely, and "
        "the analysis plan assumes the full sample."
    )
    if target is None:
        return False, f"{why} This study has no target size, so results appear once it is closed."
    return False, f"{why} {completed} of {target} completed so far."
