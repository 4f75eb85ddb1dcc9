"""Average treatment effect estimators that match R's estimatr.

Each function compares every treatment arm with the control arm and returns a
tidy DataFrame, one row per arm, with estimatr's columns ``outcome, arm, method,
estimate, std_error, statistic, df, p_value, conf_low, conf_high, n_control,
n_treatment``. Rows with a missing value in any column the estimator uses are
dropped (complete cases per analysis).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._data import Levels, Prepared, effects_frame, prepare
from analysis.guards import check_effects
from analysis.hc import OLSFit, check_small_sample, hc2_inference, ols_hc2, t_summary, wald_test

__all__ = ["ancova", "change_score", "difference_in_means", "lin", "omnibus"]


def _row(
    outcome: str,
    arm: str,
    method: str,
    est: float,
    se: float,
    df: float,
    alpha: float,
    n_c: int,
    n_t: int,
) -> dict:
    s = t_summary(est, se, df, alpha)
    return {
        "outcome": outcome,
        "arm": arm,
        "method": method,
        "estimate": float(est),
        "std_error": float(se),
        "statistic": float(s["statistic"]),
        "df": float(df),
        "p_value": float(s["p_value"]),
        "conf_low": float(s["conf_low"]),
        "conf_high": float(s["conf_high"]),
        "n_control": int(n_c),
        "n_treatment": int(n_t),
    }


def _welch(y_t: np.ndarray, y_c: np.ndarray) -> tuple[float, float, float]:
    n_t, n_c = len(y_t), len(y_c)
    v_t, v_c = y_t.var(ddof=1) / n_t, y_c.var(ddof=1) / n_c
    se = np.sqrt(v_t + v_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = se**4 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
    return float(y_t.mean() - y_c.mean()), float(se), float(df)


def _blocked(
    y: np.ndarray,
    treated: np.ndarray,
    blocks: np.ndarray,
    names: np.ndarray,
    arm: str,
    block_col: str,
) -> tuple[float, float, float, str]:
    """estimatr's blocked difference in means (and its matched-pair variant)."""
    codes, block_id = np.unique(blocks, return_inverse=True)
    J = len(codes)
    n_j = np.bincount(block_id, minlength=J).astype(float)
    n_tj = np.bincount(block_id, weights=treated, minlength=J)
    n_cj = n_j - n_tj
    if np.any(n_j == 1):
        raise ValueError(
            f"blocks {block_col!r}: every block needs at least two units (arm {arm!r})"
        )
    if np.any(n_tj == 0) or np.any(n_cj == 0):
        bad = names[codes[(n_tj == 0) | (n_cj == 0)][0]]
        raise ValueError(
            f"blocks {block_col!r}: block {bad!r} lacks units in arm {arm!r} or the control; "
            "each block needs both conditions"
        )
    # estimatr uses the matched-pair variance when any block has exactly two units.
    pair_matched = bool(np.any(n_j == 2))
    if not pair_matched and (np.any(n_tj == 1) or np.any(n_cj == 1)):
        raise ValueError(
            f"blocks {block_col!r}: a block has a single unit in arm {arm!r} or the control; "
            "the blocked estimator needs at least two of each (or a matched-pair design)"
        )
    t = treated.astype(float)
    c = 1.0 - t
    sum_t = np.bincount(block_id, weights=y * t, minlength=J)
    sum_c = np.bincount(block_id, weights=y * c, minlength=J)
    mean_t, mean_c = sum_t / n_tj, sum_c / n_cj
    diff_j = mean_t - mean_c
    w = n_j / n_j.sum()
    est = float(np.sum(w * diff_j))
    if pair_matched:
        se = float(np.sqrt(np.sum((diff_j - est) ** 2) / (J * (J - 1))))
        return est, se, float(J - 1), "matched_pair"
    ss_t = np.bincount(block_id, weights=t * (y - mean_t[block_id]) ** 2, minlength=J)
    ss_c = np.bincount(block_id, weights=c * (y - mean_c[block_id]) ** 2, minlength=J)
    var_j = ss_t / (n_tj - 1) / n_tj + ss_c / (n_cj - 1) / n_cj
    se = float(np.sqrt(np.sum(w**2 * var_j)))
    return est, se, float(n_j.sum() - 2 * J), "blocked"


def difference_in_means(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    blocks: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Difference in means of each arm versus control, as estimatr computes it.

    Unblocked: ``mean_t - mean_c`` with the Neyman/Welch standard error
    ``sqrt(s_t^2/n_t + s_c^2/n_c)`` (identical to HC2 OLS on a treatment dummy)
    and Welch-Satterthwaite degrees of freedom. With ``blocks``: the
    block-size-weighted average of within-block differences, variance
    ``sum_j (n_j/N)^2 (s_tj^2/n_tj + s_cj^2/n_cj)`` and ``df = N - 2J``; when some
    block has only two units the matched-pair variance
    ``sum_j (d_j - d)^2 / (J (J - 1))`` with ``df = J - 1`` is used instead.

    ``design`` says which applied: ``standard``, ``blocked`` or ``matched_pair``.
    Each arm is compared with control on the rows of those two arms only, like
    ``estimatr::difference_in_means(y ~ arm, condition1 = control, condition2 = arm)``.

    References
    ----------
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 3-4. Norton.
    estimatr: "Mathematical notes" vignette, difference_in_means.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1, 2, 3, 4, 6, 8], "arm": ["c"] * 3 + ["t"] * 3})
    >>> float(difference_in_means(d, "y", "arm", "c")["estimate"].iloc[0])
    4.0
    """
    p = prepare(df, outcome, arm, control, blocks=blocks)
    rows = []
    for j, a in enumerate(p.arms, start=1):
        in_pair = (p.codes == j) | (p.codes == 0)
        y = p.y[in_pair]
        treated = p.codes[in_pair] == j
        n_t, n_c = int(treated.sum()), int((~treated).sum())
        if n_t < 2 or n_c < 2:
            raise ValueError(
                f"outcome {outcome!r}: arm {a!r} has {n_t} and control {n_c} participants; "
                "the difference in means needs at least 2 in each"
            )
        if blocks:
            est, se, dof, design = _blocked(y, treated, p.blocks[in_pair], p.block_names, a, blocks)
        else:
            (est, se, dof), design = _welch(y[treated], y[~treated]), "standard"
        row = _row(outcome, a, "difference_in_means", est, se, dof, alpha, n_c, n_t)
        rows.append({**row, "design": design})
    sd = float(np.std(p.y, ddof=1))
    return check_effects(
        effects_frame(rows), outcome=outcome, method="difference_in_means", outcome_sd=sd
    )


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

    Fits ``y = a + sum_k tau_k D_k + X_c b + sum_k D_k X_c g_k`` where ``D_k`` are
    dummies for the treatment arms and ``X_c`` the covariates centred at their
    full-sample means (text covariates, and those whose ``levels`` are declared,
    dummy-coded with the reference level dropped: the first declared, else the first
    sorted; the arm effects do not depend on that choice),
    with HC2 standard errors. ``tau_k`` is the effect of arm *k*; this is
    ``estimatr::lm_lin(y ~ arm, covariates = ~ x1 + x2)`` with the control as the
    reference level. All arms are fitted in one model.

    Degrees of freedom (``small_sample``): ``"bell_mccaffrey"`` (default) uses
    :func:`analysis.hc.bell_mccaffrey_df`, as ``clubSandwich::coef_test(vcov =
    "CR2", test = "Satterthwaite")`` with each participant its own cluster;
    ``"residual"`` uses ``n - p`` as estimatr does. Both are in every row (the
    residual-df figures in the ``*_residual`` columns).

    References
    ----------
    Lin, W. (2013). Agnostic notes on regression adjustments to experimental data:
    Reexamining Freedman's critique. Annals of Applied Statistics, 7(1), 295-318.
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

    ``lm_robust(y ~ arm + baseline [+ covariates], se_type = "HC2")``; the arm
    coefficients are the effects. Text covariates are dummy-coded as in :func:`lin`
    (``levels`` gives declared level orders); ``small_sample`` as in :func:`lin`
    (Bell-McCaffrey df by default, ``"residual"`` for estimatr's ``n - p``).
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

    ``lm_robust(I(y - baseline) ~ arm, se_type = "HC2")``; ``small_sample`` as in
    :func:`lin` (Bell-McCaffrey df by default, ``"residual"`` for ``n - p``).
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

    Fits ``y ~ arm`` (dummies, HC2) and tests all arm coefficients jointly:
    ``W = b' V^-1 b`` against chi-square(q), and ``F = W / q`` against
    F(q, n - p) -- ``lmtest::waldtest(fit, . ~ 1, vcov = vcovHC(fit, "HC2"))``.

    Returns one row: ``outcome, method, statistic, df, p_value, f_statistic,
    df_num, df_denom, f_p_value, n, alpha, reject``.
    """
    p = prepare(df, outcome, arm, control)
    D, dn = _dummies(p)
    names = ["(Intercept)", *[f"arm:{a}" for a in dn]]
    fit = ols_hc2(np.hstack([np.ones((len(p.y), 1)), D]), p.y, names)
    test = wald_test(fit, names[1:])
    row = {"outcome": outcome, "method": "hc2_wald", **test, "n": len(p.y), "alpha": alpha}
    row["reject"] = bool(test["p_value"] < alpha)
    return pd.DataFrame([row])
