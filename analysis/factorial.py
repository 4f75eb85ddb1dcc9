"""Factorial designs: main effects, interactions and each cell vs control.

A factorial plan names its factor columns and their levels in order (``factors:
{factor_value: [care, loyalty], factor_messenger: [refugee, neighbour]}``; the first
level is the reference) and whether main effects compare with the control
(``control_in_main_effects``); the control arm has no factor levels. ``run`` gets its
``factorial`` sections from ``factorial_sections``.

Examples
--------
>>> load_factors({"factors": {"A": ["a1", "a2"], "B": [1, 2]}})
{'A': ['a1', 'a2'], 'B': ['1', '2']}
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis._data import arm_labels, numeric_column
from analysis.hc import t_summary
from analysis.small_sample import check_small_sample

__all__ = ["CELL_COLUMNS", "FACTORIAL_COLUMNS", "factorial_effects", "load_factors"]

FACTORIAL_COLUMNS = [
    "outcome", "term", "factor", "level", "factor_2", "level_2", "comparison",
    "estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high", "n",
    "df_residual", "p_value_residual", "conf_low_residual", "conf_high_residual",
]  # fmt: skip
CELL_COLUMNS = ["outcome", "cell", "mean", "std_error", "n", "conf_low", "conf_high"]


def load_factors(raw: Mapping[str, Any]) -> dict[str, list[str]]:
    """The plan's ``factors`` (column -> ordered levels); {} when the plan has none.

    Parameters
    ----------
    raw : mapping
        The analysis plan as written (its ``factors`` and ``control_in_main_effects`` keys).

    Returns
    -------
    dict of str to list of str
        Each factor column and its levels as text, the reference level first.

    Notes
    -----
    Each factor needs at least two distinct levels; ``control_in_main_effects`` must be a
    boolean; otherwise ValueError names the key.

    References
    ----------
    Montgomery, D. C. (2017). Design and Analysis of Experiments, 9th ed., ch. 5. Wiley.

    Examples
    --------
    >>> load_factors({"factors": {"value": ["care", "loyalty"]}}), load_factors({})
    ({'value': ['care', 'loyalty']}, {})
    """
    value = raw.get("factors")
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not value:
        raise ValueError("factors: expected a mapping factor column -> list of its levels")
    out = {}
    for column, levels in value.items():
        if (
            not isinstance(levels, list)
            or len(levels) < 2
            or len(set(map(str, levels))) != len(levels)
        ):
            raise ValueError(
                f"factors.{column}: expected a list of at least two distinct levels "
                f"(the first is the reference), got {levels!r}"
            )
        out[str(column)] = [str(v) for v in levels]
    flag = raw.get("control_in_main_effects", False)
    if not isinstance(flag, bool):
        raise ValueError(f"control_in_main_effects: expected true or false, got {flag!r}")
    return out


def _cell_stats(
    y: np.ndarray, keys: np.ndarray, cells: list[tuple]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.zeros(len(cells))
    mean = np.full(len(cells), np.nan)
    var = np.full(len(cells), np.nan)
    for k in range(len(cells)):
        v = y[keys == k]
        n[k] = len(v)
        if len(v):
            mean[k] = v.mean()
        if len(v) > 1:
            var[k] = v.var(ddof=1)
    return n, mean, var


def factorial_effects(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: str,
    factors: Mapping[str, Sequence[str]],
    *,
    control_in_main_effects: bool = False,
    alpha: float = 0.05,
    small_sample: str = "bell_mccaffrey",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Main effects, interactions and cells vs control of a factorial design (HC2).

    Parameters
    ----------
    df : DataFrame
        One row per participant; the factor columns hold each factorial arm's levels
        (missing in the control).
    outcome, arm, control : str
        Outcome column, arm column and control label.
    factors : mapping
        Factor column -> levels in order (the first is the reference).
    control_in_main_effects : bool
        Main effects as each level vs the control instead of vs the reference level.
    alpha : float
        1 - confidence level.
    small_sample : {"bell_mccaffrey", "residual"}
        Degrees of freedom of the t tests (the plan's ``small_sample``; see Notes).

    Returns
    -------
    effects : pandas.DataFrame
        ``FACTORIAL_COLUMNS``, one row per contrast:

        * ``outcome``; ``term``: ``main_effect``, ``interaction`` or ``cell_vs_control``
        * ``factor``, ``level`` (and ``factor_2``, ``level_2`` for an interaction or a
          two-factor cell): the level(s) the contrast is about
        * ``comparison``: what it is compared with (the reference level, ``"control"``,
          or ``"ref_A x ref_B"`` for an interaction)
        * ``estimate``, ``std_error``: the contrast ``c'mu`` and its HC2 SE (outcome units)
        * ``statistic``, ``df``, ``p_value``: t, its df under ``small_sample``, two-sided p
        * ``conf_low``, ``conf_high``: ``1 - alpha`` interval (outcome units)
        * ``n``: participants in the model (every cell, plus the control when it is used)
        * ``df_residual``, ``p_value_residual``, ``conf_low_residual``,
          ``conf_high_residual``: the same with the residual ``N - K`` df
    cells : pandas.DataFrame
        One row per cell and the control: ``outcome``, ``cell`` (label), one column per
        factor (its level), ``mean`` (outcome units), ``std_error`` (``s_k / sqrt(n_k)``),
        ``n``, ``conf_low``, ``conf_high``.

    Notes
    -----
    Every figure is a linear contrast ``c'mu`` of the cell means of the saturated model
    (one mean per cell, plus the control), whose HC2 covariance is diagonal with
    ``Var(mean_k) = s_k^2 / n_k`` (each unit's leverage is ``1 / n_k``), so
    ``SE(c'mu) = sqrt(sum_k c_k^2 s_k^2 / n_k)``, what
    ``estimatr::lm_robust(y ~ value * messenger)`` reports for the same contrast:

    - main effect of level j of factor A (vs its reference level): the average over the
      other factors' level combinations b of ``mu[j, b] - mu[ref, b]``; with two levels
      per factor this is lm_robust's coefficient of A under centred (+-1/2) coding;
    - with ``control_in_main_effects``: ``mean_b mu[j, b] - mu[control]``;
    - interaction of A's level j and B's level l: ``mu[j, l] - mu[j, ref] - mu[ref, l] +
      mu[ref, ref]`` (averaged over further factors), lm_robust's ``Aj:Bl`` coefficient;
    - each cell vs control: ``mu[cell] - mu[control]``.

    Bell-McCaffrey df in the saturated model:
    ``(sum c_k^2 / n_k)^2 / sum c_k^4 / (n_k^2 (n_k - 1))`` (as ``clubSandwich::coef_test(
    vcov = "CR2", test = "Satterthwaite")`` with each participant its own cluster); the
    residual ``N - K`` (K cells, and the control when in the model) of ``lm_robust``.

    References
    ----------
    Montgomery, D. C. (2017). Design and Analysis of Experiments, 9th ed., ch. 5
    (factorial effects as contrasts of cell means). Wiley.
    MacKinnon, J. G., & White, H. (1985). Journal of Econometrics, 29(3), 305-325 (HC2).

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c"] * 4 + ["a1b1", "a1b2", "a2b1", "a2b2"] * 4,
    ...     "A": [None] * 4 + ["1", "1", "2", "2"] * 4, "B": [None] * 4 + ["1", "2"] * 8,
    ...     "y": [0, 1, 0, 1] + [1, 2, 2, 5] * 2 + [2, 3, 3, 6] * 2})
    >>> eff, _ = factorial_effects(d, "y", "arm", "c", {"A": ["1", "2"], "B": ["1", "2"]})
    >>> eff.loc[eff.term == "interaction", "estimate"].item()
    2.0
    """
    check_small_sample(small_sample)
    names = list(factors)
    levels = {f: [str(v) for v in factors[f]] for f in names}
    y_all = numeric_column(df, outcome)
    labels = arm_labels(df, arm)
    text = {f: df[f].astype("object").where(df[f].notna(), None).to_numpy() for f in names}
    cells = list(itertools.product(*(levels[f] for f in names)))
    index = {cell: k for k, cell in enumerate(cells)}
    keys = np.full(len(df), -1)
    for i in range(len(df)):
        if labels[i] is None or labels[i] == control:
            continue
        cell = tuple(None if text[f][i] is None else str(text[f][i]) for f in names)
        if cell in index:
            keys[i] = index[cell]
        elif all(v is not None for v in cell):
            bad = next(v for f, v in zip(names, cell, strict=True) if v not in levels[f])
            raise ValueError(f"factors: level {bad!r} in the data is not a declared level")
    ok = ~np.isnan(y_all)
    in_cells = ok & (keys >= 0)
    in_control = ok & (labels == control)
    n, mean, var = _cell_stats(y_all[in_cells], keys[in_cells], cells)
    y_c = y_all[in_control]
    n_c = len(y_c)
    m_c = float(y_c.mean()) if n_c else np.nan
    v_c = float(y_c.var(ddof=1)) if n_c > 1 else np.nan
    if np.any(n < 2):
        raise ValueError(
            f"factors: every factorial cell needs at least 2 participants with {outcome!r}"
        )
    V = var / n
    n_cells_total = int(n.sum())
    rows: list[dict] = []

    def contrast(weights: np.ndarray, w_control: float, **where: Any) -> None:
        uses_control = w_control != 0
        if uses_control and n_c < 2:
            return
        est = float(weights @ mean + w_control * m_c)
        variance = float(weights**2 @ V + (w_control**2 * v_c / n_c if uses_control else 0.0))
        se = float(np.sqrt(variance))
        # Residual df of the saturated model these means come from, and its
        # Bell-McCaffrey df (closed form in a saturated model; see small_sample).
        k = len(cells) + (1 if uses_control else 0)
        n_used = n_cells_total + (n_c if uses_control else 0)
        residual = float(n_used - k)
        c2 = np.append(weights**2, w_control**2 if uses_control else 0.0)
        nk = np.append(n, n_c if uses_control else 2.0)
        used = c2 > 0
        bm = float(
            np.sum(c2[used] / nk[used]) ** 2
            / np.sum(c2[used] ** 2 / (nk[used] ** 2 * (nk[used] - 1)))
        )
        dof = bm if small_sample == "bell_mccaffrey" else residual
        s = t_summary(est, se, dof, alpha)
        r = t_summary(est, se, residual, alpha)
        rows.append(
            {
                "outcome": outcome,
                **{c: None for c in ("factor", "level", "factor_2", "level_2")},
                **where,
                "estimate": est,
                "std_error": se,
                "statistic": float(s["statistic"]),
                "df": dof,
                "p_value": float(s["p_value"]),
                "conf_low": float(s["conf_low"]),
                "conf_high": float(s["conf_high"]),
                "n": n_used,
                "df_residual": residual,
                "p_value_residual": float(r["p_value"]),
                "conf_low_residual": float(r["conf_low"]),
                "conf_high_residual": float(r["conf_high"]),
            }
        )

    position = {f: i for i, f in enumerate(names)}
    for f in names:
        others = [g for g in names if g != f]
        n_other = int(np.prod([len(levels[g]) for g in others])) if others else 1
        ref = levels[f][0]
        shown = levels[f] if control_in_main_effects else levels[f][1:]
        for level in shown:
            w = np.zeros(len(cells))
            for k, cell in enumerate(cells):
                if cell[position[f]] == level:
                    w[k] += 1.0 / n_other
                if not control_in_main_effects and cell[position[f]] == ref:
                    w[k] -= 1.0 / n_other
            contrast(
                w,
                -1.0 if control_in_main_effects else 0.0,
                term="main_effect",
                factor=f,
                level=level,
                comparison="control" if control_in_main_effects else ref,
            )
    for f, g in itertools.combinations(names, 2):
        others = [h for h in names if h not in (f, g)]
        n_other = int(np.prod([len(levels[h]) for h in others])) if others else 1
        ref_f, ref_g = levels[f][0], levels[g][0]
        for lf in levels[f][1:]:
            for lg in levels[g][1:]:
                w = np.zeros(len(cells))
                for k, cell in enumerate(cells):
                    a, b = cell[position[f]], cell[position[g]]
                    sign = {(lf, lg): 1, (lf, ref_g): -1, (ref_f, lg): -1, (ref_f, ref_g): 1}
                    w[k] += sign.get((a, b), 0) / n_other
                contrast(
                    w,
                    0.0,
                    term="interaction",
                    factor=f,
                    level=lf,
                    factor_2=g,
                    level_2=lg,
                    comparison=f"{ref_f} x {ref_g}",
                )
    for k, cell in enumerate(cells):
        w = np.zeros(len(cells))
        w[k] = 1.0
        where: dict[str, Any] = {"term": "cell_vs_control", "comparison": "control"}
        where.update(factor=names[0], level=cell[0])
        if len(names) > 1:
            where.update(factor_2=names[1], level_2=cell[1])
        contrast(w, -1.0, **where)
    effects = pd.DataFrame(rows, columns=FACTORIAL_COLUMNS)
    cell_rows = []
    crit = _crit(n - 1, alpha)
    for k, cell in enumerate(cells):
        se = float(np.sqrt(V[k]))
        cell_rows.append(
            {
                "outcome": outcome,
                "cell": " x ".join(cell),
                **dict(zip(names, cell, strict=True)),
                "mean": float(mean[k]),
                "std_error": se,
                "n": int(n[k]),
                "conf_low": float(mean[k] - crit[k] * se),
                "conf_high": float(mean[k] + crit[k] * se),
            }
        )
    if n_c >= 2:
        se_c = float(np.sqrt(v_c / n_c))
        crit_c = float(_crit(np.array([n_c - 1.0]), alpha)[0])
        cell_rows.append(
            {
                "outcome": outcome,
                "cell": control,
                **dict.fromkeys(names),
                "mean": m_c,
                "std_error": se_c,
                "n": n_c,
                "conf_low": m_c - crit_c * se_c,
                "conf_high": m_c + crit_c * se_c,
            }
        )
    return effects, pd.DataFrame(cell_rows, columns=[*CELL_COLUMNS[:2], *names, *CELL_COLUMNS[2:]])


def _crit(dof: np.ndarray, alpha: float) -> np.ndarray:
    from scipy import stats

    return stats.t.ppf(1.0 - alpha / 2.0, np.asarray(dof, dtype=float))


def factorial_sections(data: pd.DataFrame, plan: Any, warn: Callable[..., None]) -> dict[str, list]:
    """``factorial`` and ``factorial_cells`` records for ``run`` (every outcome; {} without)."""
    from analysis import summaries

    out: dict[str, list] = {"factorial": [], "factorial_cells": []}
    factors = load_factors(plan.raw)
    if not factors:  # the keys appear only in factorial plans
        return {}
    missing = [f for f in factors if f not in data.columns]
    if missing:
        raise ValueError(f"factors: factor column {missing[0]!r} is not in the data")
    for o in plan.outcomes:
        try:
            effects, cells = factorial_effects(
                data,
                o.name,
                plan.arm,
                plan.control,
                factors,
                control_in_main_effects=bool(plan.raw.get("control_in_main_effects", False)),
                alpha=plan.alpha,
                small_sample=getattr(plan, "small_sample", "bell_mccaffrey"),
            )
        except (ValueError, ArithmeticError) as exc:
            if "not a declared level" in str(exc):
                raise
            warn(
                "section_failed",
                f"factorial effects not computed: {exc}",
                o.name,
                None,
                "factorial",
            )
            continue
        out["factorial"].extend(summaries.records(effects))
        out["factorial_cells"].extend(summaries.records(cells))
    return out
