"""The studio's live dashboard: a recruitment funnel and data-quality figures, no outcomes.

Outcome results stay hidden until the planned sample (target_n completes, or the study
is closed when there is no target) so that nobody peeks and stops early.
Pilot participants are counted apart and never in the funnel; rehearsal
(simulated) participants and duplicates (a panel id that had taken part before,
DECISIONS rule 5) are in no figure but their own count. Groups are named as a
person reads them: arms by their label, strata by the answers of the blocking question
(its option labels, never the stored codes), in the studio's language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import median

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant
from framelab.domain.names import arm_name
from framelab.domain.study import Study as StudySpec
from framelab.services.studies import LoadedStudy

FUNNEL = ("started", "consented", "assigned", "completed", "excluded")
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
class Dashboard:
    total: FunnelRow
    arms: tuple[FunnelRow, ...]
    strata: tuple[FunnelRow, ...]
    sources: tuple[tuple[str, int], ...]
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


def dashboard(session: Session, loaded: LoadedStudy, *, lang: str | None = None) -> Dashboard:
    """Funnel per arm and stratum, timing, attention checks and sources of a study.

    Arms and strata are labelled in `lang` (default: `label_language(spec)`).
    """
    rows = session.execute(
        sa.select(
            Participant.status,
            Participant.arm,
            Participant.stratum,
            Participant.source,
            Participant.consented_at,
            Participant.pilot,
            Participant.rehearsal,
            Participant.duplicate,
            Participant.attention_failed,
            Participant.speeder,
            Participant.honeypot,
            Participant.duration_seconds,
        ).where(Participant.study_id == loaded.id)
    ).all()
    session.rollback()
    spec = loaded.spec
    flags = tuple(f for f in spec.analysis.exclude if f in EXCLUSION_FLAGS)
    rehearsal = [r for r in rows if r.rehearsal]
    duplicates = [r for r in rows if r.duplicate and not r.rehearsal]
    real = [r for r in rows if not r.pilot and not r.rehearsal and not r.duplicate]
    pilot = [r for r in rows if r.pilot and not r.rehearsal and not r.duplicate]
    lang = lang or label_language(spec)
    arms = tuple(
        _funnel(
            arm_name(spec, arm.id, lang),
            [r for r in real if r.arm == arm.id],
            flags,
            key=arm.id,
        )
        for arm in spec.arms
    )
    names = stratum_labels(spec, lang)
    strata = tuple(
        _funnel(names[s], [r for r in real if r.stratum == s], flags)
        for s in spec.strata()
        if len(spec.strata()) > 1
    )
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
    sources = Counter(r.source or "direct" for r in real)
    total = _funnel("all", real, flags)
    analysable = total.completed - total.excluded
    visible, reason = _results_gate(loaded, total.completed)
    return Dashboard(
        total=total,
        arms=arms,
        strata=strata,
        sources=tuple(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
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
    )


def _results_gate(loaded: LoadedStudy, completed: int) -> tuple[bool, str]:
    target = loaded.spec.target_n
    if target is not None and completed >= target:
        return True, f"The planned sample of {target} completed participants has been reached."
    if target is None and loaded.status == "closed":
        return True, "The study is closed (it has no planned sample size)."
    why = (
        "Outcome results stay hidden until the planned sample is reached: looking at results "
        "early and stopping when they look good makes false positives far more likely, and "
        "the analysis plan assumes the full sample."
    )
    if target is None:
        return False, f"{why} This study has no target size, so results appear once it is closed."
    return False, f"{why} {completed} of {target} completed so far."
