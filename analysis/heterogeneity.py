"""Heterogeneous effects by subgroup: a moderator's subgroups and the effect within each.

The heterogeneity family is three modules: this one (subgroups of a moderator and the
difference in means within each), :mod:`analysis.interactions` (arm x moderator
interaction regressions and their joint test) and :mod:`analysis.value_matching` (the
moral-reframing value-match test). ``run`` fills its ``subgroups``, ``heterogeneity``,
``heterogeneity_joint`` and ``value_match`` sections from them.

Rows with a missing value in any column an analysis uses are dropped (complete
cases per analysis). ``levels`` is the plan's declared level order (column -> levels,
the first is the reference; see :func:`analysis._data.factor`): a categorical
moderator's levels follow it; without a declaration they are sorted (numbers
numerically). A value that the declaration lacks raises ValueError. A numeric
moderator's subgroups are ranges: the plan's ``cut_points`` for it when declared, else
tertiles (see :func:`moderator_groups`); a numeric moderator with at most 20 distinct
values and no cut points keeps one subgroup per value.

Examples
--------
>>> rng = np.random.default_rng(1)
>>> d = pd.DataFrame({"arm": np.repeat(["c", "t"], 60), "g": np.tile(["a", "b"], 60),
...                   "y": rng.normal(size=120)})
>>> subgroup_effects(d, "y", "arm", "c", "g")[["level", "arm", "n_control"]].values.tolist()
[['a', 't', 30], ['b', 't', 30]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._data import (
    Factor,
    Levels,
    arm_labels,
    check_control,
    factor,
    is_categorical,
    numeric_column,
    require_columns,
    treatment_arms,
)
from analysis.estimators import _inference

__all__ = ["moderator_groups", "subgroup_effects"]

MAX_SUBGROUP_LEVELS = 20
_STATS = ["estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]


def _number(x: float) -> str:
    return f"{x:g}"


def moderator_groups(
    df: pd.DataFrame,
    moderator: str,
    levels: Levels | None = None,
    cut_points: Sequence[float] | None = None,
) -> tuple[Factor, str]:
    """The subgroups of a moderator and how they were formed (``grouping``).

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    moderator : str
        Column whose values define the subgroups.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference); a
        moderator listed here is categorical.
    cut_points : sequence of float, optional
        Increasing cut points for a numeric moderator.

    Returns
    -------
    factor : analysis._data.Factor
        ``codes`` (the subgroup of each row, -1 where the moderator is missing) and
        ``levels`` (the subgroup labels, in order).
    grouping : str
        ``"levels"``, ``"cut_points"`` or ``"tertiles"``.

    Notes
    -----
    ``"levels"``: one subgroup per value (a categorical moderator, or a numeric one with
    at most 20 distinct values and no cut points). ``"cut_points"``: a numeric moderator
    split at the declared points ``c1 < c2 < ... < ck`` into ``x < c1``,
    ``c1 <= x < c2``, ..., ``x >= ck``, as R's ``cut(x, c(-Inf, cuts, Inf), right = FALSE)``. ``"tertiles"``: a numeric moderator
    with more than 20 distinct values and no cut points, split at its tertiles (R's
    default ``quantile(x, c(1/3, 2/3))``, type 7, over every row with a value; tied
    points are merged). Ranges are labelled ``< 3.5``, ``3.5 to < 6``, ``>= 6``; a range
    nobody falls in is dropped.

    References
    ----------
    Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages. The
    American Statistician, 50(4), 361-365 (type 7, R's default).

    Examples
    --------
    >>> d = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6]})
    >>> f, how = moderator_groups(d, "x", cut_points=[3])
    >>> (f.levels, f.codes.tolist(), how)
    (['< 3', '>= 3'], [0, 0, 1, 1, 1, 1], 'cut_points')
    """
    numeric = not is_categorical(df, moderator, levels)
    if not numeric:
        if cut_points:
            raise ValueError(
                f"cut_points.{moderator}: the moderator is categorical; cut points apply to "
                "numeric moderators only"
            )
        return _levels(df, moderator, levels), "levels"
    x = df[moderator].to_numpy(dtype="float64", na_value=np.nan)
    if cut_points:
        cuts = [float(c) for c in cut_points]
        if any(cuts[i + 1] <= cuts[i] for i in range(len(cuts) - 1)):
            raise ValueError(
                f"cut_points.{moderator}: expected increasing numbers, got {list(cut_points)}"
            )
        grouping = "cut_points"
    else:
        present = np.unique(x[~np.isnan(x)])
        if len(present) <= MAX_SUBGROUP_LEVELS:
            return _levels(df, moderator, levels), "levels"
        cuts = sorted(set(np.quantile(x[~np.isnan(x)], [1 / 3, 2 / 3]).tolist()))
        grouping = "tertiles"
    labels = [f"< {_number(cuts[0])}"]
    labels += [f"{_number(cuts[i])} to < {_number(cuts[i + 1])}" for i in range(len(cuts) - 1)]
    labels.append(f">= {_number(cuts[-1])}")
    bins = np.searchsorted(np.asarray(cuts), x, side="right")
    codes = np.where(np.isnan(x), -1, bins).astype(np.intp)
    used = sorted(set(codes[codes >= 0].tolist()))
    remap = {old: new for new, old in enumerate(used)}
    codes = np.array([remap.get(c, -1) for c in codes.tolist()], dtype=np.intp)
    return Factor(moderator, codes, [labels[i] for i in used], False), grouping


def _levels(df: pd.DataFrame, moderator: str, levels: Levels | None) -> Factor:
    """The moderator's level codes (-1 where missing) and levels, declared order or sorted."""
    f = factor(df, moderator, levels)
    if len(f.levels) > MAX_SUBGROUP_LEVELS:
        raise ValueError(
            f"moderator {moderator!r}: expected a categorical moderator with at most "
            f"{MAX_SUBGROUP_LEVELS} levels for subgroups, found {len(f.levels)} distinct values "
            "(declare cut_points for it, or leave it numeric to get tertiles)"
        )
    return f


def subgroup_effects(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    moderator: str,
    *,
    min_cell_size: int = 10,
    alpha: float = 0.05,
    levels: Levels | None = None,
    cut_points: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Difference in means of each arm versus control within each level of a moderator.

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
    moderator : str
        Column whose values (or ranges, for a numeric moderator) define the subgroups.
    min_cell_size : int, default 10
        Smallest number of participants of an arm, or of the control, in a subgroup
        for its row to be shown; below it the row is suppressed.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).
    cut_points : sequence of float, optional
        Increasing cut points for a numeric moderator (see :func:`moderator_groups`).

    Returns
    -------
    pandas.DataFrame
        One row per subgroup and treatment arm:

        * ``outcome``, ``moderator``: the columns analysed
        * ``level``: the subgroup (a level, or a range such as ``"3.5 to < 6"``)
        * ``reference``: the moderator's first level (the interaction model's reference)
        * ``arm``: the treatment arm compared with the control
        * ``estimate``: difference in means, arm minus control (outcome units)
        * ``std_error``: Welch (= HC2) standard error (outcome units)
        * ``statistic``: t statistic, ``estimate / std_error``
        * ``df``: Welch-Satterthwaite degrees of freedom
        * ``p_value``: two-sided p-value
        * ``conf_low``, ``conf_high``: ``1 - alpha`` confidence interval (outcome units)
        * ``n_control``, ``n_treatment``: participants in the subgroup (null when below
          ``min_cell_size``)
        * ``suppressed``: True when the row's statistics are hidden (small cell)
        * ``grouping``: how subgroups were formed (``levels``, ``cut_points``, ``tertiles``)

    Notes
    -----
    Within subgroup g:

    ``estimate = mean(y | arm, g) - mean(y | control, g)``,
    ``se = sqrt(s_t^2 / n_t + s_c^2 / n_c)``,
    ``df = se^4 / ((s_t^2 / n_t)^2 / (n_t - 1) + (s_c^2 / n_c)^2 / (n_c - 1))``,

    as ``estimatr::difference_in_means`` on that subgroup. Privacy rule for at-risk
    participants: when the arm or the control has fewer than ``min_cell_size``
    participants in the level, the row is ``suppressed``: every statistic *and* the
    small count are null, so no table reveals a small group. Rows follow the
    moderator's level order (``levels[moderator]`` when declared, else sorted). Rows
    with a missing outcome or moderator are dropped.

    References
    ----------
    Blair, G., Cooper, J., Coppock, A., Humphreys, M., & Sonnet, L. (2024). estimatr:
    Fast Estimators for Design-Based Inference (R package version 1.0).
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 9 (heterogeneous
    treatment effects). Norton.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"arm": np.repeat(["c", "t"], 60), "g": np.tile(["a", "b", "b"], 40),
    ...                   "y": rng.normal(size=120)})
    >>> r = subgroup_effects(d, "y", "arm", "c", "g", min_cell_size=25)
    >>> r[["level", "n_control", "suppressed"]].values.tolist()
    [['a', <NA>, True], ['b', 40, False]]
    """
    if min_cell_size < 0:
        raise ValueError(f"min_cell_size: expected a non-negative integer, got {min_cell_size}")
    require_columns(df, [outcome, arm, moderator])
    labels = arm_labels(df, arm)
    control = check_control(labels, arm, control)
    y = numeric_column(df, outcome, "outcome")
    f, grouping = moderator_groups(df, moderator, levels, cut_points)
    mod = f.codes
    ok = ~np.isnan(y) & (mod >= 0)
    arms = treatment_arms(labels, control)
    is_arm = {a: labels == a for a in [control, *arms]}
    rows = []
    for code, level in enumerate(f.levels):
        in_level = ok & (mod == code)
        yc = y[in_level & is_arm[control]]
        for a in arms:
            yt = y[in_level & is_arm[a]]
            row = {
                "outcome": outcome,
                "moderator": moderator,
                "level": level,
                "reference": f.reference,
                "arm": a,
            }
            small = min(yt.size, yc.size) < max(min_cell_size, 2)
            if small:
                row.update(dict.fromkeys(_STATS, np.nan))
            else:
                vt, vc = yt.var(ddof=1) / yt.size, yc.var(ddof=1) / yc.size
                se = np.sqrt(vt + vc)
                with np.errstate(divide="ignore", invalid="ignore"):
                    dof = se**4 / (vt**2 / (yt.size - 1) + vc**2 / (yc.size - 1))
                row.update(_inference(yt.mean() - yc.mean(), se, dof, alpha))
            row["n_control"] = pd.NA if yc.size < min_cell_size else int(yc.size)
            row["n_treatment"] = pd.NA if yt.size < min_cell_size else int(yt.size)
            row["suppressed"] = bool(small)
            row["grouping"] = grouping
            rows.append(row)
    columns = ["outcome", "moderator", "level", "reference", "arm", *_STATS]
    out = pd.DataFrame(
        rows, columns=[*columns, "n_control", "n_treatment", "suppressed", "grouping"]
    )
    for col in ("n_control", "n_treatment"):
        out[col] = out[col].astype("Int64")
    return out
