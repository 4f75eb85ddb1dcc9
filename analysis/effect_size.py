"""Standardised effect sizes, equivalence tests and the Mann-Whitney comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis._data import effects_frame, prepare
from analysis.estimators import _welch

__all__ = ["effect_sizes", "equivalence", "mann_whitney"]


def _pooled_sd(y_t: np.ndarray, y_c: np.ndarray) -> float:
    n_t, n_c = len(y_t), len(y_c)
    return float(
        np.sqrt(((n_t - 1) * y_t.var(ddof=1) + (n_c - 1) * y_c.var(ddof=1)) / (n_t + n_c - 2))
    )


def hedges_j(df: float) -> float:
    """Exact small-sample correction ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``."""
    return float(
        np.exp(special.gammaln(df / 2) - np.log(np.sqrt(df / 2)) - special.gammaln((df - 1) / 2))
    )


def effect_sizes(
    df: pd.DataFrame, outcome: str, arm: str, control: object, *, alpha: float = 0.05
) -> pd.DataFrame:
    """Cohen's d and Hedges' g of each arm versus control, with a normal-approximation CI.

    ``d = (mean_t - mean_c) / s_p`` with the pooled SD
    ``s_p = sqrt(((n_t-1) s_t^2 + (n_c-1) s_c^2) / (n_t + n_c - 2))``;
    ``g = J d`` with the exact correction ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``,
    ``m = n_t + n_c - 2`` (Hedges 1981; R ``effectsize::hedges_g``).
    The interval is for g: ``g +/- z_{1-alpha/2} J se_d`` with the Hedges-Olkin
    variance ``se_d^2 = (n_t + n_c)/(n_t n_c) + d^2 / (2 (n_t + n_c))``
    (Hedges & Olkin 1985, eq. 5.14), not the noncentral-t interval.

    Returns ``outcome, arm, cohens_d, hedges_g, std_error, conf_low, conf_high,
    n_control, n_treatment``.
    """
    p = prepare(df, outcome, arm, control)
    y_c = p.y[p.codes == 0]
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for j, a in enumerate(p.arms, start=1):
        y_t = p.y[p.codes == j]
        n_t, n_c = len(y_t), len(y_c)
        sd = _pooled_sd(y_t, y_c) if n_t + n_c > 2 else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            d = (y_t.mean() - y_c.mean()) / sd if sd > 0 else np.nan
        J = hedges_j(n_t + n_c - 2) if n_t + n_c > 3 else np.nan
        g = J * d
        se_g = J * np.sqrt((n_t + n_c) / (n_t * n_c) + d**2 / (2 * (n_t + n_c)))
        rows.append(
            {
                "outcome": outcome,
                "arm": a,
                "cohens_d": float(d),
                "hedges_g": float(g),
                "std_error": float(se_g),
                "conf_low": float(g - z * se_g),
                "conf_high": float(g + z * se_g),
                "n_control": n_c,
                "n_treatment": n_t,
            }
        )
    return pd.DataFrame(rows)


def equivalence(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    bound: float = 0.1,
    bound_units: str = "sd",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Two one-sided tests (TOST) that each arm's effect lies within ``+/- bound``.

    The effect and its error are the Welch difference in means (as
    :func:`difference_in_means`). With ``bound_units="sd"`` the bound is
    ``bound`` times the pooled SD of the two arms, as in Cohen's d (raw units
    otherwise).
    ``p_lower`` tests H0: effect <= -bound, ``p_upper`` H0: effect >= +bound, both
    on the Welch df; ``p_value = max(p_lower, p_upper)``. Equivalence is declared
    when ``p_value < alpha``, i.e. the ``1 - 2 alpha`` interval (reported as
    ``conf_low, conf_high``) lies inside the bounds (Schuirmann 1987; Lakens 2017).
    """
    if bound_units not in ("sd", "raw"):
        raise ValueError(f"bound_units: expected 'sd' or 'raw', got {bound_units!r}")
    if not bound > 0:
        raise ValueError(f"equivalence_bound: expected a positive number, got {bound!r}")
    p = prepare(df, outcome, arm, control)
    y_c = p.y[p.codes == 0]
    rows = []
    for j, a in enumerate(p.arms, start=1):
        y_t = p.y[p.codes == j]
        est, se, dof = _welch(y_t, y_c)
        raw = bound * _pooled_sd(y_t, y_c) if bound_units == "sd" else float(bound)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_lower = float(stats.t.sf(np.divide(est + raw, se), dof))
            p_upper = float(stats.t.cdf(np.divide(est - raw, se), dof))
        crit = stats.t.ppf(1 - alpha, dof)
        p_value = max(p_lower, p_upper)
        rows.append(
            {
                "outcome": outcome,
                "arm": a,
                "method": "tost",
                "bound": float(bound),
                "bound_units": bound_units,
                "bound_raw": raw,
                "estimate": est,
                "std_error": se,
                "df": dof,
                "p_lower": p_lower,
                "p_upper": p_upper,
                "p_value": p_value,
                "conf_low": est - crit * se,
                "conf_high": est + crit * se,
                "equivalent": bool(p_value < alpha),
                "n_control": len(y_c),
                "n_treatment": len(y_t),
            }
        )
    return pd.DataFrame(rows)


def mann_whitney(
    df: pd.DataFrame, outcome: str, arm: str, control: object, *, alpha: float = 0.05
) -> pd.DataFrame:
    """Wilcoxon-Mann-Whitney rank-sum test of each arm against control.

    ``statistic`` is U of the treatment arm (R's ``W``); the p-value is the
    normal approximation with tie and continuity corrections, as
    ``wilcox.test(y_t, y_c, exact = FALSE, correct = TRUE)``. ``estimate`` is
    the probability of superiority ``P(Y_t > Y_c) + P(Y_t = Y_c)/2 = U / (n_t n_c)``
    (0.5 = no shift); no interval is reported (``conf_low``/``conf_high`` are NaN).
    """
    p = prepare(df, outcome, arm, control)
    y_c = p.y[p.codes == 0]
    rows = []
    for j, a in enumerate(p.arms, start=1):
        y_t = p.y[p.codes == j]
        res = stats.mannwhitneyu(y_t, y_c, alternative="two-sided", method="asymptotic")
        u = float(res.statistic)
        rows.append(
            {
                "outcome": outcome,
                "arm": a,
                "method": "mann_whitney",
                "estimate": u / (len(y_t) * len(y_c)),
                "std_error": np.nan,
                "statistic": u,
                "df": np.nan,
                "p_value": float(res.pvalue),
                "conf_low": np.nan,
                "conf_high": np.nan,
                "n_control": len(y_c),
                "n_treatment": len(y_t),
            }
        )
    return effects_frame(rows)
