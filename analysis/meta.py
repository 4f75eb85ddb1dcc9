"""Random-effects meta-analysis of frame effects across studies (the frame library).

Public API
----------
``random_effects(yi, vi, *, alpha=0.05) -> MetaResult``
    REML estimate of tau², Knapp–Hartung (``test="knha"``) inference and the
    prediction interval; identical to R's ``metafor::rma(yi, vi, method="REML",
    test="knha")`` and ``predict()`` on it.
``blup(result) -> DataFrame``
    Shrunken (empirical Bayes) estimate of each study, as ``metafor::blup()``.
``meta_regression(yi, vi, x, *, alpha=0.05) -> MetaRegression``
    One moderator, ``rma(yi, vi, mods = ~x, method="REML", test="knha")``.
``heterogeneity_words(result, value=None) -> str``
    tau² and I² said in plain words for campaigners.

Model
-----
Study i reports ``y_i`` with known sampling variance ``v_i``;
``y_i = x_i'β + u_i + e_i``, ``u_i ~ N(0, τ²)``, ``e_i ~ N(0, v_i)``. With
``W = diag(1/(v_i + τ²))`` and ``P = W - W X (X'W X)^{-1} X'W``, REML maximises
``-½ Σ log(v_i+τ²) - ½ log|X'W X| - ½ y'P y`` over τ² ≥ 0, solved here by Fisher
scoring (``τ² ← τ² + (y'PPy - tr P) / tr PP``) to 1e-12 on τ², as metafor does
(metafor stops at a change below 1e-5 by default; the references in
``tests/reference/meta`` were made with ``threshold = 1e-12``).

Knapp–Hartung: ``Var(β̂) = s² (X'W X)^{-1}`` with
``s² = Σ w_i (y_i - x_i'β̂)² / (k - p)`` (not truncated at 1, as metafor), and
``t_{k-p}`` quantiles for tests, confidence and prediction intervals. The
prediction interval is ``μ̂ ± t_{k-p, 1-α/2} √(SE² + τ²)``. ``I² = τ² / (τ² + s̃²)``
with the "typical" within-study variance ``s̃² = (k - p) / tr P₀`` (``P₀``: ``P`` at
τ² = 0; Higgins & Thompson 2002), ``H² = 1 / (1 - I²)``.

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
*Journal of Statistical Software* 36(3). Viechtbauer, W. (2005). Bias and efficiency
of meta-analytic variance estimators in the random-effects model. *JEBS* 30, 261–293.
Knapp, G. & Hartung, J. (2003). Improved tests for a random effects meta-regression
with a single covariate. *Statistics in Medicine* 22, 2693–2710. Higgins, J. P. T.,
Thompson, S. G. & Spiegelhalter, D. J. (2009). A re-evaluation of random-effects
meta-analysis. *JRSS A* 172, 137–159 (prediction intervals).

Examples
--------
>>> r = random_effects([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.03])
>>> round(r.estimate, 4), r.k
(0.2351, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "MIN_STUDIES",
    "MIN_STUDIES_REGRESSION",
    "MetaRegression",
    "MetaResult",
    "blup",
    "heterogeneity_words",
    "meta_regression",
    "random_effects",
]

# Fewer studies than this are not pooled: tau² (and with it every interval) is
# hardly estimable from two studies, and a t with one degree of freedom is useless.
MIN_STUDIES = 3
# A moderator needs at least this many studies (Cochrane Handbook 10.11.5.1).
MIN_STUDIES_REGRESSION = 10
_TOL = 1e-12
_MAXITER = 1000


@dataclass(frozen=True)
class MetaResult:
    """A random-effects fit (intercept only): the tidy columns of metafor's ``rma``."""

    k: int
    estimate: float
    std_error: float
    statistic: float
    df: int
    p_value: float
    conf_low: float
    conf_high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_p_value: float
    alpha: float
    yi: tuple[float, ...]
    vi: tuple[float, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (the per-study inputs left out)."""
        return {k: v for k, v in asdict(self).items() if k not in ("yi", "vi")}


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


def _check(yi: Sequence[float], vi: Sequence[float], p: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise ValueError(
            f"yi, vi: expected two sequences of the same length, got {y.shape} and {v.shape}"
        )
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise ValueError("yi, vi: every estimate and variance must be a finite number")
    if np.any(v <= 0):
        raise ValueError("vi: every sampling variance must be positive")
    if y.size < p + 1:
        raise ValueError(f"yi: expected at least {p + 1} studies, got {y.size}")
    return y, v


def _p_matrix(v: np.ndarray, tau2: float, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = 1.0 / (v + tau2)
    W = np.diag(w)
    xtwx_inv = np.linalg.inv(X.T @ W @ X)
    P = W - W @ X @ xtwx_inv @ X.T @ W
    return P, xtwx_inv


def _reml_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """REML τ² by Fisher scoring from the Hedges (method-of-moments) start, truncated at 0."""
    k, p = X.shape
    # Hedges' unweighted moment estimator as the start, like metafor.
    beta_ols = np.linalg.lstsq(X, y, rcond=None)[0]
    resid = y - X @ beta_ols
    H = X @ np.linalg.pinv(X)
    tau2 = max(0.0, (resid @ resid - np.sum(v * (1 - np.diag(H)))) / (k - p))
    for _ in range(_MAXITER):
        P, _ = _p_matrix(v, tau2, X)
        Py = P @ y
        score = Py @ Py - np.trace(P)
        info = np.sum(P * P.T)
        step = score / info
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < _TOL:
            return new
        tau2 = new
    raise ValueError("tau2: REML did not converge (Fisher scoring, 1000 iterations)")


def _fit(y: np.ndarray, v: np.ndarray, X: np.ndarray, alpha: float) -> dict[str, object]:
    k, p = X.shape
    tau2 = _reml_tau2(y, v, X)
    _, xtwx_inv = _p_matrix(v, tau2, X)
    w = 1.0 / (v + tau2)
    beta = xtwx_inv @ X.T @ (w * y)
    resid = y - X @ beta
    s2 = float(np.sum(w * resid**2) / (k - p))
    vb = s2 * xtwx_inv
    se = np.sqrt(np.diag(vb))
    df = k - p
    crit = stats.t.ppf(1 - alpha / 2, df)
    # Heterogeneity: Cochran's Q on fixed-effect weights and the typical within variance.
    P0, xtwx0_inv = _p_matrix(v, 0.0, X)
    w0 = 1.0 / v
    beta0 = xtwx0_inv @ X.T @ (w0 * y)
    q = float(np.sum(w0 * (y - X @ beta0) ** 2))
    typical = (k - p) / float(np.trace(P0))
    i2 = 100.0 * tau2 / (tau2 + typical)
    return {
        "tau2": tau2,
        "beta": beta,
        "vb": vb,
        "se": se,
        "df": df,
        "crit": crit,
        "q": q,
        "q_p_value": float(stats.chi2.sf(q, k - p)),
        "i2": i2,
        "h2": 1.0 / (1.0 - i2 / 100.0),
    }


def random_effects(yi: Sequence[float], vi: Sequence[float], *, alpha: float = 0.05) -> MetaResult:
    """Random-effects meta-analysis: REML τ², Knapp–Hartung CI and the prediction interval.

    Parameters
    ----------
    yi : sequence of float
        Each study's estimate (all on one scale, e.g. standardized mean differences).
    vi : sequence of float
        Their sampling variances (squared standard errors), all positive.
    alpha : float
        1 - confidence level of the confidence and prediction intervals.

    Returns
    -------
    MetaResult
        As ``metafor::rma(yi, vi, method="REML", test="knha")``: estimate, std_error,
        t statistic on k - 1 df, p_value, conf_low/high, pi_low/high (``predict()``),
        tau2, i2 (%), h2, Cochran's q and its p-value.

    Examples
    --------
    >>> r = random_effects([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.03])
    >>> r.df, round(r.tau2, 6)
    (3, 0.006953)
    """
    y, v = _check(yi, vi, 1)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: expected a number between 0 and 1, got {alpha}")
    X = np.ones((y.size, 1))
    f = _fit(y, v, X, alpha)
    est = float(f["beta"][0])
    se = float(f["se"][0])
    crit = float(f["crit"])
    t = est / se
    pi_half = crit * np.sqrt(se**2 + f["tau2"])
    return MetaResult(
        k=int(y.size),
        estimate=est,
        std_error=se,
        statistic=t,
        df=int(f["df"]),
        p_value=float(2 * stats.t.sf(abs(t), f["df"])),
        conf_low=est - crit * se,
        conf_high=est + crit * se,
        pi_low=float(est - pi_half),
        pi_high=float(est + pi_half),
        tau2=float(f["tau2"]),
        i2=float(f["i2"]),
        h2=float(f["h2"]),
        q=float(f["q"]),
        q_p_value=float(f["q_p_value"]),
        alpha=alpha,
        yi=tuple(float(a) for a in y),
        vi=tuple(float(a) for a in v),
    )


def blup(result: MetaResult) -> pd.DataFrame:
    """Shrunken (empirical Bayes) estimate of each study's true effect, as ``metafor::blup()``.

    ``λ_i = τ² / (τ² + v_i)``; ``pred_i = λ_i y_i + (1 - λ_i) μ̂``;
    ``se_i = √(λ_i v_i + (1 - λ_i)² SE(μ̂)²)``; interval ``pred_i ± t_{k-1} se_i``
    (Raudenbush & Bryk 1985; Robinson 1991).

    Returns
    -------
    DataFrame
        One row per study, in input order: estimate, std_error, pi_low, pi_high,
        shrinkage (1 - λ_i: how far the study was pulled to the pooled estimate).
    """
    y = np.asarray(result.yi)
    v = np.asarray(result.vi)
    lam = result.tau2 / (result.tau2 + v)
    pred = lam * y + (1 - lam) * result.estimate
    se = np.sqrt(lam * v + (1 - lam) ** 2 * result.std_error**2)
    crit = stats.t.ppf(1 - result.alpha / 2, result.df)
    return pd.DataFrame(
        {
            "estimate": pred,
            "std_error": se,
            "pi_low": pred - crit * se,
            "pi_high": pred + crit * se,
            "shrinkage": 1 - lam,
        }
    )


def meta_regression(
    yi: Sequence[float],
    vi: Sequence[float],
    x: Sequence[float],
    *,
    alpha: float = 0.05,
    min_studies: int = MIN_STUDIES_REGRESSION,
) -> MetaRegression:
    """Mixed-effects meta-regression on one moderator (REML, Knapp–Hartung).

    ``rma(yi, vi, mods = ~x, method = "REML", test = "knha")``: coefficients with
    ``t_{k-2}`` intervals, the moderator's F statistic on (1, k - 2) df, residual τ² and
    I², and R² = max(0, 100 (τ²₀ - τ²) / τ²₀) against the intercept-only fit.

    Raises ValueError with fewer than ``min_studies`` studies (10 by default) or a
    moderator that does not vary.
    """
    y, v = _check(yi, vi, 2)
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
    f = _fit(y, v, X, alpha)
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


def heterogeneity_words(result: MetaResult, value: str | None = None) -> str:
    """The pooled effect and its between-study spread in words a campaigner can act on.

    The direction comes from the confidence interval, the share of campaigns from the
    prediction interval (does it cross zero?), the spread from I² (Higgins et al. 2003:
    about 25% low, 50% moderate, 75% high).
    """
    name = f"{value} frames" if value else "These frames"
    if result.conf_low > 0:
        direction = "helped on average"
    elif result.conf_high < 0:
        direction = "hurt on average"
    else:
        direction = "had no clear average effect"
    if result.conf_low > 0 and result.pi_low > 0:
        reach = ", and should help in almost any similar campaign"
    elif result.conf_low > 0:
        reach = " in most campaigns, but not reliably in every one"
    elif result.conf_high < 0 and result.pi_high < 0:
        reach = ", and should hurt in almost any similar campaign"
    elif result.conf_high < 0:
        reach = " in most campaigns, but not in every one"
    else:
        reach = ""
    if result.i2 < 25:
        spread = "the effect was much the same from campaign to campaign"
    elif result.i2 < 50:
        spread = "how much varied a little between campaigns"
    elif result.i2 < 75:
        spread = "how much varied considerably between campaigns"
    else:
        spread = "how much varied a lot between campaigns"
    return f"{name} {direction}{reach}; {spread} (I² = {result.i2:.0f}%)."
