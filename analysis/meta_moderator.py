"""Mixed-effects meta-regression of frame effects on one study-level moderator.

The model is :mod:`analysis.meta`'s with a slope: ``y_i = b_0 + b_1 x_i + u_i + e_i``,
fitted by REML with Knapp–Hartung inference, as ``metafor::rma(yi, vi, mods = ~x,
method = "REML", test = "knha")``.

Examples
--------
>>> yi = [0.1, 0.3, 0.2, 0.5, 0.4, 0.15, 0.35, 0.6, 0.25, 0.45]
>>> vi = [0.01, 0.02, 0.015, 0.03, 0.02, 0.01, 0.02, 0.03, 0.015, 0.02]
>>> r = meta_regression(yi, vi, [0, 1, 0, 1, 1, 0, 1, 1, 0, 1])
>>> r.k, list(r.coefficients["term"])
(10, ['intercept', 'moderator'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis._reml import check_studies, fit
from analysis.meta import random_effects

__all__ = ["MIN_STUDIES_REGRESSION", "MetaRegression", "meta_regression"]

# A moderator needs at least this many studies (Cochrane Handbook 10.11.5.1).
MIN_STUDIES_REGRESSION = 10


@dataclass(frozen=True)
class MetaRegression:
    """A mixed-effects meta-regression on one moderator (intercept and slope)."""

    k: int
    coefficients: pd.DataFrame  # term, estimate, std_error, statistic, df, p_value, conf_*
    tau2: float
    i2: float
    q_moderator: float  # F statistic of the moderator (knha), on (1, k - 2) df
    q_moderator_p_value: float
    r2: float | None  # proportional reduction of tau² against the intercept-only fit (%)


def meta_regression(
    yi: Sequence[float],
    vi: Sequence[float],
    x: Sequence[float],
    *,
    alpha: float = 0.05,
    min_studies: int = MIN_STUDIES_REGRESSION,
) -> MetaRegression:
    """Mixed-effects meta-regression on one moderator (REML, Knapp–Hartung).

    Parameters
    ----------
    yi, vi : sequence of float
        Each study's estimate and its sampling variance (positive).
    x : sequence of float
        The moderator's value per study (e.g. 0/1 for a feature of the campaign).
    alpha : float, default 0.05
        1 - confidence level of the coefficients' intervals.
    min_studies : int, default 10
        Fewer studies raise ValueError (as does a moderator that does not vary).

    Returns
    -------
    MetaRegression
        ``k`` (studies); ``coefficients``: ``term`` (intercept, moderator),
        ``estimate``, ``std_error`` (the studies' scale), ``statistic`` (t), ``df``
        (k - 2), ``p_value``, ``conf_low``, ``conf_high``; residual ``tau2`` and ``i2``
        (%); ``q_moderator`` (F on (1, k - 2) df) and its p-value; ``r2`` (%, None when
        the intercept-only τ² is 0).

    Notes
    -----
    ``y_i = b_0 + b_1 x_i + u_i + e_i`` by REML with Knapp–Hartung SEs and ``t_{k-2}``
    intervals; F = t_moderator²; R² = max(0, 100 (τ²₀ - τ²) / τ²₀) against the
    intercept-only fit.

    References
    ----------
    Knapp, G. & Hartung, J. (2003). Statistics in Medicine 22, 2693–2710.
    Viechtbauer (2010); R ``metafor::rma(yi, vi, mods = ~x, method = "REML", test = "knha")``.

    Examples
    --------
    >>> yi = [0.1, 0.3, 0.2, 0.5, 0.4, 0.15, 0.35, 0.6, 0.25, 0.45]
    >>> vi = [0.01, 0.02, 0.015, 0.03, 0.02, 0.01, 0.02, 0.03, 0.015, 0.02]
    >>> r = meta_regression(yi, vi, [0, 1, 0, 1, 1, 0, 1, 1, 0, 1])
    >>> r.coefficients[["term", "estimate", "conf_low", "conf_high"]].round(3)
            term  estimate  conf_low  conf_high
    0  intercept     0.165     0.083      0.247
    1  moderator     0.254     0.131      0.376
    >>> r.tau2, r.r2
    (0.0, 100.0)
    """
    y, v = check_studies(yi, vi, 2)
    m = np.asarray(x, dtype=float)
    if m.shape != y.shape or not np.all(np.isfinite(m)):
        raise ValueError("x: expected one finite moderator value per study")
    if y.size < min_studies:
        raise ValueError(
            f"yi: a meta-regression needs at least {min_studies} studies, got {y.size}"
        )
    if np.ptp(m) == 0:
        raise ValueError("x: the moderator has the same value in every study")
    X = np.column_stack([np.ones_like(m), m])
    f = fit(y, v, X, alpha)
    beta, se, crit, df = f["beta"], f["se"], float(f["crit"]), int(f["df"])
    t = beta / se
    coefs = pd.DataFrame(
        {
            "term": ["intercept", "moderator"],
            "estimate": beta,
            "std_error": se,
            "statistic": t,
            "df": df,
            "p_value": 2 * stats.t.sf(np.abs(t), df),
            "conf_low": beta - crit * se,
            "conf_high": beta + crit * se,
        }
    )
    f_stat = float(t[1] ** 2)
    tau2_0 = random_effects(y, v, alpha=alpha).tau2
    r2 = None if tau2_0 <= 0 else max(0.0, 100.0 * (tau2_0 - f["tau2"]) / tau2_0)
    return MetaRegression(
        k=int(y.size),
        coefficients=coefs,
        tau2=float(f["tau2"]),
        i2=float(f["i2"]),
        q_moderator=f_stat,
        q_moderator_p_value=float(stats.f.sf(f_stat, 1, df)),
        r2=r2,
    )
