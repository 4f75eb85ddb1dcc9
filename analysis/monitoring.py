"""The plan's ``monitoring`` rules and the results' ``sequential`` section.

:func:`load_monitoring` validates what the plan declares (looks, stopping rules, the
ceiling and the tuning); :func:`sequential_section` draws, per primary outcome and frame,
the confidence sequence of :mod:`analysis.sequential` up to now and says what the declared
rule implies (``DECISIONS``): advice that leads to the owner's confirmed close.

Examples
--------
>>> m = load_monitoring({"max_n": 400, "stop_for_futility": {"below": 0.1}})
>>> m.max_n, m.futility_below, m.stop_for_efficacy
(400, 0.1, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis._data import arm_labels, numeric_column
from analysis.sequential import METHODS, MIN_PER_ARM, confidence_sequence, look_sizes

__all__ = ["DECISIONS", "Monitoring", "load_monitoring", "sequential_section"]

LOOKS = ("anytime",)
MONITORING_KEYS = {"looks", "stop_for_efficacy", "stop_for_futility", "max_n", "tune_at", "rho"}
FUTILITY_KEYS = {"below"}
# Comparison size the sequence is tuned to when the plan gives neither a target nor tune_at.
DEFAULT_TUNE_AT = 1000
DECISIONS = ("too_few", "continue", "efficacy", "harm", "futility", "complete")


@dataclass(frozen=True)
class Monitoring:
    """The plan's declared monitoring: looks, stopping rules, the ceiling and the tuning.

    ``futility_below`` is in standard deviations of the outcome (the comparison's pooled
    SD at the look); ``max_n`` is the study's locked target (participants analysed).
    """

    looks: str = "anytime"
    stop_for_efficacy: bool = True
    futility_below: float | None = None
    max_n: int | None = None
    tune_at: int | None = None
    rho: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "looks": self.looks,
            "stop_for_efficacy": self.stop_for_efficacy,
            "stop_for_futility": (
                {"below": self.futility_below} if self.futility_below is not None else None
            ),
            "max_n": self.max_n,
            "tune_at": self.tune_at,
            "rho": self.rho,
        }


def _positive_int(value: Any, key: str, low: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{key}: expected a whole number of at least {low}, got {value!r}")
    return value


def load_monitoring(raw: Any) -> Monitoring | None:
    """Validate the plan's ``monitoring`` mapping (None when the plan has none).

    Parameters
    ----------
    raw : mapping or None
        The plan's ``monitoring``: ``looks`` ("anytime"), ``stop_for_efficacy`` (bool,
        default true), ``stop_for_futility`` (``{below: effect in SDs}``), ``max_n``
        (the locked target, participants), and ``tune_at`` (participants) or ``rho``.

    Returns
    -------
    Monitoring or None
        The validated rules; a bad key or value raises ``ValueError`` naming it.

    Notes
    -----
    ``rho`` and ``tune_at`` are one choice given two ways (``rho^2 = optimal_rho2(tune_at,
    alpha)``), so a plan may give only one of them.

    References
    ----------
    Waudby-Smith et al. (2024), Annals of Statistics 52(6), Section 2.2 (the tuning).

    Examples
    --------
    >>> load_monitoring({"looks": "anytime", "stop_for_futility": {"below": 0.1}}).futility_below
    0.1
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(
            "monitoring: expected a mapping (looks, stop_for_efficacy, stop_for_futility, "
            f"max_n, tune_at, rho), got {raw!r}"
        )
    unknown = set(raw) - MONITORING_KEYS
    if unknown:
        raise ValueError(
            f"monitoring: unknown key {sorted(unknown)[0]!r} "
            f"(allowed: {', '.join(sorted(MONITORING_KEYS))})"
        )
    looks = raw.get("looks", "anytime")
    if looks not in LOOKS:
        raise ValueError(f"monitoring.looks: expected one of {', '.join(LOOKS)}, got {looks!r}")
    efficacy = raw.get("stop_for_efficacy", True)
    if not isinstance(efficacy, bool):
        raise ValueError(f"monitoring.stop_for_efficacy: expected true or false, got {efficacy!r}")
    futility = raw.get("stop_for_futility")
    below = None
    if futility not in (None, False):
        if not isinstance(futility, Mapping) or set(futility) - FUTILITY_KEYS:
            raise ValueError(
                "monitoring.stop_for_futility: expected a mapping {below: <effect in SDs>}, "
                f"got {futility!r}"
            )
        below = futility.get("below")
        if isinstance(below, bool) or not isinstance(below, int | float) or not 0 < below < 10:
            raise ValueError(
                "monitoring.stop_for_futility.below: expected an effect in standard "
                f"deviations between 0 and 10, got {below!r}"
            )
        below = float(below)
    rho = raw.get("rho")
    if rho is not None and (
        isinstance(rho, bool) or not isinstance(rho, int | float) or not rho > 0
    ):
        raise ValueError(f"monitoring.rho: expected a positive number, got {rho!r}")
    tune_at = _positive_int(raw.get("tune_at"), "monitoring.tune_at", 2)
    if rho is not None and tune_at is not None:
        raise ValueError("monitoring: give tune_at or rho, not both (rho follows from tune_at)")
    return Monitoring(
        looks=looks,
        stop_for_efficacy=efficacy,
        futility_below=below,
        max_n=_positive_int(raw.get("max_n"), "monitoring.max_n", 2),
        tune_at=tune_at,
        rho=float(rho) if rho is not None else None,
    )


def _decision(
    low: float, high: float, desired: str, futility: float | None, sd: float, efficacy: bool
) -> str:
    """What the declared rule implies at this look (advice; closing is the owner's act)."""
    good_low, good_high = (low, high) if desired == "increase" else (-high, -low)
    if efficacy and good_low > 0:
        return "efficacy"
    if efficacy and good_high < 0:
        return "harm"
    if futility is not None and np.isfinite(sd) and good_high < futility * sd:
        return "futility"
    return "continue"


def sequential_section(
    data: pd.DataFrame,
    plan: Any,
    monitoring: Monitoring | None,
    *,
    complete: bool = False,
    order: str | None = "completed_at",
) -> list[dict[str, Any]]:
    """The results' ``sequential`` section: per primary outcome and frame, the sequence now.

    Parameters
    ----------
    data : DataFrame
        The analysed rows (exclusions applied).
    plan : Plan
        The analysis plan (:func:`analysis.plan.load_plan`): arm, control, weights,
        primary outcomes, method, covariates and alpha.
    monitoring : Monitoring or None
        The declared rules (None: no stopping rule fires, only the sequence is drawn).
    complete : bool, default False
        The study is closed: a ``continue`` decision becomes ``complete``.
    order : str or None, default "completed_at"
        Column giving the order participants completed (stable sort, so ties keep the
        export's enrolment order); ignored when absent.

    Returns
    -------
    list of dict
        One record per primary outcome and frame: ``outcome``, ``outcome_label``,
        ``arm``, ``arm_label``, ``method``, ``desired``; ``level`` (coverage, 1 -
        alpha/m), ``alpha`` (the plan's), ``comparisons`` (m); ``n``, ``n_control``,
        ``n_treatment`` (participants); ``estimate``, ``std_error``, ``cs_low``,
        ``cs_high`` (outcome units; None below ``MIN_PER_ARM`` per group);
        ``anytime_p``, ``anytime_p_adjusted`` (min(1, m p)); ``decision`` (one of
        ``DECISIONS``); ``rho2``; ``tune_at`` (participants); when drawn, ``outcome_sd``
        (pooled SD of the pair) and ``futility_bound`` (outcome units); and ``path``,
        the drawn looks (``look_n, n, estimate, cs_low, cs_high, anytime_p``).

    Notes
    -----
    With m = frames x primary outcomes every sequence is at level 1 - alpha/m
    (Bonferroni), so the chance that any ever excludes a true zero stays below alpha.
    The sequence is tuned at ``tune_at``, else at the frame's planned share of
    ``max_n``: ``max_n (w_arm + w_control) / sum(w)``, else at 1,000. Decision: the
    sequence above zero in the desired direction is ``efficacy``, below it ``harm``,
    entirely below ``below x SD`` ``futility``.

    References
    ----------
    Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2024), Annals of Statistics 52(6).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.plan import load_plan
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"arm": np.tile(["c", "t"], 60), "y": rng.normal(size=120)})
    >>> d.loc[d["arm"] == "t", "y"] += 1.0
    >>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"]})
    >>> [r] = sequential_section(d, plan, load_monitoring({"max_n": 200}))
    >>> r["arm"], r["n"], r["decision"], round(r["cs_low"], 2) > 0
    ('t', 120, 'efficacy', True)
    """
    monitoring = monitoring or Monitoring(stop_for_efficacy=False)
    if order and order in data.columns:
        data = data.sort_values(order, kind="stable", na_position="last").reset_index(drop=True)
    control = str(plan.control)
    all_arms = [
        a
        for a in dict.fromkeys(map(str, pd.unique(arm_labels(data, plan.arm))))
        if a not in ("None", control)
    ]
    declared = [str(a) for a in (plan.weights or {}) if str(a) != control] or sorted(all_arms)
    frames = list(dict.fromkeys([*declared, *sorted(all_arms)]))
    outcomes = plan.primary_outcomes
    m = max(1, len(frames) * len(outcomes))
    level_alpha = plan.alpha / m
    method = (
        plan.primary_method
        if plan.primary_method in METHODS and plan.covariates
        else "difference_in_means"
    )
    weights = {str(k): float(v) for k, v in (plan.weights or {}).items()}
    records = []
    for o in outcomes:
        tune = {}
        for a in frames:
            if monitoring.tune_at is not None:
                tune[a] = monitoring.tune_at
            elif monitoring.max_n is not None:
                share = (weights.get(a, 1.0) + weights.get(control, 1.0)) / (
                    sum(weights.values()) if weights else len(frames) + 1.0
                )
                tune[a] = max(2, round(monitoring.max_n * share))
            else:  # fixed in advance, never the data's own size
                tune[a] = DEFAULT_TUNE_AT
        rho2 = monitoring.rho**2 if monitoring.rho is not None else None
        y = numeric_column(data, o.name)
        total = int(np.sum(~np.isnan(y)))
        cs = confidence_sequence(
            data,
            o.name,
            plan.arm,
            control,
            method=method,
            covariates=plan.covariates,
            alpha=level_alpha,
            tune_at=tune,
            rho2=rho2,
            levels=plan.levels,
            looks=look_sizes(total, min(total, 2 * MIN_PER_ARM)),
        )
        labels = arm_labels(data, plan.arm)
        for a in frames:
            path = cs[cs["arm"] == a]
            record: dict[str, Any] = {
                "outcome": o.name,
                "outcome_label": plan.text(o.label, o.name),
                "arm": a,
                "arm_label": plan.text(plan.arm_labels.get(a), a),
                "method": method,
                "desired": o.desired,
                "level": 1 - level_alpha,
                "alpha": plan.alpha,
                "comparisons": m,
            }
            in_pair = np.isin(labels, [a, control]) & ~np.isnan(y)
            if path.empty or int(path["look_n"].iloc[-1]) != total:
                n_t = int(np.sum((labels == a) & ~np.isnan(y)))
                n_c = int(np.sum((labels == control) & ~np.isnan(y)))
                record.update(
                    n=n_t + n_c,
                    n_control=n_c,
                    n_treatment=n_t,
                    estimate=None,
                    std_error=None,
                    cs_low=None,
                    cs_high=None,
                    anytime_p=None,
                    anytime_p_adjusted=None,
                    decision="too_few",
                    rho2=None,
                    tune_at=tune.get(a),
                )
            else:
                last = path.iloc[-1]
                sd = float(np.std(y[in_pair], ddof=1)) if in_pair.sum() > 1 else float("nan")
                decision = _decision(
                    float(last["cs_low"]), float(last["cs_high"]), o.desired,
                    monitoring.futility_below, sd, monitoring.stop_for_efficacy,
                )  # fmt: skip
                record.update(
                    n=int(last["n"]),
                    n_control=int(last["n_control"]),
                    n_treatment=int(last["n_treatment"]),
                    estimate=float(last["estimate"]),
                    std_error=float(last["std_error"]),
                    cs_low=float(last["cs_low"]),
                    cs_high=float(last["cs_high"]),
                    anytime_p=float(last["anytime_p"]),
                    anytime_p_adjusted=min(1.0, m * float(last["anytime_p"])),
                    decision="complete" if complete and decision == "continue" else decision,
                    rho2=float(last["rho2"]),
                    tune_at=tune.get(a, int(last["n"])),
                    outcome_sd=sd,
                    futility_bound=(
                        monitoring.futility_below * sd
                        if monitoring.futility_below is not None
                        else None
                    ),
                )
            record["path"] = [
                {
                    "look_n": int(r.look_n),
                    "n": int(r.n),
                    "estimate": float(r.estimate),
                    "cs_low": float(r.cs_low),
                    "cs_high": float(r.cs_high),
                    "anytime_p": float(r.anytime_p),
                }
                for r in path.itertuples()
            ]
            records.append(record)
    return records
