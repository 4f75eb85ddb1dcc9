"""Anytime-valid inference: confidence sequences you may look at after every participant.

A fixed-sample 95% interval covers the true effect in 95% of studies *if it is looked
at once*, at the planned sample size. Looked at every day, and with the study stopped
the first time it excludes zero, it misses far more often. A confidence sequence
``(C_n)`` covers the effect at every sample size at once::

    P(theta in C_n for every n >= 1) >= 1 - alpha

so a campaigner may look as often as they like and stop whenever it excludes zero.

The construction is the asymptotic confidence sequence of Waudby-Smith, Arbour,
Sinha, Kennedy & Ramdas (2024), Theorem 2.2, with their Gaussian-mixture boundary::

    C_n = estimate_n  +/-  sigma_n * sqrt( 2 (n rho^2 + 1) / (n^2 rho^2)
                                             * log( sqrt(n rho^2 + 1) / alpha ) )

where ``sigma_n^2 = n * std_error_n^2`` estimates the variance of the estimator's
influence function (for the difference in means ``sigma_t^2/p + sigma_c^2/(1-p)``,
for Lin's estimator its regression-adjusted counterpart) and ``n`` is the number of
participants in the comparison (the frame's arm plus the control). The estimator's
own standard error is the Neyman/HC2 one of :mod:`analysis.estimators`, so at any
``n`` the sequence is centred where the fixed-sample analysis is, only wider.

The mixing parameter ``rho`` decides at which ``n`` the sequence is narrowest; the
paper's choice for a planned size ``n*`` (Section 2.2) is
``rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / n*``. The plan's ``monitoring``
tunes it to each comparison's planned share of the study's target sample
(``tune_at`` overrides the size, ``rho`` the parameter itself).

The anytime-valid p-value is the smallest ``alpha`` whose sequence excludes zero,
i.e. the reciprocal of the Gaussian-mixture e-value::

    p_n = min(1, sqrt(n rho^2 + 1) * exp( -z_n^2 n rho^2 / (2 (n rho^2 + 1)) )),
    z_n = estimate_n / std_error_n

With several frames (and primary outcomes) the comparisons are corrected by
Bonferroni: every sequence is drawn at level ``1 - alpha/m`` and ``p_adjusted = min(1,
m p)``, so the chance that any of them ever excludes a true zero stays below ``alpha``.

References
----------
Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H. & Ramdas, A. (2024).
Time-uniform central limit theory and asymptotic confidence sequences. Annals of
Statistics 52(6), 2613-2640.
Howard, S. R., Ramdas, A., McAuliffe, J. & Sekhon, J. (2021). Time-uniform,
nonparametric, nonasymptotic confidence sequences. Annals of Statistics 49(2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis._data import arm_labels, numeric_column

__all__ = [
    "DECISIONS",
    "Monitoring",
    "anytime_p_value",
    "confidence_sequence",
    "cs_radius",
    "load_monitoring",
    "optimal_rho2",
    "sequential_section",
]

LOOKS = ("anytime",)
METHODS = ("difference_in_means", "lin")
MONITORING_KEYS = {"looks", "stop_for_efficacy", "stop_for_futility", "max_n", "tune_at", "rho"}
FUTILITY_KEYS = {"below"}
# Below this many participants in the frame's arm or the control the asymptotic
# sequence is not drawn (its normal approximation needs some data) and no rule fires.
MIN_PER_ARM = 10
# Points of the drawn sequence: about this many looks between the first and the last.
PATH_POINTS = 40
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


def optimal_rho2(n_star: float, alpha: float) -> float:
    """The mixing parameter ``rho^2`` that makes the sequence narrowest near ``n_star``.

    ``rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / n*`` (Waudby-Smith et al. 2024,
    Section 2.2; Howard et al. 2021, Section 3.5).

    Examples
    --------
    >>> round(optimal_rho2(1000, 0.05), 6)
    0.008126
    """
    if not n_star > 0 or not 0 < alpha < 1:
        raise ValueError(f"n_star > 0 and 0 < alpha < 1 expected, got {n_star!r}, {alpha!r}")
    a = -2.0 * math.log(alpha)
    return (a + math.log(a + 1.0)) / float(n_star)


def cs_radius(n: Any, std_error: Any, rho2: float, alpha: float) -> np.ndarray:
    """Half-width of the asymptotic confidence sequence at ``n`` (vectorised).

    ``sqrt(n) se * sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * log(sqrt(n rho^2 + 1) / alpha))``,
    which simplifies to ``se * sqrt(2 (n rho^2 + 1) / (n rho^2) * log(...))``.
    """
    n = np.asarray(n, dtype=float)
    se = np.asarray(std_error, dtype=float)
    v = n * rho2
    return se * np.sqrt(2.0 * (v + 1.0) / v * np.log(np.sqrt(v + 1.0) / alpha))


def anytime_p_value(n: Any, estimate: Any, std_error: Any, rho2: float) -> np.ndarray:
    """Anytime-valid p-value of "no effect": the smallest alpha whose sequence excludes 0.

    ``min(1, sqrt(n rho^2 + 1) * exp(-z^2 n rho^2 / (2 (n rho^2 + 1))))`` with
    ``z = estimate / std_error`` (vectorised).
    """
    n = np.asarray(n, dtype=float)
    z2 = (np.asarray(estimate, dtype=float) / np.asarray(std_error, dtype=float)) ** 2
    v = n * rho2
    log_p = 0.5 * np.log1p(v) - z2 * v / (2.0 * (v + 1.0))
    return np.minimum(1.0, np.exp(log_p))


def _pair_estimate(
    d: pd.DataFrame,
    outcome: str,
    arm: str,
    control: str,
    method: str,
    covariates: Sequence[str],
    levels: Mapping[str, tuple] | None,
) -> dict[str, dict[str, float]]:
    """arm -> {estimate, std_error} of the chosen estimator on the rows given."""
    from analysis.estimators import difference_in_means
    from analysis.regression import lin

    if method == "lin":
        table = lin(d, outcome, arm, control, covariates, levels=levels)
    else:
        table = difference_in_means(d, outcome, arm, control)
    return {
        str(r.arm): {"estimate": float(r.estimate), "std_error": float(r.std_error)}
        for r in table.itertuples()
    }


def _look_sizes(total: int, first: int) -> list[int]:
    """The looks drawn: about PATH_POINTS sizes from ``first`` to ``total`` (always ends at it)."""
    if total < first:
        return []
    step = max(1, math.ceil((total - first) / PATH_POINTS))
    sizes = list(range(first, total + 1, step))
    if sizes[-1] != total:
        sizes.append(total)
    return sizes


def confidence_sequence(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    method: str = "difference_in_means",
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
    tune_at: Mapping[str, int] | int | None = None,
    rho2: float | None = None,
    looks: Sequence[int] | None = None,
    levels: Mapping[str, tuple] | None = None,
) -> pd.DataFrame:
    """The confidence sequence of each arm versus control at a series of looks.

    Rows of ``df`` are taken in the order given (the order participants completed);
    look ``n`` analyses the first ``n`` rows with a value of ``outcome``. At each look
    the estimator (``difference_in_means`` or ``lin``, as in :mod:`analysis.estimators`)
    gives ``estimate`` and ``std_error``; the sequence is ``estimate +/- cs_radius``
    with ``n`` the participants of that arm and the control (see the module docstring).

    Parameters
    ----------
    tune_at : int or mapping arm -> int, optional
        Comparison size at which the sequence is narrowest (default: the rows of the
        comparison at the last look); ignored when ``rho2`` is given.
    looks : sequence of int, optional
        Participants analysed at each look (default: about 40 evenly spaced looks).

    Returns
    -------
    DataFrame
        One row per look and arm: ``look_n, arm, n, n_control, n_treatment,
        estimate, std_error, cs_low, cs_high, anytime_p, rho2``.

    References
    ----------
    Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2024), Annals of Statistics 52(6).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"arm": np.tile(["c", "t"], 100), "y": rng.normal(size=200)})
    >>> cs = confidence_sequence(d, "y", "arm", "c", looks=[200], tune_at=200)
    >>> bool(cs["cs_low"].iloc[0] < cs["estimate"].iloc[0] < cs["cs_high"].iloc[0])
    True
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    control = str(control)
    y = numeric_column(df, outcome)
    d = df.loc[~np.isnan(y)].reset_index(drop=True)
    labels = arm_labels(d, arm)
    if looks is None:
        looks = _look_sizes(len(d), min(len(d), 2 * MIN_PER_ARM))
    rows = []
    for look in looks:
        sub = d.iloc[: int(look)]
        sub_labels = labels[: int(look)]
        n_c = int(np.sum(sub_labels == control))
        enough = [
            a
            for a in pd.unique(sub_labels)
            if a is not None and a != control and np.sum(sub_labels == a) >= MIN_PER_ARM
        ]
        if n_c < MIN_PER_ARM or not enough:
            continue
        keep = np.isin(sub_labels, [control, *enough])
        try:
            fits = _pair_estimate(sub.loc[keep], outcome, arm, control, method, covariates, levels)
        except ValueError:
            continue  # e.g. Lin with more covariates than an early look supports
        for a, fit in fits.items():
            n_t = int(np.sum(sub_labels == a))
            rows.append(
                {"look_n": int(look), "arm": a, "n_control": n_c, "n_treatment": n_t, **fit}
            )
    out = pd.DataFrame(
        rows, columns=["look_n", "arm", "n_control", "n_treatment", "estimate", "std_error"]
    )
    out.insert(2, "n", out["n_control"] + out["n_treatment"])
    if rho2 is None:
        last = out.groupby("arm")["n"].max().to_dict() if len(out) else {}
        sizes = {
            a: tune_at.get(a, last[a]) if isinstance(tune_at, Mapping) else tune_at or last[a]
            for a in last
        }
        out["rho2"] = [optimal_rho2(sizes[a], alpha) for a in out["arm"]]
    else:
        out["rho2"] = float(rho2)
    radius = np.array(
        [
            cs_radius(n, se, r, alpha)
            for n, se, r in zip(out["n"], out["std_error"], out["rho2"], strict=True)
        ],
        dtype=float,
    )
    out["cs_low"] = out["estimate"] - radius
    out["cs_high"] = out["estimate"] + radius
    out["anytime_p"] = [
        float(anytime_p_value(n, e, se, r))
        for n, e, se, r in zip(
            out["n"], out["estimate"], out["std_error"], out["rho2"], strict=True
        )
    ]
    return out


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

    ``data`` are the analysed rows (exclusions applied); they are put in the order of
    ``order`` (framelab's ``completed_at``; stable, so ties keep the export's enrolment
    order) when the column exists. Each record: ``outcome, arm, method, n, n_control,
    n_treatment, estimate, std_error, cs_low, cs_high, level, anytime_p,
    anytime_p_adjusted, decision, rho2, tune_at, path`` where ``path`` lists the
    drawn looks (``look_n, n, estimate, cs_low, cs_high, anytime_p``). The sequences
    are at level ``1 - alpha/m`` (Bonferroni over the m frames x primary outcomes).
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
            looks=_look_sizes(total, min(total, 2 * MIN_PER_ARM)),
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
