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
unblocked (a check's purpose is descriptive; blocking would change little).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._data import arm_labels, numeric_column, present_labels
from analysis.hc import t_summary

__all__ = [
    "CHECK_COLUMNS",
    "load_checks",
    "manipulation_checks",
    "manipulation_omnibus",
    "proportion_difference",
]

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


def load_checks(raw: Any) -> list[dict[str, Any]]:
    """Validate the plan's ``manipulation_checks`` list (ValueError naming the place)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("manipulation_checks: expected a list of {column, targets}")
    out = []
    for i, check in enumerate(raw):
        where = f"manipulation_checks[{i}]"
        if not isinstance(check, Mapping) or not isinstance(check.get("column"), str):
            raise ValueError(f"{where}: expected a mapping with a 'column' (the check's column)")
        targets = check.get("targets") or {}
        factor_targets = check.get("factor_targets") or {}
        if not isinstance(targets, Mapping) or not all(
            isinstance(v, list) and all(_is_code(c) for c in v) for v in targets.values()
        ):
            raise ValueError(f"{where}.targets: expected a mapping arm -> list of answer codes")
        if not isinstance(factor_targets, Mapping) or not all(
            isinstance(levels, Mapping)
            and all(isinstance(v, list) and all(_is_code(c) for c in v) for v in levels.values())
            for levels in factor_targets.values()
        ):
            raise ValueError(
                f"{where}.factor_targets: expected a mapping factor column -> level -> codes"
            )
        out.append(
            {
                "column": check["column"],
                "label": check.get("label"),
                "targets": {str(a): [float(c) for c in v] for a, v in targets.items()},
                "target_labels": dict(check.get("target_labels") or {}),
                "factor_targets": {
                    str(f): {str(level): [float(c) for c in v] for level, v in levels.items()}
                    for f, levels in factor_targets.items()
                },
            }
        )
    return out


def _is_code(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
        ``control``). ``share`` is the arm's (level's) share choosing a target answer,
        ``share_comparison`` the comparison group's share choosing the same answers.

    References
    ----------
    Hauser, D. J., Ellsworth, P. C. & Gonzalez, R. (2018). Are manipulation checks
    necessary? Frontiers in Psychology 9, 998.
    Gerber, A. & Green, D. (2012). Field Experiments, ch. 3.
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

    X^2 = sum_ij (O_ij - E_ij)^2 / E_ij over arms i and answers j, E_ij = O_i. O_.j / N,
    df = (I - 1)(J - 1); as R's ``chisq.test(table(arm, answer), correct = FALSE)``
    (Agresti 2013, Categorical Data Analysis, 3.2). Answers nobody chose are dropped.
    ``min_expected`` is the smallest E_ij (below 5 the chi-square approximation is rough).
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


def manipulation_sections(
    data: pd.DataFrame, plan: Any, warn: Callable[..., None]
) -> dict[str, list]:
    """``manipulation_checks`` and ``manipulation_omnibus`` records for ``run`` ({} without)."""
    from analysis import summaries

    out: dict[str, list] = {"manipulation_checks": [], "manipulation_omnibus": []}
    checks = load_checks(plan.raw.get("manipulation_checks"))
    if not checks:  # the keys appear only when the plan has checks
        return {}
    for check in checks:
        # labels may be a text per language: the plan's language in the results
        check["target_labels"] = {a: plan.text(v, a) for a, v in check["target_labels"].items()}
        if check["column"] not in data.columns:
            raise ValueError(f"manipulation_checks: column {check['column']!r} is not in the data")
    try:
        out["manipulation_checks"] = summaries.records(
            manipulation_checks(data, plan.arm, plan.control, checks, alpha=plan.alpha)
        )
        out["manipulation_omnibus"] = summaries.records(
            manipulation_omnibus(data, plan.arm, checks)
        )
    except (ArithmeticError, np.linalg.LinAlgError) as exc:
        warn(
            "section_failed", f"manipulation checks not computed: {exc}", None, None, "manipulation"
        )
    return out
