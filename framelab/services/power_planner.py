"""The studio's power planner: figures for a study's design (no database; analysis.power and
`framelab.services.study_power` do the statistics)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from analysis.power import n_per_arm, power, power_summary
from framelab.domain.study import Study
from framelab.services.study_power import design_inputs, simulate_design

TYPICAL_SD = 1.6  # a 7-point attitude item's SD in persuasion studies is about 1.5-1.8
TYPICAL_DIFFERENCE = 0.25  # a quarter of a scale point: d = 0.16, a typical small effect


@dataclass(frozen=True)
class PowerPlan:
    arms: int
    effect_d: float
    n_per_arm: int
    allocation_ratio: float
    alpha: float
    correction: str
    attrition: float
    power: float
    needed_per_arm: int
    needed_total: int
    recruit_total: int
    summary: dict[str, Any]


def default_n_per_arm(spec: Study) -> int:
    """Completed participants per frame arm implied by target_n (at least 2)."""
    weights = spec.weights()
    total_weight = sum(weights.values())
    frame_weight = min(weights[a.id] for a in spec.frame_arms)
    target = spec.target_n or 100 * len(spec.arms)
    return max(2, math.floor(target * frame_weight / total_weight))


def allocation_ratio(spec: Study) -> float:
    """Control size relative to a frame arm, from the design's weights."""
    weights = spec.weights()
    frame_weight = min(weights[a.id] for a in spec.frame_arms)
    return weights[spec.control_arm.id] / frame_weight


def plan_power(
    spec: Study,
    *,
    effect_d: float,
    per_arm: int,
    alpha: float,
    correction: str,
    attrition: float,
) -> PowerPlan:
    """Power for `effect_d` at `per_arm` completes, and the sample the effect would need.

    Raises ValueError for a number the planner's form refuses (non-finite, out of range).
    """
    if not (math.isfinite(effect_d) and effect_d > 0):
        raise ValueError(f"effect_d: expected a finite number above 0, got {effect_d}")
    if not (math.isfinite(alpha) and 0 < alpha < 1):
        raise ValueError(f"alpha: expected a finite number between 0 and 1, got {alpha}")
    if not (math.isfinite(attrition) and 0 <= attrition < 1):
        raise ValueError(f"attrition: expected a finite share from 0 to below 1, got {attrition}")
    arms = len(spec.arms)
    ratio = allocation_ratio(spec)
    achieved = power(effect_d, per_arm, alpha, arms, correction, allocation_ratio=ratio)
    needed = int(n_per_arm(effect_d, alpha, 0.8, arms, correction, allocation_ratio=ratio))
    total = (arms - 1) * needed + math.ceil(ratio * needed)
    return PowerPlan(
        arms=arms,
        effect_d=effect_d,
        n_per_arm=per_arm,
        allocation_ratio=ratio,
        alpha=alpha,
        correction=correction,
        attrition=attrition,
        power=achieved,
        needed_per_arm=needed,
        needed_total=total,
        recruit_total=math.ceil(total / (1 - attrition)),
        summary=power_summary(per_arm, arms, alpha, correction),
    )


# The studio's simulation runs inside the request, so its work is bounded: about
# WORK_BUDGET participant-draws in all (roughly a second on one core), at least
# MIN_SIMS simulated studies per sample size, and none beyond MAX_PARTICIPANTS
# randomized (the page then points to `framelab power`, which has no such bound).
# A background job would need a queue and a place to keep results; a bounded run
# answers on the same page, and its Monte-Carlo error is shown beside it.
WORK_BUDGET = 25_000_000
MIN_SIMS, MAX_SIMS = 100, 400
MAX_PARTICIPANTS = 50_000


@dataclass(frozen=True)
class SimulatedPlan:
    """The exact design's simulated power per frame (bounded run) and what it assumed."""

    frames: list[dict[str, Any]]
    sims: int
    inputs: Any
    skipped: str = ""


def simulated_power(
    spec: Study,
    *,
    effect_d: float,
    per_arm: int,
    attrition: float,
    covariate_r2: float,
) -> SimulatedPlan:
    """Power of each frame for the study as written, by a bounded simulation."""
    weights = spec.weights()
    frame_weight = min(weights[a.id] for a in spec.frame_arms)
    completes = math.ceil(per_arm * sum(weights.values()) / frame_weight)
    inputs = design_inputs(
        spec,
        effect_d=effect_d,
        covariate_r2=covariate_r2,
        attrition=attrition,
        target_completes=completes,
    )
    if inputs.n_total > MAX_PARTICIPANTS:
        return SimulatedPlan([], 0, inputs, skipped="too_large")
    # the grid reaches about 3.5 x the planned N; five sample sizes in all
    per_sim = len(inputs.arms) * inputs.n_total * 10
    sims = max(MIN_SIMS, min(MAX_SIMS, WORK_BUDGET // max(per_sim, 1)))
    try:
        result = simulate_design(spec, inputs, n_sims=sims)
    except ValueError:
        # analysis.power_sim refuses a sample that leaves some arm fewer than two
        # participants in a block (or in all): the page says so instead of answering 500.
        return SimulatedPlan([], 0, inputs, skipped="too_small")
    keep = 1 - attrition
    frames = [
        {
            **f,
            "completes_80": None if f["n_80"] != f["n_80"] else round(f["n_80"] * keep),
            "completes_90": None if f["n_90"] != f["n_90"] else round(f["n_90"] * keep),
        }
        for f in result["frames"]
    ]
    return SimulatedPlan(frames, sims, inputs)
