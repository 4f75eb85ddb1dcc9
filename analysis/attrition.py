"""Attrition: who was assigned, who completed, and whether leaving differs by arm.

Status values (the tidy export's ``status`` column): ``started`` (not yet
assigned), ``screened_out`` (never assigned), ``assigned`` (has an arm, has not
finished), ``completed``, ``withdrawn`` (has an arm, left or withdrew consent).
A participant counts as *assigned* when the arm column is filled, and as
*attrited* when assigned but not completed.

Examples
--------
>>> d = pd.DataFrame({"arm": ["c", "c", "t", "t"],
...                   "status": ["completed", "withdrawn", "completed", "completed"]})
>>> attrition(d, "arm", "status")[["arm", "attrited"]].values.tolist()
[['c', 1], ['t', 0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis._data import arm_labels, check_control, require_columns, treatment_arms
from analysis.hc import ols_hc2, t_summary, wald_test

__all__ = ["attrition", "attrition_test"]

STATUSES = ("started", "screened_out", "assigned", "completed", "withdrawn")


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

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant (everyone who started, not only the analysed).
    arm : str
        Column holding each participant's arm label (empty when not assigned).
    status : str
        Column holding each participant's status (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per arm, sorted:

        * ``arm``: the arm
        * ``assigned``: participants with that arm
        * ``completed``: of them, status ``completed``
        * ``withdrawn``: of them, status ``withdrawn``
        * ``attrited``: ``assigned - completed``
        * ``attrition_rate``: ``attrited / assigned`` (a share, 0 to 1)

    Notes
    -----
    ``attrited = assigned - completed`` counts the withdrawn plus those still at status
    ``assigned`` (who left mid-survey); ``attrition_rate = attrited / assigned``. Rows
    without an arm (``started``, ``screened_out``) are in no arm. An unknown or missing
    status raises ValueError.

    References
    ----------
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 7 (attrition). Norton.

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

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    arm : str
        Column holding each participant's arm label (empty when not assigned).
    status : str
        Column holding each participant's status.
    control : object, optional
        The control arm's label; without it only the two joint tests are returned.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        Rows ``chi_square`` and ``wald_hc2``, then (with ``control``) one
        ``difference_in_rates`` row per treatment arm:

        * ``test``: which test the row holds
        * ``arm``: the treatment arm (``difference_in_rates`` rows only)
        * ``estimate``: the arm's attrition rate minus the control's (a difference of shares)
        * ``std_error``: its HC2 standard error
        * ``statistic``: chi-square (joint rows) or t statistic
        * ``df``: ``arms - 1`` (joint rows) or ``n - arms``
        * ``p_value``: p-value of the test
        * ``conf_low``, ``conf_high``: ``1 - alpha`` interval of the difference in rates

    Notes
    -----
    - ``chi_square``: Pearson chi-square test of independence of arm and
      attrited/completed, ``(arms - 1)`` df, *without* Yates' continuity correction
      (R: ``chisq.test(table(arm, attrited), correct = FALSE)``).
    - ``wald_hc2``: HC2 Wald chi-square test that all arm coefficients are zero in the
      linear probability model ``attrited ~ 1 + arm dummies`` (R:
      ``lmtest::waldtest(fit, vcov = vcovHC(fit, type = "HC2"), test = "Chisq")``).
    - ``difference_in_rates``: the coefficient of the arm's dummy in that model, with
      HC2 standard error and t statistic on ``n - arms`` df (R:
      ``estimatr::lm_robust(attrited ~ arm)``).

    Joint rows leave ``arm``, ``estimate``, ``std_error`` and the interval empty. When
    nobody (or everybody) attrited the tests are undefined and their statistics NaN.

    References
    ----------
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 7 (attrition). Norton.
    MacKinnon, J. G., & White, H. (1985). Journal of Econometrics, 29(3), 305-325 (HC2).

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
