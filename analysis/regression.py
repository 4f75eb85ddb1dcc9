"""Regression estimators of arm effects with HC2 errors: Lin, ANCOVA, change score, omnibus.

Each fits one OLS model for all arms (control as the reference) with the shared HC2
core :mod:`analysis.hc` and returns estimatr's tidy columns (as
:mod:`analysis.estimators`), plus the small-sample rule and the residual-df figures.
Rows with a missing value in any column the estimator uses are dropped.

Examples
--------
>>> d = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 6, 7, 9], "x": [0.0, 1, 2, 3, 0, 1, 2, 3],
...                   "arm": ["c"] * 4 + ["t"] * 4})
>>> ancova(d, "y", "arm", "c", "x")[["arm", "method", "estimate"]].round(6).values.tolist()
[['t', 'ancova', 3.75]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._data import Levels, Prepared, effects_frame, prepare
from analysis.guards import check_effects
from analysis.hc import OLSFit, ols_hc2, wald_test
from analysis.small_sample import check_small_sample, hc2_inference

__all__ = ["ancova", "change_score", "lin", "omnibus"]


def _dummies(p: Prepared) -> tuple[np.ndarray, list[str]]:
    D = (p.codes[:, None] == np.arange(1, len(p.arms) + 1)).astype(float)
    return D, list(p.arms)


def _arm_rows(
    fit: OLSFit,
    p: Prepared,
    outcome: str,
    method: str,
    alpha: float,
    response: np.ndarray,
    small_sample: str,
) -> pd.DataFrame:
    """One row per arm from an OLS fit, refused (NumericalError) when it blows up.

    ``response`` is the modelled outcome (the change for a change score); a standard
    error above 1e3 of its SDs only arises from a near-singular design (e.g. a
    covariate that is almost the arm dummy), see :mod:`analysis.guards`.
    """
    counts = np.bincount(p.codes, minlength=len(p.arms) + 1)
    n_c = int(counts[0])
    rows = []
    for k, a in enumerate(p.arms, start=1):
        inf = hc2_inference(fit, fit.index(f"arm:{a}"), alpha, small_sample)
        rows.append(
            {
                "outcome": outcome,
                "arm": a,
                "method": method,
                **inf,
                "n_control": n_c,
                "n_treatment": int(counts[k]),
            }
        )
    sd = float(np.std(response, ddof=1))
    return check_effects(effects_frame(rows), outcome=outcome, method=method, outcome_sd=sd)


def lin(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    covariates: Sequence[str],
    *,
    alpha: float = 0.05,
    levels: Levels | None = None,
    small_sample: str = "bell_mccaffrey",
) -> pd.DataFrame:
    """Lin (2013) covariate adjustment: OLS with treatment x centred covariates, HC2.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome : str
        Numeric outcome column.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    covariates : sequence of str
        Pre-treatment adjustment columns (at least one; text ones dummy-coded).
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).
    small_sample : {"bell_mccaffrey", "residual"}, default "bell_mccaffrey"
        Degrees of freedom of the t reference (see Notes).

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm:

        * ``outcome``, ``arm``: the outcome and the arm compared with the control
        * ``method``: ``"lin"``
        * ``estimate``: the arm's covariate-adjusted effect ``tau_k`` (outcome units)
        * ``std_error``: HC2 standard error (outcome units)
        * ``statistic``: t statistic, ``estimate / std_error``
        * ``df``: degrees of freedom under ``small_sample``
        * ``p_value``: two-sided p-value
        * ``conf_low``, ``conf_high``: ``1 - alpha`` confidence interval (outcome units)
        * ``small_sample``: the degrees-of-freedom rule used
        * ``df_residual``, ``p_value_residual``, ``conf_low_residual``,
          ``conf_high_residual``: the same with the residual ``n - p`` df (as estimatr)
        * ``n_control``, ``n_treatment``: participants of the control and the arm used

    Notes
    -----
    Fits ``y = a + sum_k tau_k D_k + X_c b + sum_k D_k X_c g_k + e`` where ``D_k`` are
    dummies for the treatment arms and ``X_c`` the covariates centred at their
    full-sample means (text covariates, and those whose ``levels`` are declared,
    dummy-coded with the reference level dropped; the arm effects do not depend on that
    choice; a covariate constant in the analysed rows is left out), with HC2 standard
    errors. All arms are fitted in one model; this is ``estimatr::lm_lin(y ~ arm,
    covariates = ~ x1 + x2)`` with the control as the reference level.

    Degrees of freedom: ``"bell_mccaffrey"`` uses :func:`analysis.small_sample.bell_mccaffrey_df`,
    as ``clubSandwich::coef_test(vcov = "CR2", test = "Satterthwaite")`` with each
    participant its own cluster; ``"residual"`` uses ``n - p`` as estimatr does.

    References
    ----------
    Lin, W. (2013). Agnostic notes on regression adjustments to experimental data:
    Reexamining Freedman's critique. Annals of Applied Statistics, 7(1), 295-318.
    Bell, R. M., & McCaffrey, D. F. (2002). Survey Methodology, 28(2), 169-181.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"arm": np.tile(["c", "t"], 50), "x": rng.normal(size=100)})
    >>> d["y"] = 2 * d["x"] + (d["arm"] == "t") + rng.normal(scale=0.1, size=100)
    >>> r = lin(d, "y", "arm", "c", ["x"])
    >>> r[["arm", "method", "n_control"]].values.tolist(), round(float(r["estimate"].iloc[0]), 1)
    ([['t', 'lin', 50]], 1.0)
    """
    if not covariates:
        raise ValueError("covariates: lin() needs at least one covariate column")
    p = prepare(df, outcome, arm, control, covariates=covariates, levels=levels)
    D, dn = _dummies(p)
    # A covariate constant in the analysed rows (e.g. a level nobody chose) carries no
    # information; estimatr reports NA for it, we leave it out.
    keep = np.ptp(p.extra, axis=0) > 0
    Xc = p.extra[:, keep] - p.extra[:, keep].mean(axis=0)
    cov_names = [c for c, k in zip(p.extra_names, keep, strict=True) if k]
    names = (
        ["(Intercept)"]
        + [f"arm:{a}" for a in dn]
        + [f"{c}_c" for c in cov_names]
        + [f"arm:{a}:{c}_c" for a in dn for c in cov_names]
    )
    # Filled column by column in Fortran order: no temporaries, and LAPACK's QR
    # then works on the array without another copy (this is the large-n hot path).
    n, n_arms, n_cov = len(p.y), D.shape[1], Xc.shape[1]
    X = np.empty((n, 1 + n_arms + n_cov * (1 + n_arms)), order="F")
    X[:, 0] = 1.0
    X[:, 1 : 1 + n_arms] = D
    X[:, 1 + n_arms : 1 + n_arms + n_cov] = Xc
    col = 1 + n_arms + n_cov
    for j in range(n_arms):
        for c in range(n_cov):
            np.multiply(D[:, j], Xc[:, c], out=X[:, col])
            col += 1
    check_small_sample(small_sample)
    fit = ols_hc2(X, p.y, names)
    return _arm_rows(fit, p, outcome, "lin", alpha, p.y, small_sample)


def ancova(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    baseline: str,
    *,
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
    levels: Levels | None = None,
    small_sample: str = "bell_mccaffrey",
) -> pd.DataFrame:
    """ANCOVA: OLS of the outcome on arm dummies and the baseline measure, HC2.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome : str
        Numeric outcome column.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    baseline : str
        The outcome's pre-treatment measure (numeric).
    covariates : sequence of str, default ()
        Further adjustment columns (text ones dummy-coded as in :func:`lin`).
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).
    small_sample : {"bell_mccaffrey", "residual"}, default "bell_mccaffrey"
        Degrees of freedom of the t reference, as in :func:`lin`.

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm, with the columns of :func:`lin` (``method`` is
        ``"ancova"``; ``estimate`` the arm's baseline-adjusted effect in outcome units,
        ``std_error`` its HC2 standard error, ``statistic``, ``df``, ``p_value``,
        ``conf_low``, ``conf_high``, ``small_sample``, the four ``*_residual`` columns
        and ``n_control``, ``n_treatment``).

    Notes
    -----
    ``y = a + sum_k tau_k D_k + b baseline [+ C'c] + e``, fitted by OLS with HC2
    errors; ``tau_k`` is arm k's effect. R: ``estimatr::lm_robust(y ~ arm + baseline
    [+ covariates], se_type = "HC2")``.

    References
    ----------
    Frison, L., & Pocock, S. J. (1992). Repeated measures in clinical trials: analysis
    using mean summary statistics and its implications for design. Statistics in
    Medicine, 11(13), 1685-1704.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 6, 7, 9], "x": [0.0, 1, 2, 3, 0, 1, 2, 3],
    ...                   "arm": ["c"] * 4 + ["t"] * 4})
    >>> ancova(d, "y", "arm", "c", "x")[["arm", "method", "estimate"]].round(6).values.tolist()
    [['t', 'ancova', 3.75]]
    """
    check_small_sample(small_sample)
    p = prepare(
        df, outcome, arm, control, numeric_extra=[baseline], covariates=covariates, levels=levels
    )
    D, dn = _dummies(p)
    X = np.hstack([np.ones((len(p.y), 1)), D, p.extra])
    names = ["(Intercept)", *[f"arm:{a}" for a in dn], *p.extra_names]
    fit = ols_hc2(X, p.y, names)
    return _arm_rows(fit, p, outcome, "ancova", alpha, p.y, small_sample)


def change_score(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    baseline: str,
    *,
    alpha: float = 0.05,
    small_sample: str = "bell_mccaffrey",
) -> pd.DataFrame:
    """Change-score model: OLS of ``outcome - baseline`` on arm dummies, HC2.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome : str
        Numeric outcome column.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    baseline : str
        The outcome's pre-treatment measure (numeric, same scale as the outcome).
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.
    small_sample : {"bell_mccaffrey", "residual"}, default "bell_mccaffrey"
        Degrees of freedom of the t reference, as in :func:`lin`.

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm, with the columns of :func:`lin` (``method`` is
        ``"change_score"``; ``estimate`` the difference in mean change, arm minus
        control, in outcome units; ``std_error`` its HC2 standard error, ``statistic``,
        ``df``, ``p_value``, ``conf_low``, ``conf_high``, ``small_sample``, the four
        ``*_residual`` columns and ``n_control``, ``n_treatment``).

    Notes
    -----
    ``y - baseline = a + sum_k tau_k D_k + e``, fitted by OLS with HC2 errors. R:
    ``estimatr::lm_robust(I(y - baseline) ~ arm, se_type = "HC2")``.

    References
    ----------
    Frison, L., & Pocock, S. J. (1992). Statistics in Medicine, 11(13), 1685-1704.
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 4. Norton.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 6, 7, 9], "x": [0.0, 1, 2, 3, 0, 1, 2, 3],
    ...                   "arm": ["c"] * 4 + ["t"] * 4})
    >>> change_score(d, "y", "arm", "c", "x")[["arm", "estimate"]].round(6).values.tolist()
    [['t', 3.75]]
    """
    check_small_sample(small_sample)
    p = prepare(df, outcome, arm, control, numeric_extra=[baseline])
    D, dn = _dummies(p)
    X = np.hstack([np.ones((len(p.y), 1)), D])
    names = ["(Intercept)", *[f"arm:{a}" for a in dn]]
    change = p.y - p.extra[:, 0]
    fit = ols_hc2(X, change, names)
    return _arm_rows(fit, p, outcome, "change_score", alpha, change, small_sample)


def omnibus(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """HC2 Wald test that every arm's mean equals the control mean.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome : str
        Numeric outcome column.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    alpha : float, default 0.05
        Level at which ``reject`` is decided.

    Returns
    -------
    pandas.DataFrame
        One row:

        * ``outcome``: the outcome analysed
        * ``method``: ``"hc2_wald"``
        * ``statistic``: Wald chi-square statistic ``W``
        * ``df``: ``q``, the number of treatment arms
        * ``p_value``: ``P(chi2(q) > W)``
        * ``f_statistic``: ``W / q``
        * ``df_num``, ``df_denom``: ``q`` and the residual ``n - p``
        * ``f_p_value``: ``P(F(q, n - p) > W / q)``
        * ``n``: participants used
        * ``alpha``: the level given
        * ``reject``: ``p_value < alpha``

    Notes
    -----
    Fits ``y ~ arm`` (dummies, HC2) and tests all arm coefficients b jointly:
    ``W = b' V^-1 b`` against chi-square(q), and ``F = W / q`` against F(q, n - p).
    R: ``lmtest::waldtest(fit, . ~ 1, vcov = sandwich::vcovHC(fit, "HC2"))``.

    References
    ----------
    MacKinnon, J. G., & White, H. (1985). Journal of Econometrics, 29(3), 305-325.
    Zeileis, A., & Hothorn, T. (2002). Diagnostic checking in regression relationships.
    R News, 2(3), 7-10.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2, 3, 4, 6, 8, 2, 3, 5], "arm": ["c"] * 3 + ["t"] * 3 + ["u"] * 3})
    >>> omnibus(d, "y", "arm", "c")[["method", "df", "n", "reject"]].values.tolist()
    [['hc2_wald', 2.0, 9, True]]
    """
    p = prepare(df, outcome, arm, control)
    D, dn = _dummies(p)
    names = ["(Intercept)", *[f"arm:{a}" for a in dn]]
    fit = ols_hc2(np.hstack([np.ones((len(p.y), 1)), D]), p.y, names)
    test = wald_test(fit, names[1:])
    row = {"outcome": outcome, "method": "hc2_wald", **test, "n": len(p.y), "alpha": alpha}
    row["reject"] = bool(test["p_value"] < alpha)
    return pd.DataFrame([row])
