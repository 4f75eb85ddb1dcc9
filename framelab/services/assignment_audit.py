"""Replay a study's assignment log from its seed, and the log as the bundle gives it.

Every arm is a pure function of (seed, stratum, position) (framelab.domain.assignment),
so anyone with the study file can recompute the whole sequence. `replay_assignments`
does that for every logged assignment and names each divergence: an arm, block or
seed the study's design does not give for that slot, a gap or a repeat in a stratum's
positions, a counter (`block_state`) that does not match the log, or participants
whose arms the log does not account for. The log names no participant (migration
s010), so participants are checked against it by counts: per arm, the assigned
participants outside the duplicates' sequence are exactly the log's rows of that arm;
per stratum and arm, those who still have a stratum (a withdrawal erases it) are no
more than the log's. The log cannot be changed through framelab
(a database trigger refuses UPDATE and DELETE; migration s009), so a divergence means
the database was altered behind framelab's back.

`assignment_log_csv` is the log as stored, which has no identifiers and no times:
stratum, position, block, arm, the study version's hash, and whether the slot went to a
pilot or simulated participant. With seed.txt and study.yaml it lets an analyst check the
randomization independently.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import AssignmentLog, BlockState, Participant, StudyVersion
from framelab.db.session import reading
from framelab.domain.assignment import arm_for_slot
from framelab.domain.study import Study as StudySpec
from framelab.services.study_versions import LoadedStudy, spec_from_json

__all__ = ["ReplayReport", "assignment_log_csv", "replay_assignments"]

LOG_COLUMNS = (
    "stratum",
    "position",
    "block_index",
    "position_in_block",
    "arm",
    "spec_hash",
    "pilot",
    "rehearsal",
)


@dataclass
class ReplayReport:
    """What a replay checked and every divergence it found (empty when the log replays)."""

    study: str
    seed: int
    assignments: int = 0
    strata: dict[str, int] = field(default_factory=dict)
    divergences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.divergences


def _log_rows(session: Session, study_id: int) -> list[sa.Row]:
    return session.execute(
        sa.select(
            AssignmentLog.stratum,
            AssignmentLog.position,
            AssignmentLog.block_index,
            AssignmentLog.position_in_block,
            AssignmentLog.arm,
            AssignmentLog.seed,
            AssignmentLog.spec_hash,
            AssignmentLog.pilot,
            AssignmentLog.rehearsal,
        )
        .where(AssignmentLog.study_id == study_id)
        .order_by(AssignmentLog.stratum, AssignmentLog.position, AssignmentLog.id)
    ).all()


def _participant_arms(session: Session, study_id: int) -> list[sa.Row]:
    """(stratum, arm, count) of the study's assigned participants outside the duplicates."""
    return session.execute(
        sa.select(Participant.stratum, Participant.arm, sa.func.count())
        .where(
            Participant.study_id == study_id,
            Participant.arm.is_not(None),
            Participant.duplicate.is_(False),
        )
        .group_by(Participant.stratum, Participant.arm)
    ).all()


def _specs(session: Session, study_id: int) -> dict[str, StudySpec]:
    """spec_hash -> spec of every version of the study (each log row names its version's)."""
    rows = session.execute(
        sa.select(StudyVersion.spec_hash, StudyVersion.spec_json).where(
            StudyVersion.study_id == study_id
        )
    ).all()
    return {spec_hash: spec_from_json(spec_hash, text) for spec_hash, text in rows}


def _check_row(row: sa.Row, specs: dict[str, StudySpec], report: ReplayReport) -> None:
    where = f"stratum {row.stratum} position {row.position}"
    spec = specs.get(row.spec_hash)
    if spec is None:
        report.divergences.append(
            f"{where}: spec hash {row.spec_hash[:12]} is no version of the study"
        )
        return
    if row.seed != spec.design.seed:
        report.divergences.append(
            f"{where}: logged seed {row.seed}, the design's is {spec.design.seed}"
        )
    try:
        slot = arm_for_slot(spec, row.stratum, row.position)
    except ValueError as exc:
        report.divergences.append(f"{where}: {exc}")
        return
    if row.arm != slot.arm:
        report.divergences.append(f"{where}: logged arm {row.arm!r}, the seed gives {slot.arm!r}")
    if (row.block_index, row.position_in_block) != (slot.block_index, slot.position_in_block):
        report.divergences.append(
            f"{where}: logged block {row.block_index} place {row.position_in_block}, the seed "
            f"gives block {slot.block_index} place {slot.position_in_block}"
        )


def _check_participants(rows: list[sa.Row], people: list[sa.Row], report: ReplayReport) -> None:
    logged = Counter((row.stratum, row.arm) for row in rows)
    logged_arms = Counter(row.arm for row in rows)
    arms: Counter[str] = Counter()
    for stratum, arm, count in people:
        arms[arm] += count
        if stratum is not None and count > logged[stratum, arm]:
            report.divergences.append(
                f"stratum {stratum}: {count} participants have arm {arm!r}, the log has "
                f"{logged[stratum, arm]}"
            )
    for arm in sorted(set(arms) | set(logged_arms)):
        if arms[arm] != logged_arms[arm]:
            report.divergences.append(
                f"arm {arm}: {arms[arm]} participants were assigned it in the block sequences, "
                f"the log has {logged_arms[arm]}"
            )


def replay_assignments(session: Session, loaded: LoadedStudy) -> ReplayReport:
    """Replay the study's assignment log from its seed; every divergence, one line each."""
    with reading(session):
        rows = _log_rows(session, loaded.id)
        people = _participant_arms(session, loaded.id)
        specs = _specs(session, loaded.id)
        counters = dict(
            session.execute(
                sa.select(BlockState.stratum, BlockState.next_position).where(
                    BlockState.study_id == loaded.id
                )
            ).all()
        )
    report = ReplayReport(study=loaded.slug, seed=loaded.spec.design.seed, assignments=len(rows))
    by_stratum: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_stratum[row.stratum].append(row.position)
        _check_row(row, specs, report)
    for stratum in sorted(set(by_stratum) | set(counters)):
        positions = by_stratum.get(stratum, [])
        report.strata[stratum] = len(positions)
        if positions != list(range(len(positions))):
            seen = set(positions)
            missing = sorted(set(range(max(positions, default=-1) + 1)) - seen)
            repeated = len(positions) - len(seen)
            report.divergences.append(
                f"stratum {stratum}: positions are not 0..{len(positions) - 1} "
                f"(missing {missing[:10]}, {repeated} repeated)"
            )
        if counters.get(stratum, 0) != len(positions):
            report.divergences.append(
                f"stratum {stratum}: the counter says {counters.get(stratum, 0)} assignments, "
                f"the log has {len(positions)}"
            )
    _check_participants(rows, people, report)
    return report


def assignment_log_csv(session: Session, loaded: LoadedStudy) -> bytes:
    """The study's assignment log as CSV bytes, without identifiers or times (for the bundle)."""
    with reading(session):
        rows = _log_rows(session, loaded.id)
    frame = pd.DataFrame(
        {
            "stratum": [r.stratum for r in rows],
            "position": [r.position for r in rows],
            "block_index": [r.block_index for r in rows],
            "position_in_block": [r.position_in_block for r in rows],
            "arm": [r.arm for r in rows],
            "spec_hash": [r.spec_hash for r in rows],
            "pilot": [int(bool(r.pilot)) for r in rows],
            "rehearsal": [int(bool(r.rehearsal)) for r in rows],
        },
        columns=list(LOG_COLUMNS),
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")
