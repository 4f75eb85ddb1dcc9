"""Design diagnostics: covariate balance, sample-ratio mismatch, attrition, scale reliability.

Public API (each returns a tidy :class:`pandas.DataFrame` with fixed snake_case columns)
---------------------------------------------------------------------------------------
``balance(df, arm, control, covariates, *, levels=None)``
    covariate, arm, mean_control, mean_arm, sd_control, sd_arm, std_diff, n_control, n_arm,
    level, reference
``balance_joint(df, arm, control, covariates, *, levels=None)``
    arm, statistic, df, p_value, f_statistic, df_num, df_denom, f_p_value, n
``sample_ratio(counts, weights)``
    arm, observed, expected, observed_share, design_share, statistic, df, p_value
``attrition(df, arm, status)``
    arm, assigned, completed, withdrawn, attrited, attrition_rate
``attrition_test(df, arm, status, control=None, *, alpha=0.05)``
    test, arm, estimate, std_error, statistic, df, p_value, conf_low, conf_high
``cronbach_alpha(df, items, *, alpha=0.05)`` (defined in :mod:`analysis.reliability`)
    n, n_items, alpha, std_alpha, conf_low, conf_high

Status values (the tidy export's ``status`` column): ``started`` (not yet
assigned), ``screened_out`` (never assigned), ``assigned`` (has an arm, has not
finished), ``completed``, ``withdrawn`` (has an arm, left or withdrew consent).
A participant counts as *assigned* when the arm column is filled, and as
*attrited* when assigned but not completed.
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
from analysis.hc import RankDeficientError, ols_hc2, t_summary, wald_test
from analysis.reliability import cronbach_alpha

__all__ = [
    "attrition",
    "attrition_test",
    "balance",
    "balance_joint",
    "cronbach_alpha",
    "sample_ratio",
]

STATUSES = ("started", "screened_out", "assigned", "completed", "withdrawn")


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

    ``std_diff = (mean_arm - mean_control) / sqrt((sd_arm^2 + sd_control^2) / 2)``
    (the pooled SD of Austin 2009 and R's cobalt; ``|std_diff| > 0.1`` is the usual
    flag). SDs use ``n - 1``. A categorical covariate (text or categorical dtype)
    gets one row per level, named ``column=level``, whose mean is the share of the
    arm at that level. Levels come in the order ``levels[column]`` declares (the
    reference level first; a numeric column with declared levels is categorical and
    a value not declared raises ValueError), else sorted. Missing covariate values
    are left out of that covariate's row only (``n_control``/``n_arm`` count the
    non-missing values). ``level`` and ``reference`` give a categorical row's level
    and its covariate's reference level (both null for a numeric covariate).

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

    On the rows of that arm and the control (complete cases on the covariates),
    fit the linear probability model ``1[arm] ~ 1 + covariates`` by OLS and test
    that all covariate coefficients are zero with an HC2 Wald test:
    ``W = b' V_HC2^-1 b ~ chi2(q)``, and ``F = W / q ~ F(q, n - k)``.
    Categorical covariates are dummy-coded with the reference level dropped (the
    first declared in ``levels[column]``, else the first sorted), as R's
    ``model.matrix``; the test does not depend on which level is the reference.
    A small p-value means imbalance beyond chance.

    R equivalent: ``lmtest::waldtest(lm(t ~ x1 + x2, d), vcov = sandwich::vcovHC(fit, type =
    "HC2"), test = "Chisq")`` (and ``test = "F"``).

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

    ``X2 = sum_a (O_a - E_a)^2 / E_a`` with ``E_a = N w_a / sum(w)``, on
    ``arms - 1`` df. A very small p-value (say < 0.001) means assignment or
    data loss did not follow the design. The test columns (``statistic, df,
    p_value``) repeat on every row; arms missing from ``counts`` count 0.

    R equivalent: ``chisq.test(x = counts, p = weights / sum(weights))``.

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


def _status(df: pd.DataFrame, status: str) -> np.ndarray:
    values = df[status].astype("string").to_numpy(dtype=object, na_value=None)
    bad = sorted({v for v in values if v not in STATUSES and v is not None})
    if bad or any(v is None for v in values):
        shown = bad[0] if bad else None
        raise ValueError(
            f"status column {status!r}: expected one of {', '.join(STATUSES)}, found {shown!r}"
        )
    return values


def attrition(df: pd.DataFrame, arm: str, status: str) -> pd.DataFrame:
    """Assigned, completed, withdrawn and attrited participants per arm.

    ``assigned`` = rows with an arm; ``completed`` = status ``completed``;
    ``withdrawn`` = status ``withdrawn``; ``attrited = assigned - completed``
    (withdrawn plus those still at status ``assigned``, i.e. who left mid-survey);
    ``attrition_rate = attrited / assigned``. Rows without an arm (``started``,
    ``screened_out``) are not in any arm.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c", "c", "t", None],
    ...                   "status": ["completed", "withdrawn", "completed", "started"]})
    >>> attrition(d, "arm", "status")["attrition_rate"].tolist()
    [0.5, 0.0]
    """
    require_columns(df, [arm, status])
    st = _status(df, status)
    labels = arm_labels(df, arm)
    rows = []
    for a in sorted({x for x in labels if x is not None}):
        s = st[labels == a]
        completed = int(np.sum(s == "completed"))
        rows.append(
            {
                "arm": a,
                "assigned": int(s.size),
                "completed": completed,
                "withdrawn": int(np.sum(s == "withdrawn")),
                "attrited": int(s.size - completed),
                "attrition_rate": (s.size - completed) / s.size,
            }
        )
    return pd.DataFrame(
        rows, columns=["arm", "assigned", "completed", "withdrawn", "attrited", "attrition_rate"]
    )


def attrition_test(
    df: pd.DataFrame,
    arm: str,
    status: str,
    control: object | None = None,
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Tests of differential attrition across arms (assigned participants only).

    Rows (column ``test``):

    - ``chi_square``: Pearson chi-square test of independence of arm and
      attrited/completed, ``(arms - 1)`` df, *without* Yates' continuity
      correction (R: ``chisq.test(table(arm, attrited), correct = FALSE)``).
    - ``wald_hc2``: HC2 Wald chi-square test that all arm coefficients are zero
      in the linear probability model ``attrited ~ 1 + arm dummies`` (R:
      ``lmtest::waldtest(fit, vcov = vcovHC(fit, type = "HC2"), test = "Chisq")``).
    - ``difference_in_rates`` (one row per arm): the arm's attrition rate minus the
      control's, the coefficient of that arm's dummy, with HC2 standard error,
      t statistic on ``n - arms`` df and a ``1 - alpha`` interval (R:
      ``estimatr::lm_robust(attrited ~ arm)``).

    Joint rows leave ``arm``, ``estimate``, ``std_error`` and the interval empty.
    Without ``control`` only the two joint tests are returned (they do not depend
    on which arm is the reference).
    When nobody (or everybody) attrited the tests are undefined and their
    statistics are NaN.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c"] * 4 + ["t"] * 4,
    ...                   "status": ["completed"] * 3 + ["withdrawn"] + ["completed"] * 2 + ["assigned"] * 2})
    >>> attrition_test(d, "arm", "status", "c")["test"].tolist()
    ['chi_square', 'wald_hc2', 'difference_in_rates']
    """
    require_columns(df, [arm, status])
    st = _status(df, status)
    labels = arm_labels(df, arm)
    joint_only = control is None
    if joint_only:
        present = sorted({x for x in labels if x is not None})
        if not present:
            raise ValueError(f"arm column {arm!r}: expected assigned participants, found none")
        control = present[0]
    control = check_control(labels, arm, control)
    keep = np.array([x is not None for x in labels], dtype=bool)
    labels, attrited = labels[keep], (st[keep] != "completed").astype(float)
    arms = treatment_arms(labels, control)
    if not arms:
        raise ValueError(
            f"arm column {arm!r}: expected at least two arms with assigned participants"
        )
    order = [control, *arms]
    table = np.array([[np.sum((labels == a) & (attrited == v)) for v in (0.0, 1.0)] for a in order])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.sum((table - expected) ** 2 / expected))
    dof = float(len(arms))
    rows = [
        {"test": "chi_square", "statistic": chi2, "df": dof, "p_value": stats.chi2.sf(chi2, dof)}
    ]
    defined = 0.0 < attrited.mean() < 1.0
    if defined:
        D = np.column_stack([np.ones(labels.size), *[(labels == a).astype(float) for a in arms]])
        fit = ols_hc2(D, attrited, ["(Intercept)", *arms])
        w = wald_test(fit, arms)
        rows.append({"test": "wald_hc2", **{k: w[k] for k in ("statistic", "df", "p_value")}})
    else:
        rows.append({"test": "wald_hc2", "statistic": np.nan, "df": dof, "p_value": np.nan})
    for j, a in enumerate(arms, start=1):
        row = {"test": "difference_in_rates", "arm": a}
        if defined:
            s = t_summary(fit.coef[j], fit.std_error[j], fit.df_resid, alpha)
            row.update({"estimate": fit.coef[j], "std_error": fit.std_error[j], "df": fit.df_resid})
            row.update({k: float(s[k]) for k in ("statistic", "p_value", "conf_low", "conf_high")})
        else:
            row["estimate"] = attrited[labels == a].mean() - attrited[labels == control].mean()
        rows.append(row)
    columns = ["test", "arm", "estimate", "std_error", "statistic", "df", "p_value"]
    out = pd.DataFrame(
        rows[:2] if joint_only else rows, columns=[*columns, "conf_low", "conf_high"]
    )
    return out.astype({c: float for c in columns[2:]})
