"""Heterogeneous effects: subgroups, arm x moderator interactions, and value matching.

Public API (each returns a tidy :class:`pandas.DataFrame`)
----------------------------------------------------------
``subgroup_effects(df, outcome, arm, control, moderator, *, min_cell_size=10, alpha=0.05, levels=None, cut_points=None)``
    outcome, moderator, level, reference, arm, estimate, std_error, statistic, df,
    p_value, conf_low, conf_high, n_control, n_treatment, suppressed, grouping
``interaction_effects(df, outcome, arm, control, moderator, covariates=(), *, alpha=0.05, levels=None, small_sample="bell_mccaffrey")``
    outcome, moderator, arm, term, level, reference, estimate, std_error, statistic,
    df, p_value, conf_low, conf_high, n, small_sample, df_residual, p_value_residual,
    conf_low_residual, conf_high_residual (Bell-McCaffrey df; residual-df figures kept)
``interaction_joint_test(df, outcome, arm, control, moderator, covariates=(), *, levels=None)``
    outcome, moderator, statistic, df, p_value, f_statistic, df_num, df_denom, f_p_value, n
``interaction_model(df, outcome, arm, control, moderator, covariates=(), *, levels=None)``
    the fitted interaction regression (an :class:`InteractionModel`); its
    ``effects(alpha=0.05)`` and ``joint_test()`` give the two tables above from one fit
``value_match(df, outcome, arm, control, arm_values, *, standardize=False, alpha=0.05)``
    outcome, arm, value_column, method, estimate, std_error, statistic, df, p_value,
    conf_low, conf_high, n_control, n_treatment

Rows with a missing value in any column an analysis uses are dropped (complete
cases per analysis). ``levels`` is the plan's declared level order (column -> levels,
the first is the reference; see :func:`analysis._data.factor`): a categorical
moderator's levels, and its reference level in the interaction model, follow it;
without a declaration they are sorted (numbers numerically). A value that the
declaration lacks raises ValueError. Regressions use the shared HC2 core :mod:`analysis.hc`
(estimatr's ``lm_robust`` default); the pooled value-match estimate uses
cluster-robust errors (see :func:`value_match`).

A continuous moderator (numeric, no declared levels) enters the interaction model
centred at its mean among the participants in the fit, so the frame's own coefficient
is its effect at the average moderator value (the interaction, the change in that
effect per unit of the moderator, is the same as uncentred). Its subgroups are ranges:
the plan's ``cut_points`` for it when declared, else tertiles (see
:func:`moderator_groups`); a numeric moderator with at most 20 distinct values and no
cut points keeps one subgroup per value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._data import (
    Factor,
    Levels,
    arm_labels,
    check_control,
    covariate_matrix,
    dummies,
    factor,
    is_categorical,
    numeric_column,
    require_columns,
    treatment_arms,
)
from analysis.guards import check_slope
from analysis.hc import (
    OLSFit,
    RankDeficientError,
    check_small_sample,
    hc2_inference,
    ols_hc2,
    t_summary,
    wald_test,
)

__all__ = [
    "InteractionModel",
    "interaction_effects",
    "interaction_joint_test",
    "interaction_model",
    "moderator_groups",
    "subgroup_effects",
    "value_match",
]

MAX_SUBGROUP_LEVELS = 20
_STATS = ["estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]
# The interaction terms' degrees of freedom rule and the estimatr-compatible (n - k) figures.
_RESIDUAL = [
    "small_sample", "df_residual", "p_value_residual", "conf_low_residual", "conf_high_residual"
]  # fmt: skip


def _inference(est: float, se: float, dof: float, alpha: float) -> dict:
    s = t_summary(est, se, dof, alpha)
    return {
        "estimate": float(est),
        "std_error": float(se),
        "statistic": float(s["statistic"]),
        "df": float(dof),
        "p_value": float(s["p_value"]),
        "conf_low": float(s["conf_low"]),
        "conf_high": float(s["conf_high"]),
    }


def _number(x: float) -> str:
    return f"{x:g}"


def moderator_groups(
    df: pd.DataFrame,
    moderator: str,
    levels: Levels | None = None,
    cut_points: Sequence[float] | None = None,
) -> tuple[Factor, str]:
    """The subgroups of a moderator and how they were formed (``grouping``).

    ``"levels"``: one subgroup per value (a categorical moderator, or a numeric one with
    at most 20 distinct values and no cut points). ``"cut_points"``: a numeric moderator
    split at the declared points ``c1 < c2 < ...`` into ``x < c1``, ``c1 <= x < c2``, ...,
    ``x >= ck``, as R's ``cut(x, c(-Inf, cuts, Inf), right = FALSE)``. ``"tertiles"``: a
    numeric moderator with more than 20 distinct values and no cut points, split at its
    tertiles (R's default ``quantile(x, c(1/3, 2/3))``, type 7, over every row with a
    value; tied points are merged). Ranges are labelled ``< 3.5``, ``3.5 to < 6``, ``>= 6``.

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

    Within level g: ``mean_t,g - mean_c,g`` with the Welch (= HC2) standard error
    ``sqrt(s_t^2/n_t + s_c^2/n_c)`` and Welch–Satterthwaite df, as
    ``estimatr::difference_in_means`` on that subgroup. Privacy rule for
    at-risk participants: when the arm or the control has fewer than
    ``min_cell_size`` participants in the level, the row is ``suppressed``: every
    statistic *and* the small count are null, so no table reveals a small group.
    Rows follow the moderator's level order (``levels[moderator]`` when declared,
    else sorted); ``reference`` repeats the first level, the one the interaction
    model contrasts the others with. A continuous moderator is split into ranges
    (``cut_points`` or tertiles, :func:`moderator_groups`); ``grouping`` says which.

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


def _moderator_terms(df, moderator, levels):
    """Moderator columns, their names and levels (None for a numeric one), and the reference."""
    if not is_categorical(df, moderator, levels):
        values = df[moderator].to_numpy(dtype="float64", na_value=np.nan)[:, None]
        return values, [str(moderator)], [None], None
    f = factor(df, moderator, levels)
    M, names = dummies(f)
    return M, names, f.levels[1:], f.reference


def _interaction_fit(df, outcome, arm, control, moderator, covariates, levels):
    """HC2 fit of outcome ~ arm dummies * moderator terms + covariates; interaction names."""
    require_columns(df, [outcome, arm, moderator, *covariates])
    if moderator in covariates:
        raise ValueError(f"covariates: the moderator {moderator!r} must not also be a covariate")
    labels = arm_labels(df, arm)
    control = check_control(labels, arm, control)
    y = numeric_column(df, outcome, "outcome")
    M, m_names, m_levels, reference = _moderator_terms(df, moderator, levels)
    C, c_names = covariate_matrix(df, list(covariates), levels)
    ok = ~np.isnan(y) & np.array([x is not None for x in labels], dtype=bool)
    ok &= ~np.isnan(M).any(axis=1) & ~np.isnan(C).any(axis=1)
    labels, y, M, C = labels[ok], y[ok], M[ok], C[ok]
    if m_levels == [None]:  # a continuous moderator: centred at its mean in the fit
        M = M - M.mean(axis=0)
    arms = [a for a in treatment_arms(labels, control) if np.any(labels == a)]
    if not np.any(labels == control) or not arms:
        raise ValueError(
            f"outcome {outcome!r}: expected complete cases in the control and at least one arm "
            f"(moderator {moderator!r})"
        )
    if not m_names:
        raise ValueError(f"moderator {moderator!r}: expected at least two distinct values")
    D = np.column_stack([(labels == a).astype(float) for a in arms])
    inter = [D[:, [i]] * M for i in range(len(arms))]
    inter_names = [f"{a}:{m}" for a in arms for m in m_names]
    X = np.column_stack([np.ones(y.size), D, M, C, *inter])
    names = ["(Intercept)", *arms, *m_names, *c_names, *inter_names]
    try:
        fit = ols_hc2(X, y, names)
    except RankDeficientError as err:
        raise ValueError(f"moderator {moderator!r}: cannot estimate interactions: {err}") from None
    pairs = [(a, f"{a}:{m}") for a in arms for m in m_names]
    # A moderator that is almost the arm (or almost constant) gives an accurate but
    # meaningless interaction: refuse it instead of reporting it (analysis.guards).
    sd_y = float(np.std(y, ddof=1))
    for a, term in pairs:
        j = fit.index(term)
        check_slope(
            fit.coef[j],
            fit.std_error[j],
            column_sd=float(np.std(X[:, j], ddof=1)),
            outcome_sd=sd_y,
            outcome=outcome,
            arm=a,
            method=f"interaction with {moderator!r}",
            term=term,
        )
    term_levels = [level for _ in arms for level in m_levels]
    return fit, pairs, term_levels, reference


@dataclass(frozen=True)
class InteractionModel:
    """Result of :func:`interaction_model`: one HC2 fit serving both interaction tables.

    ``pairs`` lists ``(arm, term)`` for every arm x moderator interaction term of ``fit``;
    ``term_levels`` the moderator level of each term (None for a numeric moderator) and
    ``reference`` the categorical moderator's reference level (None if numeric).
    """

    outcome: str
    moderator: str
    fit: OLSFit
    pairs: tuple[tuple[str, str], ...]
    term_levels: tuple = ()
    reference: object = None

    def effects(self, alpha: float = 0.05, small_sample: str = "bell_mccaffrey") -> pd.DataFrame:
        """The table of :func:`interaction_effects` (one row per interaction term)."""
        check_small_sample(small_sample)
        fit = self.fit
        levels = self.term_levels or (None,) * len(self.pairs)
        rows = []
        for (a, term), level in zip(self.pairs, levels, strict=True):
            inf = hc2_inference(fit, fit.index(term), alpha, small_sample)
            rows.append(
                {
                    "outcome": self.outcome,
                    "moderator": self.moderator,
                    "arm": a,
                    "term": term,
                    "level": level,
                    "reference": self.reference,
                    **{k: inf[k] for k in _STATS},
                    "n": fit.n,
                    **{k: inf[k] for k in _RESIDUAL},
                }
            )
        columns = [
            "outcome", "moderator", "arm", "term", "level", "reference", *_STATS, "n", *_RESIDUAL
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def joint_test(self) -> pd.DataFrame:
        """The one-row table of :func:`interaction_joint_test`."""
        w = wald_test(self.fit, [term for _, term in self.pairs])
        return pd.DataFrame(
            [{"outcome": self.outcome, "moderator": self.moderator, **w, "n": self.fit.n}],
            columns=[
                "outcome", "moderator", "statistic", "df", "p_value",
                "f_statistic", "df_num", "df_denom", "f_p_value", "n",
            ],
        )  # fmt: skip


def interaction_model(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    moderator: str,
    covariates: Sequence[str] = (),
    *,
    levels: Levels | None = None,
) -> InteractionModel:
    """Fit the arm x moderator interaction regression once, for both interaction tables.

    The model is that of :func:`interaction_effects`; ``.effects(alpha)`` returns
    that function's table and ``.joint_test()`` the table of
    :func:`interaction_joint_test`, so a caller wanting both pays for one HC2 fit.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> d = pd.DataFrame({"arm": np.tile(["c", "t", "u"], 50), "g": np.repeat(["a", "b"], 75),
    ...                   "y": rng.normal(size=150)})
    >>> m = interaction_model(d, "y", "arm", "c", "g")
    >>> m.effects()["term"].tolist(), m.joint_test()["df"].tolist()
    (['t:gb', 'u:gb'], [2.0])
    """
    fit, pairs, term_levels, reference = _interaction_fit(
        df, outcome, arm, control, moderator, covariates, levels
    )
    return InteractionModel(outcome, moderator, fit, tuple(pairs), tuple(term_levels), reference)


def interaction_effects(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    moderator: str,
    covariates: Sequence[str] = (),
    *,
    alpha: float = 0.05,
    levels: Levels | None = None,
    small_sample: str = "bell_mccaffrey",
) -> pd.DataFrame:
    """Arm x moderator interaction coefficients from one HC2 regression.

    Model (all arms together, control as reference):
    ``y = b0 + sum_a t_a 1[arm = a] + sum_m g_m M_m + C'c + sum_a sum_m d_am 1[arm = a] M_m + e``,
    where M is the moderator (a numeric one enters as itself; a categorical one, or
    one whose ``levels`` the plan declares, as dummies for every level but the
    reference: the first declared level present, else the first sorted) and C the
    covariates (dummy-coded the same way). ``d_am`` is how much arm a's effect
    differs per unit of M_m (numeric) or in level m versus the reference level
    (categorical); that is the difference of the two levels' subgroup differences in
    means when there are no covariates. Term names follow R with the arm label:
    ``"care:ideology"``, ``"care:ideology_groupright"``; ``level`` and ``reference``
    name the two levels a categorical term compares. HC2 errors with Bell-McCaffrey
    degrees of freedom (:func:`analysis.hc.bell_mccaffrey_df`; ``small_sample =
    "residual"`` gives ``n - k``; both are in every row, the latter as ``*_residual``).

    R equivalent: ``estimatr::lm_robust(y ~ arm * moderator + covariates, se_type = "HC2")``
    with ``moderator = factor(moderator, levels = declared)`` (residual df), and
    ``clubSandwich::coef_test(lm(same), vcov = "CR2", cluster = 1:n, test =
    "Satterthwaite")`` (Bell-McCaffrey df).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"arm": np.repeat(["c", "t"], 100), "x": rng.normal(size=200)})
    >>> d["y"] = (d["arm"] == "t") * (1 + 2 * d["x"]) + rng.normal(size=200)
    >>> r = interaction_effects(d, "y", "arm", "c", "x")
    >>> r["term"].tolist(), bool(abs(r["estimate"].iloc[0] - 2) < 0.4)
    (['t:x'], True)
    """
    model = interaction_model(df, outcome, arm, control, moderator, covariates, levels=levels)
    return model.effects(alpha, small_sample)


def interaction_joint_test(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    moderator: str,
    covariates: Sequence[str] = (),
    *,
    levels: Levels | None = None,
) -> pd.DataFrame:
    """HC2 Wald test that all arm x moderator interactions are zero (effects do not vary).

    In the model of :func:`interaction_effects`, ``W = d' V_HC2^-1 d ~ chi2(q)``
    with q the number of interaction terms; ``F = W / q`` on ``(q, n - k)`` df.

    R equivalent: ``car::linearHypothesis(lm(y ~ arm * moderator), interaction terms,
    vcov. = sandwich::vcovHC(fit, type = "HC2"), test = "Chisq")`` (and ``"F"``).

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> d = pd.DataFrame({"arm": np.tile(["c", "t", "u"], 50), "g": np.repeat(["a", "b"], 75),
    ...                   "y": rng.normal(size=150)})
    >>> interaction_joint_test(d, "y", "arm", "c", "g")["df"].tolist()
    [2.0]
    """
    model = interaction_model(df, outcome, arm, control, moderator, covariates, levels=levels)
    return model.joint_test()


def _pair_design(y, labels, score, control, a, standardize):
    """Rows of arm a and control with complete data: treatment dummy and centred score."""
    keep = ((labels == a) | (labels == control)) & ~np.isnan(y) & ~np.isnan(score)
    t = (labels[keep] == a).astype(float)
    v = score[keep] - score[keep].mean()
    if standardize:
        sd = v.std(ddof=1)
        v = v / sd if sd > 0 else v
    return keep, y[keep], t, v


def value_match(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    arm_values: Mapping[str, str],
    *,
    standardize: bool = False,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Moral reframing test: does a frame persuade more those who hold its value?

    ``arm_values`` maps each value-tagged frame arm to the column holding
    participants' pre-treatment score on that frame's value (e.g.
    ``{"care": "pre_scale_care"}``). Two estimators:

    ``method = "arm_interaction"`` (one row per arm a): on the rows of arm a and
    control, ``y = b0 + b1 T + b2 v + d_a T v + e`` with ``T = 1[arm = a]`` and
    ``v`` the score on a's value, centred at its mean over those rows (divided by
    its SD too if ``standardize``). ``d_a`` is the change in a's effect per unit
    (or SD) of the matching value; ``b1`` is then the effect at the average
    score. HC2 errors, ``df = n - 4`` (R: ``lm_robust(y ~ T * v, se_type = "HC2")``).

    ``method = "pooled"`` (one row, ``arm = "pooled"``): the comparisons are
    stacked (control rows repeated once per comparison s) and
    ``y = a_s + b_s T + c_s v + d T v + e`` is fitted with comparison-specific
    intercepts, effects and value slopes but one common matched-value
    interaction ``d``, the precision-weighted summary of the ``d_a``. Because
    control participants appear in every comparison, errors are clustered by
    participant (CR1, Stata's small-sample factor ``G/(G-1) (N-1)/(N-K)``,
    ``df = G - 1``; R: ``lm_robust(..., clusters = id, se_type = "stata")``).
    A positive ``d`` supports moral reframing (Feinberg & Willer 2015, 2019):
    frames persuade more where they match the audience's own values.

    References
    ----------
    Feinberg, M., & Willer, R. (2015). From gulf to bridge: When do moral arguments
    facilitate political influence? Personality and Social Psychology Bulletin 41(12).
    Feinberg, M., & Willer, R. (2019). Moral reframing: A technique for effective and
    persuasive communication across political divides. Social and Personality
    Psychology Compass 13(12), e12501.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> d = pd.DataFrame({"arm": np.tile(["control", "care"], 150), "care_v": rng.normal(size=300)})
    >>> d["y"] = (d["arm"] == "care") * d["care_v"] + rng.normal(size=300)
    >>> r = value_match(d, "y", "arm", "control", {"care": "care_v"})
    >>> r["method"].tolist(), bool(r["estimate"].iloc[0] > 0.5)
    (['arm_interaction', 'pooled'], True)
    """
    if not arm_values:
        raise ValueError(
            "arm_values: expected at least one frame arm mapped to a value-score column"
        )
    require_columns(df, [outcome, arm, *arm_values.values()], "value-score column")
    labels = arm_labels(df, arm)
    control = check_control(labels, arm, control)
    present = set(treatment_arms(labels, control))
    unknown = [a for a in arm_values if str(a) not in present]
    if unknown:
        raise ValueError(
            f"arm_values: arm {unknown[0]!r} is not a frame arm in column {arm!r} "
            f"(frame arms: {', '.join(sorted(present))})"
        )
    y = numeric_column(df, outcome, "outcome")
    ids = np.arange(len(df))
    rows, stacked = [], []
    for s, (a, column) in enumerate(arm_values.items()):
        score = numeric_column(df, column, "value-score column")
        keep, ys, t, v = _pair_design(y, labels, score, control, str(a), standardize)
        n_t, n_c = int(t.sum()), int(t.size - t.sum())
        if min(n_t, n_c) < 3:
            raise ValueError(
                f"value-score column {column!r}: arm {a!r} has {n_t} and control {n_c} complete "
                "cases; the value-match interaction needs at least 3 in each"
            )
        X = np.column_stack([np.ones(t.size), t, v, t * v])
        try:
            fit = ols_hc2(X, ys, ["(Intercept)", "T", "v", "T:v"])
        except RankDeficientError as err:
            raise ValueError(f"value-score column {column!r}: arm {a!r}: {err}") from None
        row = {
            "outcome": outcome,
            "arm": str(a),
            "value_column": column,
            "method": "arm_interaction",
        }
        check_slope(
            fit.coef[3],
            fit.std_error[3],
            column_sd=float(np.std(X[:, 3], ddof=1)),
            outcome_sd=float(np.std(ys, ddof=1)),
            outcome=outcome,
            arm=str(a),
            method=f"value match with {column!r}",
            term="T:v",
        )
        row.update(_inference(fit.coef[3], fit.std_error[3], fit.df_resid, alpha))
        rows.append({**row, "n_control": n_c, "n_treatment": n_t})
        stacked.append((s, ys, t, v, ids[keep]))
    rows.append(_pooled(stacked, outcome, alpha))
    columns = ["outcome", "arm", "value_column", "method", *_STATS, "n_control", "n_treatment"]
    return pd.DataFrame(rows, columns=columns)


def _pooled(stacked: list, outcome: str, alpha: float) -> dict:
    k = len(stacked)
    n_rows = sum(part[1].size for part in stacked)
    X = np.zeros((n_rows, 3 * k + 1))
    y = np.empty(n_rows)
    cluster = np.empty(n_rows, dtype=np.int64)
    at = 0
    for s, ys, t, v, who in stacked:
        sl = slice(at, at + ys.size)
        X[sl, 3 * s], X[sl, 3 * s + 1], X[sl, 3 * s + 2] = 1.0, t, v
        X[sl, -1] = t * v
        y[sl], cluster[sl] = ys, who
        at += ys.size
    # Every per-arm design passed the HC2 core's rank check, so the stacked one is full
    # rank too; the normal equations of this small k are cheap and accurate enough.
    bread = np.linalg.inv(X.T @ X)
    coef = bread @ (X.T @ y)
    resid = y - X @ coef
    # Sum each participant's score contributions, then the sandwich (cluster-robust CR1).
    # Cluster ids are row positions in the input, so they index bincount directly.
    size = int(cluster.max()) + 1
    g = int(np.count_nonzero(np.bincount(cluster, minlength=size)))
    contrib = X * resid[:, None]
    scores = np.column_stack([np.bincount(cluster, contrib[:, j], size) for j in range(X.shape[1])])
    factor = g / (g - 1) * (n_rows - 1) / (n_rows - X.shape[1])
    vcov = factor * bread @ (scores.T @ scores) @ bread
    se = float(np.sqrt(vcov[-1, -1]))
    n_t = sum(int(part[2].sum()) for part in stacked)
    is_control = np.zeros(size, dtype=bool)
    for part in stacked:
        is_control[part[4][part[2] == 0]] = True
    n_c = int(is_control.sum())
    row = {"outcome": outcome, "arm": "pooled", "value_column": None, "method": "pooled"}
    row.update(_inference(coef[-1], se, g - 1, alpha))
    return {**row, "n_control": n_c, "n_treatment": n_t}
