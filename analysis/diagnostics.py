"""Design diagnostics: covariate balance, its joint test, and sample-ratio mismatch.

Public API (each returns a tidy :class:`pandas.DataFrame` with fixed snake_case columns):
``balance`` (covariate means, SDs and standardized differences per arm),
``balance_joint`` (HC2 Wald test that the covariates predict assignment) and
``sample_ratio`` (chi-square test of arm counts against the design weights).
``cronbach_alpha`` is re-exported from :mod:`analysis.reliability`; attrition checks
are in :mod:`analysis.attrition`.

Examples
--------
>>> d = pd.DataFrame({"arm": ["c", "c", "t", "t"], "age": [20, 30, 30, 40]})
>>> balance(d, "arm", "c", ["age"])[["covariate", "mean_control", "mean_arm"]].values.tolist()
[['age', 25.0, 35.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._data import (
    Levels,
    arm_labels,
    check_control,
    covariate_matrix,
    factor,
    is_categorical,
    require_columns,
    treatment_arms,
)
from analysis.hc import RankDeficientError, ols_hc2, wald_test
from analysis.reliability import cronbach_alpha

__all__ = ["balance", "balance_joint", "cronbach_alpha", "sample_ratio"]


def _balance_columns(
    df: pd.DataFrame, covariates: Sequence[str], levels: Levels | None
) -> list[tuple[str, np.ndarray, object, object]]:
    """Numeric covariates as they are; every level of a categorical one as a 0/1 column,
    in the declared level order (reference first), else sorted. Each entry is
    ``(name, values, level, reference level)``; the last two are None if numeric."""
    out = []
    for col in covariates:
        if not is_categorical(df, col, levels):
            values = df[col].to_numpy(dtype="float64", na_value=np.nan)
            out.append((str(col), values, None, None))
            continue
        f = factor(df, col, levels)
        missing = f.codes < 0
        for j, level in enumerate(f.levels):
            d = (f.codes == j).astype("float64")
            d[missing] = np.nan
            out.append((f"{col}={level}", d, level, f.reference))
    return out


def balance(
    df: pd.DataFrame,
    arm: str,
    control: object,
    covariates: Sequence[str],
    *,
    levels: Levels | None = None,
) -> pd.DataFrame:
    """Covariate means, SDs and standardized differences of each arm against control.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    covariates : sequence of str
        Pre-treatment columns to compare (numeric or categorical).
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference); a numeric
        column listed here is categorical.

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm and covariate (per level, for a categorical one):

        * ``covariate``: the column, or ``column=level`` for a level of a categorical one
        * ``arm``: the treatment arm compared with the control
        * ``mean_control``, ``mean_arm``: means (covariate units; the share at the level
          for a categorical row)
        * ``sd_control``, ``sd_arm``: standard deviations with ``n - 1`` (covariate units)
        * ``std_diff``: standardized difference (unitless, see Notes)
        * ``n_control``, ``n_arm``: non-missing values used
        * ``level``, ``reference``: a categorical row's level and its covariate's reference
          level (null for a numeric covariate)

    Notes
    -----
    ``std_diff = (mean_arm - mean_control) / sqrt((sd_arm^2 + sd_control^2) / 2)``, the
    pooled SD of Austin (2009) and R's cobalt; ``|std_diff| > 0.1`` is the usual flag.
    Two constant groups give 0 when their means are equal and NaN otherwise. Levels come
    in the order ``levels[column]`` declares (a value not declared raises ValueError),
    else sorted. Missing covariate values are left out of that covariate's row only.

    References
    ----------
    Austin, P. C. (2009). Balance diagnostics for comparing the distribution of
    baseline covariates between treatment groups. Statistics in Medicine 28, 3083-3107.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c", "c", "t", "t"], "age": [20, 30, 30, 40]})
    >>> b = balance(d, "arm", "c", ["age"])
    >>> b["covariate"].tolist(), b["arm"].tolist(), round(float(b["std_diff"].iloc[0]), 6)
    (['age'], ['t'], 1.414214)
    """
    require_columns(df, [arm, *covariates])
    labels = arm_labels(df, arm)
    control = check_control(labels, arm, control)
    columns = _balance_columns(df, covariates, levels)
    is_c = labels == control
    rows = []
    for a in treatment_arms(labels, control):
        is_t = labels == a
        for name, x, level, reference in columns:
            xc, xt = x[is_c & ~np.isnan(x)], x[is_t & ~np.isnan(x)]
            mc, mt = _mean(xc), _mean(xt)
            sc, st = _sd(xc), _sd(xt)
            pooled = np.sqrt((sc**2 + st**2) / 2.0)
            # Two constant groups: equal means are balanced, unequal ones have no scale.
            std_diff = (mt - mc) / pooled if pooled > 0 else (0.0 if mt == mc else np.nan)
            rows.append(
                {
                    "covariate": name,
                    "arm": a,
                    "mean_control": mc,
                    "mean_arm": mt,
                    "sd_control": sc,
                    "sd_arm": st,
                    "std_diff": float(std_diff),
                    "n_control": int(xc.size),
                    "n_arm": int(xt.size),
                    "level": level,
                    "reference": reference,
                }
            )
    cols = ["covariate", "arm", "mean_control", "mean_arm", "sd_control", "sd_arm"]
    return pd.DataFrame(
        rows, columns=[*cols, "std_diff", "n_control", "n_arm", "level", "reference"]
    )


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else np.nan


def _sd(x: np.ndarray) -> float:
    return float(x.std(ddof=1)) if x.size > 1 else np.nan


def balance_joint(
    df: pd.DataFrame,
    arm: str,
    control: object,
    covariates: Sequence[str],
    *,
    levels: Levels | None = None,
) -> pd.DataFrame:
    """Joint test, per arm, that the covariates do not predict assignment to it.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    covariates : sequence of str
        Pre-treatment columns (at least one; categorical ones are dummy-coded).
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm:

        * ``arm``: the treatment arm tested against the control
        * ``statistic``: HC2 Wald chi-square statistic ``W``
        * ``df``: ``q``, the number of covariate coefficients
        * ``p_value``: ``P(chi2(q) > W)``
        * ``f_statistic``: ``W / q``
        * ``df_num``, ``df_denom``: ``q`` and the residual ``n - k``
        * ``f_p_value``: ``P(F(q, n - k) > W / q)``
        * ``n``: participants of the arm and the control with complete covariates

    Notes
    -----
    On the rows of that arm and the control (complete cases on the covariates), fit
    the linear probability model ``1[arm] ~ 1 + covariates`` by OLS and test that all
    covariate coefficients b are zero: ``W = b' V_HC2^-1 b ~ chi2(q)``, and
    ``F = W / q ~ F(q, n - k)``. Categorical covariates are dummy-coded with the
    reference level dropped, as R's ``model.matrix``; the test does not depend on which
    level is the reference. A small p-value means imbalance beyond chance.

    R equivalent: ``lmtest::waldtest(lm(t ~ x1 + x2, d), vcov = sandwich::vcovHC(fit, type =
    "HC2"), test = "Chisq")`` (and ``test = "F"``).

    References
    ----------
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 4 (randomization checks).
    Norton.
    Zeileis, A., & Hothorn, T. (2002). Diagnostic checking in regression relationships.
    R News, 2(3), 7-10 (``lmtest``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"arm": rng.choice(["c", "t"], 200), "age": rng.normal(40, 10, 200)})
    >>> balance_joint(d, "arm", "c", ["age"])["df"].tolist()
    [1.0]
    """
    require_columns(df, [arm, *covariates])
    labels = arm_labels(df, arm)
    control = check_control(labels, arm, control)
    if not covariates:
        raise ValueError("covariates: expected at least one covariate column for the joint test")
    X_cov, names = covariate_matrix(df, covariates, levels)
    rows = []
    for a in treatment_arms(labels, control):
        keep = ((labels == a) | (labels == control)) & ~np.isnan(X_cov).any(axis=1)
        t = (labels[keep] == a).astype(float)
        X = np.column_stack([np.ones(t.size), X_cov[keep]])
        try:
            fit = ols_hc2(X, t, ["(Intercept)", *names])
            w = wald_test(fit, names)
        except RankDeficientError as err:
            raise ValueError(f"covariates: cannot test balance for arm {a!r}: {err}") from None
        rows.append({"arm": a, **w, "n": int(t.size)})
    return pd.DataFrame(
        rows,
        columns=[
            "arm",
            "statistic",
            "df",
            "p_value",
            "f_statistic",
            "df_num",
            "df_denom",
            "f_p_value",
            "n",
        ],
    )


def sample_ratio(counts: Mapping[str, int], weights: Mapping[str, float]) -> pd.DataFrame:
    """Sample-ratio mismatch: chi-square goodness of fit of arm counts to the design weights.

    Parameters
    ----------
    counts : mapping of str to int
        Participants assigned to each arm (arms missing here count 0).
    weights : mapping of str to float
        The design's positive assignment weight of each arm (at least two arms).

    Returns
    -------
    pandas.DataFrame
        One row per arm of ``weights``:

        * ``arm``: the arm
        * ``observed``: participants assigned to it
        * ``expected``: ``N w_a / sum(w)`` participants
        * ``observed_share``, ``design_share``: observed and designed shares (0 to 1)
        * ``statistic``: Pearson chi-square statistic (same on every row)
        * ``df``: ``arms - 1``
        * ``p_value``: ``P(chi2(df) > statistic)``

    Notes
    -----
    ``X2 = sum_a (O_a - E_a)^2 / E_a`` with ``E_a = N w_a / sum(w)``, on ``arms - 1``
    df. A very small p-value (say < 0.001) means assignment or data loss did not follow
    the design.

    R equivalent: ``chisq.test(x = counts, p = weights / sum(weights))``.

    References
    ----------
    Fabijan, A., Gupchup, J., Gupta, S., Omhover, J., Qin, W., Vermeer, L., & Dmitriev, P.
    (2019). Diagnosing sample ratio mismatch in online controlled experiments: a taxonomy
    and rules of thumb for practitioners. KDD 2019.

    Examples
    --------
    >>> r = sample_ratio({"control": 510, "care": 490}, {"control": 1, "care": 1})
    >>> round(float(r["statistic"].iloc[0]), 3), round(float(r["p_value"].iloc[0]), 4)
    (0.4, 0.5271)
    """
    unknown = sorted(set(counts) - set(weights))
    if unknown:
        raise ValueError(
            f"counts: arm(s) {unknown} have no design weight (weights given for {sorted(weights)})"
        )
    arms = list(weights)
    if len(arms) < 2:
        raise ValueError(f"weights: expected at least 2 arms, got {arms}")
    w = np.array([float(weights[a]) for a in arms])
    if np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights: expected a positive weight for every arm, got {dict(weights)}")
    observed = np.array([int(counts.get(a, 0)) for a in arms], dtype=float)
    if np.any(observed < 0):
        raise ValueError(f"counts: expected non-negative counts, got {dict(counts)}")
    n = observed.sum()
    share = w / w.sum()
    expected = n * share
    statistic = float(np.sum((observed - expected) ** 2 / expected)) if n > 0 else np.nan
    dof = len(arms) - 1
    return pd.DataFrame(
        {
            "arm": arms,
            "observed": observed.astype(int),
            "expected": expected,
            "observed_share": observed / n if n > 0 else np.nan,
            "design_share": share,
            "statistic": statistic,
            "df": float(dof),
            "p_value": float(stats.chi2.sf(statistic, dof)),
        }
    )
