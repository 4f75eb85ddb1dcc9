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

Examples
--------
>>> rho2 = optimal_rho2(1000, 0.05)
>>> round(float(cs_radius(1000, 0.1, rho2, 0.05)), 4)
0.3035
>>> round(float(anytime_p_value(1000, 0.3, 0.1, rho2)), 4)
0.0549
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis._data import arm_labels, numeric_column

__all__ = ["anytime_p_value", "confidence_sequence", "cs_radius", "optimal_rho2"]

METHODS = ("difference_in_means", "lin")
# Below this many participants in the frame's arm or the control the asymptotic
# sequence is not drawn (its normal approximation needs some data) and no rule fires.
MIN_PER_ARM = 10
# Points of the drawn sequence: about this many looks between the first and the last.
PATH_POINTS = 40


def optimal_rho2(n_star: float, alpha: float) -> float:
    """The mixing parameter ``rho^2`` that makes the sequence narrowest near ``n_star``.

    Parameters
    ----------
    n_star : float
        Participants in the comparison (arm plus control) where the sequence should be
        narrowest; positive.
    alpha : float
        Level of the sequence (it covers with probability ``1 - alpha``), in (0, 1).

    Returns
    -------
    float
        ``rho^2``, per participant (so ``n rho^2`` is unitless).

    Notes
    -----
    ``rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / n*``, the choice that
    approximately minimises the boundary's width at ``n = n*``.

    References
    ----------
    Waudby-Smith et al. (2024), Annals of Statistics 52(6), Section 2.2.
    Howard, Ramdas, McAuliffe & Sekhon (2021), Annals of Statistics 49(2), Section 3.5.

    Examples
    --------
    >>> round(optimal_rho2(1000, 0.05), 6)
    0.007936
    """
    if not n_star > 0 or not 0 < alpha < 1:
        raise ValueError(f"n_star > 0 and 0 < alpha < 1 expected, got {n_star!r}, {alpha!r}")
    a = -2.0 * math.log(alpha)
    return (a + math.log(a + 1.0)) / float(n_star)


def cs_radius(n: Any, std_error: Any, rho2: float, alpha: float) -> np.ndarray:
    """Half-width of the asymptotic confidence sequence at ``n`` (vectorised).

    Parameters
    ----------
    n : int or array of int
        Participants in the comparison at the look.
    std_error : float or array of float
        The estimator's standard error at that look (outcome units).
    rho2 : float
        Mixing parameter (see :func:`optimal_rho2`).
    alpha : float
        Level of the sequence, in (0, 1).

    Returns
    -------
    ndarray
        Half-widths in the outcome's units; the sequence is ``estimate +/- radius``.

    Notes
    -----
    ``sqrt(n) se * sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * log(sqrt(n rho^2 + 1) / alpha))``,
    which simplifies to ``se * sqrt(2 (n rho^2 + 1) / (n rho^2) * log(...))``.

    References
    ----------
    Waudby-Smith et al. (2024), Annals of Statistics 52(6), Theorem 2.2.

    Examples
    --------
    >>> cs_radius([100, 400], [0.2, 0.1], 0.008, 0.05).round(4)
    array([0.7695, 0.3122])
    """
    n = np.asarray(n, dtype=float)
    se = np.asarray(std_error, dtype=float)
    v = n * rho2
    return se * np.sqrt(2.0 * (v + 1.0) / v * np.log(np.sqrt(v + 1.0) / alpha))


def anytime_p_value(n: Any, estimate: Any, std_error: Any, rho2: float) -> np.ndarray:
    """Anytime-valid p-value of "no effect": the smallest alpha whose sequence excludes 0.

    Parameters
    ----------
    n : int or array of int
        Participants in the comparison at the look.
    estimate, std_error : float or array of float
        The estimate and its standard error at that look (outcome units).
    rho2 : float
        Mixing parameter (see :func:`optimal_rho2`).

    Returns
    -------
    ndarray
        p-values in [0, 1], valid whenever the study is stopped.

    Notes
    -----
    ``min(1, sqrt(n rho^2 + 1) * exp(-z^2 n rho^2 / (2 (n rho^2 + 1))))`` with
    ``z = estimate / std_error``: the reciprocal of the Gaussian-mixture e-value.

    References
    ----------
    Waudby-Smith et al. (2024), Annals of Statistics 52(6), Section 2.
    Howard et al. (2021), Annals of Statistics 49(2).

    Examples
    --------
    >>> anytime_p_value([100, 400], [0.5, 0.3], [0.2, 0.1], 0.008).round(4)
    array([0.3345, 0.0665])
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


def look_sizes(total: int, first: int) -> list[int]:
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

    Parameters
    ----------
    df : DataFrame
        One row per participant, in the order they completed; look ``n`` analyses the
        first ``n`` rows with a value of ``outcome``.
    outcome, arm : str
        Columns of the outcome (numeric) and of the assigned arm.
    control : str
        Label of the control arm.
    method : {"difference_in_means", "lin"}, default "difference_in_means"
        Estimator at each look, as in :mod:`analysis.estimators`.
    covariates : sequence of str, default ()
        Covariates of Lin's estimator.
    alpha : float, default 0.05
        Level of each sequence (Bonferroni is the caller's: pass ``alpha / m``).
    tune_at : int or mapping arm -> int, optional
        Comparison size at which the sequence is narrowest (default: the rows of the
        comparison at the last look); ignored when ``rho2`` is given.
    rho2 : float, optional
        Mixing parameter for every arm (overrides ``tune_at``).
    looks : sequence of int, optional
        Participants analysed at each look (default: about 40 evenly spaced looks).
    levels : mapping, optional
        Declared order of categorical covariates' levels.

    Returns
    -------
    DataFrame
        One row per look and arm with at least ``MIN_PER_ARM`` participants in it and
        in the control: ``look_n`` (rows analysed), ``arm``, ``n`` (arm plus control),
        ``n_control``, ``n_treatment`` (participants), ``estimate`` and ``std_error``
        (outcome units), ``rho2`` (per participant), ``cs_low``, ``cs_high`` (the
        sequence, outcome units) and ``anytime_p`` (0 to 1).

    Notes
    -----
    ``cs = estimate +/- cs_radius(n, std_error, rho2, alpha)`` with
    ``rho2 = optimal_rho2(tune_at, alpha)``; see the module docstring for the formula.

    References
    ----------
    Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2024), Annals of Statistics 52(6).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"arm": np.tile(["c", "t"], 100), "y": rng.normal(size=200)})
    >>> cs = confidence_sequence(d, "y", "arm", "c", looks=[100, 200], tune_at=200)
    >>> cs[["look_n", "n", "estimate", "cs_low", "cs_high"]].round(3)
       look_n    n  estimate  cs_low  cs_high
    0     100  100    -0.113  -0.643    0.416
    1     200  200     0.001  -0.398    0.400
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    control = str(control)
    y = numeric_column(df, outcome)
    d = df.loc[~np.isnan(y)].reset_index(drop=True)
    labels = arm_labels(d, arm)
    if looks is None:
        looks = look_sizes(len(d), min(len(d), 2 * MIN_PER_ARM))
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
