"""Manipulation checks: did each frame (and each factor level) come across as intended?

The plan's ``manipulation_checks`` say, for each check column, which answers count
as perceiving what an arm was meant to convey (``targets``: arm -> answer codes) and,
for factorial designs, which answers count for each level of a factor
(``factor_targets``: factor column -> level -> codes). framelab writes these from the
study file (``options[].value_tag`` and ``options[].correct_for``).

For each frame arm a with target codes T_a, the indicator r_i = 1[answer_i in T_a]
is compared between arm a and (1) the control, (2) every other frame arm pooled:
the difference in proportions p_a - p_b with the HC2 (= Neyman) standard error
sqrt(p_a (1 - p_a) / (n_a - 1) + p_b (1 - p_b) / (n_b - 1)) and Welch–Satterthwaite
degrees of freedom, exactly ``estimatr::difference_in_means(r ~ group)``. A factor
level L is compared the same way with the factorial cells at the factor's other
levels and with the control. The omnibus test is Pearson's chi-square test of
independence of the answer (every option as its own category) and the arm.

Everything is complete-case on the check column, after the plan's exclusions,
unblocked (a check's purpose is descriptive; blocking would change little). The plan's
checks are read by :mod:`analysis.manipulation_section`.

Examples
--------
>>> import pandas as pd
>>> d = pd.DataFrame({"arm": ["c"] * 6 + ["care"] * 6, "check": [2, 1, 2, 3, 2, 3, 1, 1, 1, 2, 1, 3]})
>>> checks = [{"column": "check", "targets": {"care": [1.0]}, "target_labels": {},
...            "factor_targets": {}}]
>>> manipulation_checks(d, "arm", "c", checks)[["arm", "comparison", "share", "estimate"]].round(3)
    arm comparison  share  estimate
0  care    control  0.667       0.5
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._data import arm_labels, numeric_column, present_labels
from analysis.hc import t_summary

__all__ = ["CHECK_COLUMNS", "manipulation_checks", "manipulation_omnibus", "proportion_difference"]

CHECK_COLUMNS = [
    "check",
    "kind",
    "arm",
    "factor",
    "level",
    "target",
    "comparison",
    "share",
    "share_comparison",
    "estimate",
    "std_error",
    "statistic",
    "df",
    "p_value",
    "conf_low",
    "conf_high",
    "n",
    "n_comparison",
    "recognised",
]


def proportion_difference(
    hit_a: np.ndarray, hit_b: np.ndarray, alpha: float = 0.05
) -> dict[str, float]:
    """Difference in proportions p_a - p_b, HC2 standard error, Welch df.

    Parameters
    ----------
    hit_a, hit_b : arrays of 0/1
        The indicator in each group (complete cases).
    alpha : float
        1 - confidence level of the interval.

    Returns
    -------
    dict
        share, share_comparison, estimate, std_error, statistic, df, p_value,
        conf_low, conf_high, n, n_comparison.

    Notes
    -----
    With s_g^2 = n_g p_g (1 - p_g) / (n_g - 1) the HC2 variance of the difference is
    s_a^2 / n_a + s_b^2 / n_b and the df are Welch–Satterthwaite's, as
    ``estimatr::difference_in_means`` (Gerber & Green 2012, eq. 3.6).

    References
    ----------
    Gerber, A. S. & Green, D. P. (2012). Field Experiments, eq. 3.6.
    Blair, G. et al. estimatr (R package), ``difference_in_means``.

    Examples
    --------
    >>> r = proportion_difference(np.array([1, 1, 0, 1]), np.array([0, 1, 0, 0]))
    >>> round(r["estimate"], 2), round(r["std_error"], 3)
    (0.5, 0.354)
    """
    a = np.asarray(hit_a, dtype=float)
    b = np.asarray(hit_b, dtype=float)
    n_a, n_b = len(a), len(b)
    p_a = float(a.mean()) if n_a else np.nan
    p_b = float(b.mean()) if n_b else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        v_a = a.var(ddof=1) / n_a if n_a > 1 else np.nan
        v_b = b.var(ddof=1) / n_b if n_b > 1 else np.nan
        se = float(np.sqrt(v_a + v_b))
        df = float((v_a + v_b) ** 2 / (v_a**2 / (n_a - 1) + v_b**2 / (n_b - 1)))
    est = p_a - p_b
    if not (np.isfinite(se) and se > 0):
        se, df = (se if np.isfinite(se) else np.nan), np.nan
        s = {"statistic": np.nan, "p_value": np.nan, "conf_low": np.nan, "conf_high": np.nan}
    else:
        s = {k: float(v) for k, v in t_summary(est, se, df, alpha).items()}
    return {
        "share": p_a,
        "share_comparison": p_b,
        "estimate": est,
        "std_error": se,
        "statistic": s["statistic"],
        "df": df,
        "p_value": s["p_value"],
        "conf_low": s["conf_low"],
        "conf_high": s["conf_high"],
        "n": n_a,
        "n_comparison": n_b,
    }


def _row(check: str, kind: str, target: str, comparison: str, r: dict, **where: Any) -> dict:
    low = r["conf_low"]
    return {
        "check": check,
        "kind": kind,
        "arm": where.get("arm"),
        "factor": where.get("factor"),
        "level": where.get("level"),
        "target": target,
        "comparison": comparison,
        **r,
        # recognised: more often than the comparison, beyond the interval's reach of 0
        "recognised": bool(np.isfinite(low) and low > 0),
    }


def manipulation_checks(
    df: pd.DataFrame,
    arm: str,
    control: str,
    checks: Sequence[Mapping[str, Any]],
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Share perceiving each arm's (and factor level's) intended meaning vs comparisons.

    Parameters
    ----------
    df : DataFrame
        One row per participant (after exclusions).
    arm, control : str
        Arm column and control label.
    checks : list of mappings
        As returned by :func:`load_checks`.
    alpha : float
        1 - confidence level.

    Returns
    -------
    DataFrame
        Columns ``CHECK_COLUMNS``: per frame arm two rows (comparison ``control`` and
        ``other_frames``), per factor level two rows (``other_levels`` and
        ``control``). ``check`` the column, ``kind`` (``frame`` or ``factor``),
        ``arm`` / ``factor`` / ``level`` what is compared, ``target`` its label;
        ``share`` the arm's (level's) share choosing a target answer and
        ``share_comparison`` the comparison group's share choosing the same answers
        (proportions, 0 to 1); ``estimate`` their difference with ``std_error``,
        ``statistic`` (t), ``df``, ``p_value``, ``conf_low``, ``conf_high`` (proportion
        points); ``n``, ``n_comparison`` (participants); ``recognised`` whether the
        interval lies above 0.

    Notes
    -----
    Each comparison is :func:`proportion_difference` of r_i = 1[answer_i in T]:
    p_a - p_b with SE sqrt(p_a (1 - p_a) / (n_a - 1) + p_b (1 - p_b) / (n_b - 1)).

    References
    ----------
    Hauser, D. J., Ellsworth, P. C. & Gonzalez, R. (2018). Are manipulation checks
    necessary? Frontiers in Psychology 9, 998.
    Gerber, A. & Green, D. (2012). Field Experiments, ch. 3.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"arm": ["c", "t"] * 4, "check": [0, 1, 0, 1, 1, 1, 0, 0]})
    >>> checks = [{"column": "check", "targets": {"t": [1]}, "target_labels": {"t": "care"},
    ...            "factor_targets": {}}]
    >>> r = manipulation_checks(d, "arm", "c", checks).iloc[0]
    >>> r["target"], float(r["share"]), float(r["share_comparison"]), float(r["estimate"])
    ('care', 0.75, 0.25, 0.5)
    """
    labels_all = arm_labels(df, arm)
    rows = []
    for check in checks:
        column = check["column"]
        answer = numeric_column(df, column, "manipulation check")
        ok = ~np.isnan(answer) & pd.notna(labels_all)
        labels = labels_all[ok]
        ans = answer[ok]
        present = set(present_labels(labels))
        frames = [a for a in check["targets"] if a != control and a in present]
        for a in frames:
            hit = np.isin(ans, check["targets"][a]).astype(float)
            target = str(check["target_labels"].get(a, a))
            in_arm = labels == a
            if control in present:
                r = proportion_difference(hit[in_arm], hit[labels == control], alpha)
                rows.append(_row(column, "frame", target, "control", r, arm=a))
            others = np.isin(labels, [f for f in present if f not in (a, control)])
            if others.any():
                r = proportion_difference(hit[in_arm], hit[others], alpha)
                rows.append(_row(column, "frame", target, "other_frames", r, arm=a))
        for factor, levels in check["factor_targets"].items():
            if factor not in df.columns:
                raise ValueError(
                    f"manipulation_checks: factor column {factor!r} is not in the data"
                )
            level_of = df[factor].astype("object").where(df[factor].notna(), None).to_numpy()
            level_of = np.array([None if v is None else str(v) for v in level_of[ok]], object)
            for level, codes in levels.items():
                hit = np.isin(ans, codes).astype(float)
                at = level_of == level
                other = np.array([v is not None and v != level for v in level_of])
                if not at.any():
                    continue
                where = {"factor": factor, "level": level}
                if other.any():
                    r = proportion_difference(hit[at], hit[other], alpha)
                    rows.append(_row(column, "factor", level, "other_levels", r, **where))
                if control in present:
                    r = proportion_difference(hit[at], hit[labels == control], alpha)
                    rows.append(_row(column, "factor", level, "control", r, **where))
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def manipulation_omnibus(
    df: pd.DataFrame, arm: str, checks: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """Pearson chi-square test that the answer distribution is the same in every arm.

    Parameters
    ----------
    df : DataFrame
        One row per participant (after exclusions).
    arm : str
        Arm column.
    checks : list of mappings
        As returned by :func:`analysis.manipulation_section.load_checks`.

    Returns
    -------
    DataFrame
        One row per check with two arms and two answers at least: ``check``,
        ``method`` (``pearson_chi_square``), ``statistic`` (X^2), ``df``, ``p_value``,
        ``n`` (participants), ``arms``, ``answers`` (categories), ``min_expected``
        (the smallest E_ij; below 5 the chi-square approximation is rough).

    Notes
    -----
    X^2 = sum_ij (O_ij - E_ij)^2 / E_ij over arms i and answers j, E_ij = O_i. O_.j / N,
    df = (I - 1)(J - 1). Answers nobody chose are dropped.

    References
    ----------
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., section 3.2.
    R ``chisq.test(table(arm, answer), correct = FALSE)``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"arm": ["c"] * 6 + ["t"] * 6, "check": [2, 1, 2, 3, 2, 3, 1, 1, 1, 2, 1, 3]})
    >>> r = manipulation_omnibus(d, "arm", [{"column": "check"}]).iloc[0]
    >>> round(float(r["statistic"]), 3), int(r["df"]), round(float(r["p_value"]), 3)
    (3.133, 2, 0.209)
    """
    rows = []
    labels = arm_labels(df, arm)
    for check in checks:
        answer = numeric_column(df, check["column"], "manipulation check")
        ok = ~np.isnan(answer) & pd.notna(labels)
        table = pd.crosstab(labels[ok], answer[ok]).to_numpy(dtype=float)
        if table.shape[0] < 2 or table.shape[1] < 2:
            continue
        expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
        stat = float(((table - expected) ** 2 / expected).sum())
        dof = (table.shape[0] - 1) * (table.shape[1] - 1)
        rows.append(
            {
                "check": check["column"],
                "method": "pearson_chi_square",
                "statistic": stat,
                "df": dof,
                "p_value": float(stats.chi2.sf(stat, dof)),
                "n": int(table.sum()),
                "arms": int(table.shape[0]),
                "answers": int(table.shape[1]),
                "min_expected": float(expected.min()),
            }
        )
    return pd.DataFrame(rows)
