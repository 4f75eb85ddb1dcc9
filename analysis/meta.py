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
    One moderator, ``rma(yi, vi, mods = ~x, method="REML", test="knha")``; in
    :mod:`analysis.meta_moderator`. The REML engine is ``analysis._reml``.
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

from analysis._reml import check_studies, fit

__all__ = ["MIN_STUDIES", "MetaResult", "blup", "heterogeneity_words", "random_effects"]

# Fewer studies than this are not pooled: tau² (and with it every interval) is
# hardly estimable from two studies, and a t with one degree of freedom is useless.
MIN_STUDIES = 3


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

    Notes
    -----
    ``mu = sum w_i y_i / sum w_i`` with ``w_i = 1 / (v_i + tau^2)`` (REML tau^2),
    ``SE^2 = s^2 / sum w_i`` (Knapp–Hartung), ``mu +/- t_{k-1} SE`` and the prediction
    interval ``mu +/- t_{k-1} sqrt(SE^2 + tau^2)``; see the module docstring.

    References
    ----------
    Viechtbauer (2005, 2010); Knapp & Hartung (2003); Higgins, Thompson & Spiegelhalter
    (2009); R ``metafor::rma(yi, vi, method = "REML", test = "knha")``.

    Examples
    --------
    >>> r = random_effects([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.03])
    >>> r.df, round(r.tau2, 6)
    (3, 0.006953)
    """
    y, v = check_studies(yi, vi, 1)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: expected a number between 0 and 1, got {alpha}")
    X = np.ones((y.size, 1))
    f = fit(y, v, X, alpha)
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

    Parameters
    ----------
    result : MetaResult
        A fit from :func:`random_effects` (it keeps the studies' ``yi`` and ``vi``).

    Returns
    -------
    DataFrame
        One row per study, in input order: ``estimate`` and ``std_error`` (the
        studies' scale), ``pi_low``, ``pi_high`` (its interval at the fit's level) and
        ``shrinkage`` (1 - λ_i, 0 to 1: how far the study was pulled to the pooled
        estimate).

    Notes
    -----
    ``λ_i = τ² / (τ² + v_i)``; ``pred_i = λ_i y_i + (1 - λ_i) μ̂``;
    ``se_i = √(λ_i v_i + (1 - λ_i)² SE(μ̂)²)``; interval ``pred_i ± t_{k-1} se_i``.

    References
    ----------
    Raudenbush, S. W. & Bryk, A. S. (1985). Empirical Bayes meta-analysis. JEBS 10, 75-98.
    Robinson, G. K. (1991). That BLUP is a good thing. Statistical Science 6, 15-32.
    R ``metafor::blup()`` (Viechtbauer 2010).

    Examples
    --------
    >>> r = random_effects([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.03])
    >>> blup(r)[["estimate", "shrinkage"]].round(3)
       estimate  shrinkage
    0     0.180      0.590
    1     0.252      0.742
    2     0.224      0.683
    3     0.285      0.812
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


def heterogeneity_words(result: MetaResult, value: str | None = None) -> str:
    """The pooled effect and its between-study spread in words a campaigner can act on.

    Parameters
    ----------
    result : MetaResult
        A fit from :func:`random_effects`.
    value : str, optional
        The frames' value, named in the sentence ("care frames ..."); default "These frames".

    Returns
    -------
    str
        One sentence: direction, reach and spread, ending with I² in percent.

    Notes
    -----
    The direction comes from the confidence interval, the share of campaigns from the
    prediction interval (does it cross zero?), the spread from I²: below 25% "much the
    same", below 50% "a little", below 75% "considerably", else "a lot".

    References
    ----------
    Higgins, J. P. T., Thompson, S. G., Deeks, J. J. & Altman, D. G. (2003). Measuring
    inconsistency in meta-analyses. BMJ 327, 557-560.

    Examples
    --------
    >>> r = random_effects([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.015, 0.03])
    >>> heterogeneity_words(r, "care")
    'care frames had no clear average effect; how much varied a little between campaigns (I² = 29%).'
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
