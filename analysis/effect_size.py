"""Standardised effect sizes, equivalence tests and the Mann-Whitney comparison.

:func:`effect_sizes` (Cohen's d, Hedges' g, noncentral-t intervals as R's effectsize),
:func:`equivalence` (TOST) and :func:`mann_whitney` (rank-sum test).

Examples
--------
>>> d = pd.DataFrame({"arm": ["c"] * 3 + ["t"] * 3, "y": [1.0, 2, 3, 3, 4, 5]})
>>> round(float(effect_sizes(d, "y", "arm", "c")["cohens_d"].iloc[0]), 4)
2.0
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis._data import effects_frame, prepare
from analysis.estimators import _welch

__all__ = ["effect_sizes", "equivalence", "mann_whitney"]


def _pooled_sd(y_t: np.ndarray, y_c: np.ndarray) -> float:
    """Pooled SD from the within-arm sums of squares (defined with one participant in an arm)."""
    ss = float(((y_t - y_t.mean()) ** 2).sum() + ((y_c - y_c.mean()) ** 2).sum())
    return float(np.sqrt(ss / (len(y_t) + len(y_c) - 2)))


def hedges_j(df: float) -> float:
    """Exact small-sample correction ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``."""
    return float(
        np.exp(special.gammaln(df / 2) - np.log(np.sqrt(df / 2)) - special.gammaln((df - 1) / 2))
    )


# Widest search for a noncentrality bound, in units of the approximate SD of t around the
# first guess. Beyond it the noncentral t counts as not invertible (normal fallback).
_NCP_SEARCH_LIMIT = 1e4


def _ncp_lower(t: float, df: float, tail: float) -> float:
    """The ncp at which ``P(T >= t) = tail`` for T ~ noncentral t(df, ncp).

    ``P(T >= t)`` increases with ncp. The search starts from the normal
    approximation of the noncentral t (Abramowitz & Stegun 26.7.10), brackets
    the root with doubling steps and refines it by Brent's method. The upper
    tail is used because scipy's lower-tail cdf loses precision deep in the tail.
    Raises ArithmeticError when the distribution cannot be evaluated or no
    bracket is found.
    """

    def excess(ncp: float) -> float:
        # scipy warns (Boost: "Series did not converge") when it returns its closest value.
        # Recorded, not raised: raised from inside scipy's C loop it becomes a SystemError.
        # Floating-point flags are not failures: scipy 1.11 raises a spurious "divide by
        # zero" for t = 2.83, df = 3 and still returns the right tail (to 1e-10).
        with warnings.catch_warnings(record=True) as caught, np.errstate(divide="ignore"):
            warnings.simplefilter("always", RuntimeWarning)
            p = float(stats.nct.sf(t, df, ncp))
        if caught:
            raise ArithmeticError(f"noncentral t sf({t}, {df}, {ncp}): {caught[0].message}")
        if not np.isfinite(p):
            raise ArithmeticError(f"noncentral t sf({t}, {df}, {ncp}) is not finite")
        return p - tail

    spread = float(np.sqrt(1 + t * t / (2 * df)))
    guess = t * (1 - 1 / (4 * df)) - float(stats.norm.isf(tail)) * spread
    at_guess = excess(guess)
    if at_guess == 0:
        return guess
    direction = 1.0 if at_guess < 0 else -1.0  # toward the root
    near, step = guess, 0.1 * spread
    far = guess + direction * step
    while (excess(far) < 0) == (at_guess < 0):
        near, step = far, 2 * step
        far = guess + direction * step
        if step > _NCP_SEARCH_LIMIT * spread:
            raise ArithmeticError(f"no bracket for the ncp of t = {t}, df = {df}")
    low, high = sorted((near, far))
    return float(optimize.brentq(excess, low, high, xtol=1e-14, rtol=1e-15, maxiter=500))


def ncp_interval(t: float, df: float, alpha: float = 0.05) -> tuple[float, float]:
    """Two-sided ``1 - alpha`` interval for the noncentrality of an observed t.

    The bounds solve ``P(T >= t | ncp_low) = alpha/2`` and
    ``P(T <= t | ncp_high) = alpha/2`` for T ~ noncentral t(df, ncp) (the
    pivot of Steiger & Fouladi 1997); the second is the first applied to -t.
    This is what R's ``effectsize:::.get_ncp_t`` solves (by Nelder-Mead there,
    by a bracketed root here). Raises ArithmeticError when it cannot be inverted.
    """
    if not (np.isfinite(t) and np.isfinite(df) and df > 0):
        raise ArithmeticError(f"no noncentral t for t = {t}, df = {df}")
    tail = alpha / 2
    return _ncp_lower(t, df, tail), -_ncp_lower(-t, df, tail)


def effect_sizes(
    df: pd.DataFrame, outcome: str, arm: str, control: object, *, alpha: float = 0.05
) -> pd.DataFrame:
    """Cohen's d and Hedges' g of each arm versus control, with noncentral-t intervals.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome, arm : str
        The numeric outcome column and the column holding each participant's arm label.
    control : object
        The control arm's label.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm (effect sizes are in SD units):

        * ``outcome``, ``arm``: the outcome and the arm compared with the control
        * ``cohens_d``: standardized difference in means d
        * ``hedges_g``: bias-corrected g
        * ``std_error``: large-sample standard error of g, ``J se_d``
        * ``conf_low``, ``conf_high``: ``1 - alpha`` interval of g
        * ``d_conf_low``, ``d_conf_high``: ``1 - alpha`` interval of d
        * ``df``: ``m = n_t + n_c - 2``
        * ``ci_method``: ``noncentral_t``, ``normal`` (fallback) or ``none``
        * ``n_control``, ``n_treatment``: participants of the control and the arm used

    Notes
    -----
    ``d = (mean_t - mean_c) / s_p`` with the pooled SD
    ``s_p = sqrt(((n_t-1) s_t^2 + (n_c-1) s_c^2) / m)``, ``m = n_t + n_c - 2``;
    ``g = J d`` with the exact correction ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``
    (Hedges 1981).

    Intervals invert the noncentral t: with ``t = d / sqrt(h)``, ``h = 1/n_t + 1/n_c``
    (Student's pooled t statistic), ``[ncp_low, ncp_high]`` is the ``1 - alpha``
    interval of the noncentrality of t on m df (:func:`ncp_interval`); the interval
    for d is ``ncp * sqrt(h)`` and for g ``J ncp sqrt(h)``. This is
    ``effectsize::cohens_d(y_t, y_c, ci = 1 - alpha)`` and ``effectsize::hedges_g``
    (version 0.8, pooled SD), ``ci_method = "noncentral_t"``, to 1e-9 relative; for
    ``|ncp| > 37.62`` R's ``pt()`` switches to a normal approximation (its pnt.c) and
    effectsize's bounds drift from the exact ones (1e-4 relative at t = 44).
    When the noncentral t cannot be inverted (scipy's series does not converge, as for
    |t| >~ 1e5, or no bound within 10^4 SDs of the first guess), the intervals use the normal
    approximation ``d +/- z_{1-alpha/2} se_d`` and ``g +/- z J se_d`` with the
    Hedges-Olkin variance ``se_d^2 = h + d^2 / (2 (n_t + n_c))`` (Hedges & Olkin
    1985, eq. 5.14), ``ci_method = "normal"``. Without a finite d (no spread, or
    fewer than 3 participants) there is no interval and ``ci_method`` is ``"none"``.
    With 3 participants (m = 1) J is undefined (Gamma(0)): g and its interval are NaN,
    where effectsize reports g = 0 with the interval [0, 0].

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size
    and related estimators. Journal of Educational Statistics 6(2), 107-128.
    Hedges, L. V., & Olkin, I. (1985). Statistical Methods for Meta-Analysis. Academic Press.
    Steiger, J. H. & Fouladi, R. T. (1997). Noncentrality interval estimation and
    the evaluation of statistical models. In What If There Were No Significance Tests?
    Ben-Shachar, M. S., Lüdecke, D. & Makowski, D. (2020). effectsize: Estimation of
    effect size indices and standardized parameters. JOSS 5(56), 2815.

    Examples
    --------
    R: ``effectsize::hedges_g(c(3, 4, 5), c(1, 2, 3))`` gives 1.595769 [-0.119575, 3.206913].

    >>> d = pd.DataFrame({"arm": ["c"] * 3 + ["t"] * 3, "y": [1.0, 2, 3, 3, 4, 5]})
    >>> row = effect_sizes(d, "y", "arm", "c").iloc[0]
    >>> [round(float(row[c]), 4) for c in ("hedges_g", "conf_low", "conf_high")]
    [1.5958, -0.1196, 3.2069]
    >>> row["ci_method"]
    'noncentral_t'
    """
    p = prepare(df, outcome, arm, control)
    y_c = p.y[p.codes == 0]
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for j, a in enumerate(p.arms, start=1):
        y_t = p.y[p.codes == j]
        n_t, n_c = len(y_t), len(y_c)
        m = n_t + n_c - 2
        h = 1 / n_t + 1 / n_c
        sd = _pooled_sd(y_t, y_c) if m > 0 else np.nan
        d = (y_t.mean() - y_c.mean()) / sd if sd > 0 else np.nan
        J = hedges_j(m) if m > 1 else np.nan
        se_d = np.sqrt(h + d**2 / (2 * (n_t + n_c)))
        method = "none"
        d_low = d_high = np.nan
        if np.isfinite(d):
            try:
                ncp_low, ncp_high = ncp_interval(d / np.sqrt(h), m, alpha)
                d_low, d_high = ncp_low * np.sqrt(h), ncp_high * np.sqrt(h)
                method = "noncentral_t"
            except ArithmeticError:
                d_low, d_high = d - z * se_d, d + z * se_d
                method = "normal"
        rows.append(
            {
                "outcome": outcome,
                "arm": a,
                "cohens_d": float(d),
                "hedges_g": float(J * d),
                "std_error": float(J * se_d),
                "conf_low": float(J * d_low),
                "conf_high": float(J * d_high),
                "d_conf_low": float(d_low),
                "d_conf_high": float(d_high),
                "df": m,
                "ci_method": method,
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

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome, arm : str
        The numeric outcome column and the column holding each participant's arm label.
    control : object
        The control arm's label.
    bound : float, default 0.1
        The smallest effect of interest (positive).
    bound_units : {"sd", "raw"}, default "sd"
        ``"sd"``: ``bound`` is in pooled SDs of the two arms (as Cohen's d); ``"raw"``:
        in outcome units.
    alpha : float, default 0.05
        Level of each one-sided test.

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm:

        * ``outcome``, ``arm``: the outcome and the arm compared with the control
        * ``method``: ``"tost"``
        * ``bound``, ``bound_units``, ``bound_raw``: the bound as given, and in outcome units
        * ``estimate``: Welch difference in means (outcome units)
        * ``std_error``: its Welch standard error (outcome units)
        * ``df``: Welch-Satterthwaite degrees of freedom
        * ``p_lower``, ``p_upper``: p-values of H0 effect <= -bound and H0 effect >= +bound
        * ``p_value``: ``max(p_lower, p_upper)``
        * ``conf_low``, ``conf_high``: ``1 - 2 alpha`` interval (outcome units)
        * ``equivalent``: ``p_value < alpha``
        * ``n_control``, ``n_treatment``: participants of the control and the arm used

    Notes
    -----
    With the Welch estimate ``b``, its error ``se`` and df ``nu`` (as
    :func:`analysis.estimators.difference_in_means`):
    ``p_lower = P(T_nu > (b + bound_raw) / se)``, ``p_upper = P(T_nu < (b - bound_raw) / se)``.
    Equivalence is declared when both reject, i.e. the ``1 - 2 alpha`` interval lies
    inside ``[-bound_raw, bound_raw]``.

    References
    ----------
    Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the
    power approach for assessing the equivalence of average bioavailability. Journal of
    Pharmacokinetics and Biopharmaceutics, 15(6), 657-680.
    Lakens, D. (2017). Equivalence tests: A practical primer for t tests, correlations,
    and meta-analyses. Social Psychological and Personality Science, 8(4), 355-362.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"arm": np.repeat(["c", "t"], 500), "y": rng.normal(size=1000)})
    >>> equivalence(d, "y", "arm", "c", bound=0.3)[["method", "equivalent"]].values.tolist()
    [['tost', True]]
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

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome, arm : str
        The numeric (or ordinal) outcome column and the arm label column.
    control : object
        The control arm's label.
    alpha : float, default 0.05
        Kept for the common signature; no interval is reported.

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm:

        * ``outcome``, ``arm``: the outcome and the arm compared with the control
        * ``method``: ``"mann_whitney"``
        * ``estimate``: probability of superiority (0 to 1; 0.5 = no shift)
        * ``statistic``: U of the treatment arm (R's ``W``)
        * ``p_value``: two-sided normal-approximation p-value
        * ``std_error``, ``df``, ``conf_low``, ``conf_high``: NaN (not defined)
        * ``n_control``, ``n_treatment``: participants of the control and the arm used

    Notes
    -----
    ``U = #{(i, k): y_t,i > y_c,k} + #{ties} / 2``; ``estimate = U / (n_t n_c)``
    ``= P(Y_t > Y_c) + P(Y_t = Y_c) / 2``. The p-value is the normal approximation with
    tie and continuity corrections, as ``wilcox.test(y_t, y_c, exact = FALSE,
    correct = TRUE)``.

    References
    ----------
    Mann, H. B., & Whitney, D. R. (1947). On a test of whether one of two random
    variables is stochastically larger than the other. Annals of Mathematical
    Statistics, 18(1), 50-60.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c"] * 3 + ["t"] * 3, "y": [1.0, 2, 3, 3, 4, 5]})
    >>> mann_whitney(d, "y", "arm", "c")[["statistic", "estimate"]].values.tolist()
    [[8.5, 0.9444444444444444]]
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
