"""Power for a study as written: its design turned into `analysis.power_design` inputs.

Used by `framelab power STUDY` and the studio's power planner. What is simulated:

- the study's arms, control first, with the design's allocation weights;
- blocked designs: one block per stratum (`design.strata`, else one per answer of
  the blocking question), with the given shares of the sample (equal unless said);
  blocks are formed on the prognostic pre-measure, so blocking gains what the
  covariate's R² allows;
- the covariates' R² (a number, or estimated from an earlier study's data);
- the expected attrition (the target counts completes; N to recruit is larger);
- the primary method (framelab's plans use the difference in means, blocked when
  the design is), the plan's correction over the frames and its alpha;
- a yes/no primary outcome is simulated as one (effects are then Cohen's h).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from analysis.power_design import design_power
from framelab.domain.study import Study

DEFAULT_D = 0.15  # the planner's default: a realistic small effect of one message


@dataclass(frozen=True)
class DesignInputs:
    """The design as the simulation sees it, ready to show beside the results."""

    arms: list[str]
    allocation: dict[str, float]
    strata: list[str]
    strata_shares: list[float]
    effects: dict[str, float]
    target_completes: int
    n_total: int
    attrition: float
    covariate_r2: float
    alpha: float
    correction: str
    method: str
    outcome: str


def strata_names(spec: Study) -> list[str]:
    """The blocks of a blocked design (strata, else each answer of the blocking question)."""
    if spec.design.scheme != "blocked":
        return []
    if spec.design.strata:
        return list(spec.design.strata)
    item = spec.item(spec.design.block_by) if spec.design.block_by else None
    return [str(v) for v in (item.allowed_values() or [])] if item else []


def design_inputs(
    spec: Study,
    *,
    effect_d: float = DEFAULT_D,
    effects: Mapping[str, float] | None = None,
    covariate_r2: float = 0.0,
    attrition: float = 0.15,
    strata_shares: Mapping[str, float] | None = None,
    target_completes: int | None = None,
) -> DesignInputs:
    """The simulation's inputs for `spec` (ValueError naming a bad option)."""
    arms = [spec.control_arm.id, *(a.id for a in spec.frame_arms)]
    unknown = set(effects or {}) - set(arms[1:])
    if unknown:
        raise ValueError(
            f"effect: {sorted(unknown)[0]!r} is not a frame arm (frames: {', '.join(arms[1:])})"
        )
    chosen = {a: float((effects or {}).get(a, effect_d)) for a in arms[1:]}
    strata = strata_names(spec)
    given = dict(strata_shares or {})
    bad = set(given) - set(strata)
    if bad:
        raise ValueError(
            f"strata share: {sorted(bad)[0]!r} is not a stratum of the design "
            f"(strata: {', '.join(strata) or 'none; the design is not blocked'})"
        )
    shares = [float(given.get(s, 1.0 if not given else 0.0)) for s in strata]
    if strata and (any(v <= 0 for v in shares)):
        raise ValueError("strata share: give a positive share for every stratum (or none)")
    weights = spec.weights()
    completes = int(target_completes or spec.target_n or 100 * len(arms))
    primary = spec.analysis.primary[0]
    outcome = "continuous"
    if primary not in {s.id for s in spec.scales} and spec.item(primary).type == "binary":
        outcome = "binary"
    if not 0 <= attrition < 1:
        raise ValueError(f"attrition: expected a share from 0 to below 1, got {attrition}")
    return DesignInputs(
        arms=arms,
        allocation={a: float(weights[a]) for a in arms},
        strata=strata,
        strata_shares=[v / sum(shares) for v in shares] if strata else [],
        effects=chosen,
        target_completes=completes,
        n_total=math.ceil(completes / (1 - attrition)),
        attrition=attrition,
        covariate_r2=covariate_r2,
        alpha=spec.analysis.alpha,
        correction=spec.analysis.correction,
        method="difference_in_means",
        outcome=outcome,
    )


def simulate_design(
    spec: Study,
    inputs: DesignInputs,
    *,
    n_sims: int,
    progress: Callable[[int, int], None] | None = None,
    find_n: bool = True,
) -> dict[str, Any]:
    """`analysis.power_design.design_power` on the study's design (seeded by the design)."""
    return design_power(
        inputs.arms,
        inputs.allocation,
        inputs.effects,
        n_total=inputs.n_total,
        block_shares=inputs.strata_shares or None,
        covariate_r2=inputs.covariate_r2,
        attrition=inputs.attrition,
        alpha=inputs.alpha,
        correction=inputs.correction,
        method=inputs.method,
        outcome=inputs.outcome,
        n_sims=n_sims,
        seed=abs(spec.design.seed) % 2**32,
        progress=progress,
        find_n=find_n,
    )
