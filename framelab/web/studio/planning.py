"""Power planner figures for a study's design (pure; analysis.power does the statistics)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from analysis.power import n_per_arm, power, power_summary
from framelab.domain.study import Study

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


def set_target(spec: Study, target_n: int | None) -> Study:
    """The spec with a new target sample (completed participants); None removes it."""
    from framelab.domain.study import study_from_data

    data = spec.model_dump(mode="json")
    data["target_n"] = target_n
    return study_from_data(data)
