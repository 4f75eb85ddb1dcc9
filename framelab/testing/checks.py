"""After a load or crash run: prove from the database that nothing was lost, doubled or skewed.

`check_database(url, slug, acked)` compares what the load generator saw acknowledged with
what the database holds, and audits the assignment state:

- every acknowledged answer is stored, with the value sent (lost answers);
- no (participant, item, phase) is stored twice, no participant code twice (duplicates);
- the assignment log has one row per assigned participant (it names nobody since s010:
  per arm, as many rows as assigned non-duplicate participants; per stratum and arm, no
  fewer rows than participants who kept that stratum), positions 0..n-1 without gaps in
  every stratum, BlockState.next_position equal to the stratum's row count (block state);
- replaying each stratum's log with the study's seed (framelab.domain.assignment) gives
  the logged arms (seed consistency);
- per stratum, every arm's count is within one block's share of perfect balance;
- duplicates (repeat panel ids, assigned outside the block sequences) are not counted in
  the log, and each has one row of their own sequence (`duplicate_assignment`) with their arm.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from framelab.db.models import (
    AssignmentLog,
    BlockState,
    DuplicateAssignment,
    Participant,
    Response,
)
from framelab.db.session import make_engine, make_session_factory
from framelab.domain.assignment import arm_sequence
from framelab.services.study_versions import get_study
from framelab.testing.results import AckedAnswer

# The page a step's answers belong to: framelab's `intent` page holds post-phase items.
STEP_PHASE = {"pre": "pre", "post": "post", "intent": "post"}


@dataclass
class IntegrityReport:
    participants: int = 0
    completed: int = 0
    responses: int = 0
    acked_checked: int = 0
    assigned: int = 0
    lost: list[str] = field(default_factory=list)
    wrong_value: list[str] = field(default_factory=list)
    duplicate_answers: list[str] = field(default_factory=list)
    duplicate_participants: list[str] = field(default_factory=list)
    block_state: list[str] = field(default_factory=list)
    replay: list[str] = field(default_factory=list)
    imbalance: list[str] = field(default_factory=list)
    arm_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """Every violation found, one line each (empty when the database is sound)."""
        out = []
        for name in (
            "lost",
            "wrong_value",
            "duplicate_answers",
            "duplicate_participants",
            "block_state",
            "replay",
            "imbalance",
        ):
            out += [f"{name}: {line}" for line in getattr(self, name)]
        return out

    def summary(self) -> dict:
        return {
            "participants": self.participants,
            "completed": self.completed,
            "assigned": self.assigned,
            "responses": self.responses,
            "acked_answers_checked": self.acked_checked,
            "lost_answers": len(self.lost) + len(self.wrong_value),
            "duplicates": len(self.duplicate_answers) + len(self.duplicate_participants),
            "block_state_problems": len(self.block_state),
            "replay_mismatches": len(self.replay),
            "imbalanced_strata": len(self.imbalance),
            "arm_counts": self.arm_counts,
        }


def _stored_value(value_int: int | None, value_text: str | None) -> str:
    return str(value_int) if value_int is not None else (value_text or "")


def check_database(database_url: str, slug: str, acked: Iterable[AckedAnswer]) -> IntegrityReport:
    """Audit the study `slug` in the database against the acknowledged answers."""
    report = IntegrityReport()
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            loaded = get_study(session, slug)
            spec = loaded.spec
            people = session.execute(
                sa.select(
                    Participant.id,
                    Participant.code,
                    Participant.arm,
                    Participant.stratum,
                    Participant.status,
                    Participant.duplicate,
                ).where(Participant.study_id == loaded.id)
            ).all()
            by_code = {p.code: p for p in people}
            report.participants = len(people)
            report.completed = sum(p.status == "completed" for p in people)
            report.duplicate_participants = [
                f"code {code} x{n}" for code, n in Counter(p.code for p in people).items() if n > 1
            ]
            stored: dict[tuple[int, str, str], list[str]] = defaultdict(list)
            rows = session.execute(
                sa.select(
                    Response.participant_id,
                    Response.item_id,
                    Response.phase,
                    Response.value_int,
                    Response.value_text,
                )
                .join(Participant, Participant.id == Response.participant_id)
                .where(Participant.study_id == loaded.id)
            ).all()
            for r in rows:
                stored[r.participant_id, r.item_id, r.phase].append(
                    _stored_value(r.value_int, r.value_text)
                )
            report.responses = len(rows)
            report.duplicate_answers = [
                f"participant {key[0]} {key[1]}/{key[2]} x{len(v)}"
                for key, v in stored.items()
                if len(v) > 1
            ]
            _check_acked(report, acked, by_code, stored)
            log = (
                session.execute(sa.select(AssignmentLog).where(AssignmentLog.study_id == loaded.id))
                .scalars()
                .all()
            )
            states = {
                s.stratum: s.next_position
                for s in session.execute(
                    sa.select(BlockState).where(BlockState.study_id == loaded.id)
                ).scalars()
            }
            assigned = [(p.stratum, p.arm) for p in people if not p.duplicate and p.arm]
            _check_assignments(report, spec, log, states, assigned)
            duplicates = {p.id: p.arm for p in people if p.duplicate}
            outside = session.execute(
                sa.select(DuplicateAssignment.participant_id, DuplicateAssignment.arm).where(
                    DuplicateAssignment.study_id == loaded.id
                )
            ).all()
            _check_duplicates(report, duplicates, outside)
    finally:
        engine.dispose()
    return report


def _check_acked(
    report: IntegrityReport,
    acked: Iterable[AckedAnswer],
    by_code: dict,
    stored: dict[tuple[int, str, str], list[str]],
) -> None:
    for answer in acked:
        phase = STEP_PHASE.get(answer.step)
        if phase is None:
            continue
        report.acked_checked += 1
        person = by_code.get(answer.participant)
        if person is None:
            report.lost.append(f"participant {answer.participant} is not in the database")
            continue
        values = stored.get((person.id, answer.item, phase))
        if not values:
            report.lost.append(f"{answer.participant} {answer.item}/{phase}")
        elif values[0] != answer.value:
            report.wrong_value.append(
                f"{answer.participant} {answer.item}/{phase}: sent {answer.value!r}, "
                f"stored {values[0]!r}"
            )


def _check_assignments(
    report: IntegrityReport,
    spec,
    log: list[AssignmentLog],
    states: dict[str, int],
    assigned: list[tuple[str | None, str]],
) -> None:
    report.assigned = len(log)
    # The log names no participant (migration s010): participants are checked by counts.
    logged = Counter((row.stratum, row.arm) for row in log)
    logged_arms = Counter(row.arm for row in log)
    arms = Counter(arm for _, arm in assigned)
    report.block_state += [
        f"arm {arm}: {arms[arm]} assigned participants but the log says {logged_arms[arm]}"
        for arm in sorted(set(arms) | set(logged_arms))
        if arms[arm] != logged_arms[arm]
    ]
    kept = Counter((stratum, arm) for stratum, arm in assigned if stratum is not None)
    report.block_state += [
        f"stratum {stratum}: {n} participants with arm {arm!r} but the log says "
        f"{logged[stratum, arm]}"
        for (stratum, arm), n in sorted(kept.items())
        if n > logged[stratum, arm]
    ]
    by_stratum: dict[str, list[AssignmentLog]] = defaultdict(list)
    for row in log:
        by_stratum[row.stratum].append(row)
    weights = spec.weights()
    total_weight = sum(weights.values())
    size = spec.block_size()
    for stratum in sorted(set(by_stratum) | set(states)):
        rows = sorted(by_stratum.get(stratum, []), key=lambda r: r.position)
        positions = [r.position for r in rows]
        if positions != list(range(len(rows))):
            missing = sorted(set(range(max(positions, default=-1) + 1)) - set(positions))
            report.block_state.append(
                f"stratum {stratum}: positions not contiguous (missing {missing[:10]}, "
                f"{len(positions) - len(set(positions))} repeated)"
            )
        if states.get(stratum, 0) != len(rows):
            report.block_state.append(
                f"stratum {stratum}: BlockState.next_position={states.get(stratum, 0)} "
                f"but {len(rows)} log rows"
            )
        expected = arm_sequence(spec, stratum, len(rows)) if rows else []
        report.replay += [
            f"stratum {stratum} position {r.position}: logged {r.arm!r}, seed gives {want!r}"
            for r, want in zip(rows, expected, strict=True)
            if r.arm != want
        ]
        counts = Counter(r.arm for r in rows)
        report.arm_counts[stratum] = {arm: counts.get(arm, 0) for arm in weights}
        for arm, weight in weights.items():
            share = weight / total_weight
            slack = size * share
            if abs(counts.get(arm, 0) - len(rows) * share) > slack + 1e-9:
                report.imbalance.append(
                    f"stratum {stratum}: arm {arm} has {counts.get(arm, 0)} of {len(rows)} "
                    f"(perfect {len(rows) * share:.1f}, allowed +-{slack:g})"
                )


def _check_duplicates(
    report: IntegrityReport,
    duplicates: dict[int, str | None],
    outside: list,
) -> None:
    arms = dict(outside)
    report.block_state += [
        f"duplicate participant {pid} has arm {arm!r} but its own sequence says {arms.get(pid)!r}"
        for pid, arm in duplicates.items()
        if arm is not None and arms.get(pid) != arm
    ]


def unfinished_codes(database_url: str, slug: str) -> list[str]:
    """Codes of participants who consented or started but have not finished (nor left)."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            study_id = get_study(session, slug).id
            return list(
                session.execute(
                    sa.select(Participant.code).where(
                        Participant.study_id == study_id,
                        Participant.status.in_(("started", "assigned")),
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
