"""Arm x moderator interactions: one HC2 regression, its coefficients and joint test.

A categorical moderator (text, categorical dtype, or declared ``levels``) enters as
dummies for every level but the reference. A continuous one enters centred at its mean
in the fit, so the frame's own coefficient is its effect at the average moderator value
(the interaction is the same as uncentred). HC2 errors from :mod:`analysis.hc`; rows
with a missing value in any column used are dropped.

Examples
--------
>>> rng = np.random.default_rng(5)
>>> d = pd.DataFrame({"arm": np.tile(["c", "t"], 50), "x": rng.normal(size=100)})
>>> d["y"] = rng.normal(size=100)
>>> interaction_effects(d, "y", "arm", "c", "x")[["term", "n"]].values.tolist()
[['t:x', 100]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._data import (
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
from analysis.hc import OLSFit, RankDeficientError, ols_hc2, wald_test
from analysis.heterogeneity import _STATS
from analysis.small_sample import check_small_sample, hc2_inference

__all__ = [
    "InteractionModel",
    "interaction_effects",
    "interaction_joint_test",
    "interaction_model",
]

# The interaction terms' degrees of freedom rule and the estimatr-compatible (n - k) figures.
_RESIDUAL = [
    "small_sample", "df_residual", "p_value_residual", "conf_low_residual", "conf_high_residual"
]  # fmt: skip


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
        Moderator column (numeric, or categorical: text, categorical dtype or declared).
    covariates : sequence of str, default ()
        Further adjustment columns (text ones dummy-coded); must not include the moderator.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).

    Returns
    -------
    InteractionModel
        The fit (``fit``, an :class:`analysis.hc.OLSFit`), the ``(arm, term)`` pairs of the
        interaction terms, each term's moderator level and the reference level. Its
        ``effects(alpha, small_sample)`` is :func:`interaction_effects`'s table and
        ``joint_test()`` :func:`interaction_joint_test`'s.

    Notes
    -----
    The model is that of :func:`interaction_effects`; a caller wanting both tables pays
    for one HC2 fit. An interaction whose column is almost the arm (or almost constant)
    is refused by :func:`analysis.guards.check_slope` rather than reported.

    References
    ----------
    MacKinnon, J. G., & White, H. (1985). Some heteroskedasticity-consistent covariance
    matrix estimators with improved finite sample properties. Journal of Econometrics,
    29(3), 305-325.

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
        Moderator column (numeric, or categorical: text, categorical dtype or declared).
    covariates : sequence of str, default ()
        Further adjustment columns; must not include the moderator.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).
    small_sample : {"bell_mccaffrey", "residual"}, default "bell_mccaffrey"
        Degrees of freedom of the t reference (see Notes).

    Returns
    -------
    pandas.DataFrame
        One row per interaction term:

        * ``outcome``, ``moderator``: the columns analysed
        * ``arm``: the treatment arm of the term
        * ``term``: the coefficient's name, as R names it (``"care:ideologyright"``)
        * ``level``, ``reference``: the two levels a categorical term compares (null if numeric)
        * ``estimate``: ``d_am``, the change in the arm's effect per unit of the moderator,
          or in the level versus the reference (outcome units)
        * ``std_error``: HC2 standard error (outcome units)
        * ``statistic``: t statistic, ``estimate / std_error``
        * ``df``: degrees of freedom under ``small_sample``
        * ``p_value``: two-sided p-value
        * ``conf_low``, ``conf_high``: ``1 - alpha`` confidence interval (outcome units)
        * ``n``: participants in the fit
        * ``small_sample``: the degrees-of-freedom rule used
        * ``df_residual``, ``p_value_residual``, ``conf_low_residual``,
          ``conf_high_residual``: the same with estimatr's residual ``n - k`` df

    Notes
    -----
    Model (all arms together, control as reference):

    ``y = b0 + sum_a t_a 1[arm = a] + sum_m g_m M_m + C'c + sum_a sum_m d_am 1[arm = a] M_m + e``

    where M is the moderator (a numeric one enters centred at its mean in the fit; a
    categorical one as dummies for every level but the reference: the first declared
    level present, else the first sorted) and C the covariates (dummy-coded the same
    way). ``d_am`` is the difference of the two levels' subgroup differences in means
    when there are no covariates. HC2 errors with Bell-McCaffrey degrees of freedom
    (:func:`analysis.small_sample.bell_mccaffrey_df`); ``small_sample = "residual"`` gives ``n - k``.

    R equivalent: ``estimatr::lm_robust(y ~ arm * moderator + covariates, se_type = "HC2")``
    with ``moderator = factor(moderator, levels = declared)`` (residual df), and
    ``clubSandwich::coef_test(lm(same), vcov = "CR2", cluster = 1:n, test =
    "Satterthwaite")`` (Bell-McCaffrey df).

    References
    ----------
    Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
    regression with multi-stage samples. Survey Methodology, 28(2), 169-181.
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 9. Norton.

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

    Parameters
    ----------
    df, outcome, arm, control, moderator
        As in :func:`interaction_effects`.
    covariates : sequence of str, default ()
        Further adjustment columns; must not include the moderator.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).

    Returns
    -------
    pandas.DataFrame
        One row:

        * ``outcome``, ``moderator``: the columns analysed
        * ``statistic``: Wald chi-square statistic ``W``
        * ``df``: its degrees of freedom ``q`` (number of interaction terms)
        * ``p_value``: ``P(chi2(q) > W)``
        * ``f_statistic``: ``W / q``
        * ``df_num``, ``df_denom``: ``q`` and the residual ``n - k``
        * ``f_p_value``: ``P(F(q, n - k) > W / q)``
        * ``n``: participants in the fit

    Notes
    -----
    In the model of :func:`interaction_effects`, ``W = d' V_HC2^-1 d ~ chi2(q)`` with d
    the interaction coefficients and ``V_HC2`` their HC2 covariance; ``F = W / q`` on
    ``(q, n - k)`` df.

    R equivalent: ``car::linearHypothesis(lm(y ~ arm * moderator), interaction terms,
    vcov. = sandwich::vcovHC(fit, type = "HC2"), test = "Chisq")`` (and ``"F"``).

    References
    ----------
    Fox, J., & Weisberg, S. (2019). An R Companion to Applied Regression, 3rd ed. Sage.
    MacKinnon, J. G., & White, H. (1985). Journal of Econometrics, 29(3), 305-325.

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
