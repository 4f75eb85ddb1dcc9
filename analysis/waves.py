"""Follow-up waves: did a frame's effect last, and who came back to say so.

A study with follow-up waves (the plan's ``waves``) asks some outcomes again days later.
framelab's export keeps the wave-1 answer under the outcome's column (``support``) and
adds, per later wave, ``{wave}_{item}`` (``w2_support``; empty without an answer) and
``{wave}_returned`` (1 when the participant completed that wave, else 0). Three things
are estimated per frame against the control:

* :func:`wave_effects`: the effect at wave 1 and at the later wave on the same people
  (those who returned and answered both times), with the covariance of the two;
* :func:`share_remaining`: the later effect as a share of the wave-1 effect, with
  Fieller's interval and the delta method's, both from that joint covariance;
* :func:`return_rates`: the share of each arm that came back, and whether a frame's
  readers returned more or less often than the control's (which would bias the later
  estimate).

Examples
--------
>>> d = pd.DataFrame({"arm": ["c"] * 4 + ["t"] * 4,
...                   "y": [1, 2, 2, 3, 3, 4, 4, 5], "w2_y": [1, 2, 3, 2, 2, 3, 3, 4],
...                   "w2_returned": [1] * 8})
>>> r = wave_effects(d, "y", "w2_y", "arm", "c", returned="w2_returned").iloc[0]
>>> float(r["first_estimate"]), float(r["estimate"]), float(r["share"])
(2.0, 1.0, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis._data import arm_labels, numeric_column, require_columns, treatment_arms
from analysis.estimators import difference_in_means
from analysis.hc import ols_hc2, t_summary

__all__ = ["return_rates", "share_remaining", "wave_effects"]

_FIRST = ("estimate", "std_error", "df", "p_value", "conf_low", "conf_high")

# The results' ``methods`` record of the follow-up waves (analysis.methods): formula, reference.
METHOD = (
    "Per wave, outcome and frame, on the frame's and the control's participants who "
    "returned and answered both times: wave-1 and later differences in means (HC2 SE, "
    "Welch-Satterthwaite df, unblocked); their covariance sum_g cov(y1, yk | g) / n_g, the "
    "CR2 covariance of the stacked regression y ~ 0 + wave + wave:frame clustered by "
    "participant; share = later / first with Fieller's interval (roots of (later - r "
    "first)^2 = z^2 (v_kk - 2 r v_1k + r^2 v_11); unbounded when |first| / se <= z) and the "
    "delta method's ((v_kk - 2 r v_1k + r^2 v_11) / first^2); share_stable when the wave-1 "
    "t interval excludes 0. Return rates among wave-1 completers; differential return: "
    "returned ~ frame on the two arms, HC2 SE, n - 2 df, p < alpha (uncorrected).",
    "Fieller (1954) JRSS B 16:175-185; Zellner (1962) JASA 57:348-368; Bell & McCaffrey "
    "(2002) Survey Methodology 28:169-181; estimatr::difference_in_means, "
    "lm_robust(clusters = id, se_type = 'CR2'), lm_robust(se_type = 'HC2').",
)


def share_remaining(
    first: float,
    later: float,
    var_first: float,
    var_later: float,
    covariance: float,
    *,
    alpha: float = 0.05,
) -> dict[str, float | bool | None]:
    """The later effect as a share of the first, with Fieller's and the delta method's intervals.

    Parameters
    ----------
    first, later : float
        The wave-1 effect and the later wave's effect (same units, same participants).
    var_first, var_later : float
        Their variances (squared standard errors).
    covariance : float
        Their covariance (both are estimated on the same participants).
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.

    Returns
    -------
    dict
        * ``share``: ``later / first``
        * ``conf_low``, ``conf_high``: Fieller's interval (None when it is unbounded)
        * ``bounded``: whether ``|first| / se(first) > z``, i.e. whether the wave-1
          effect's normal interval excludes 0 (exactly when Fieller's is bounded)
        * ``std_error``: the delta-method standard error of the share
        * ``delta_low``, ``delta_high``: the delta-method interval ``share +/- z se``

    Notes
    -----
    Fieller: the shares r with ``(later - r first)^2 <= z^2 (var_later - 2 r covariance
    + r^2 var_first)``, ``z = Phi^-1(1 - alpha/2)``: the roots of ``a r^2 + b r + c = 0``
    with ``a = first^2 - z^2 var_first``, ``b = -2 (first later - z^2 covariance)``,
    ``c = later^2 - z^2 var_later``. The set is a bounded interval only when ``a > 0``.
    It inverts an exact test for normal estimates, so it keeps its coverage when the
    wave-1 effect is imprecise, where the delta method's symmetric interval does not
    (in simulations of tests/analysis/waves_dgp.py with 60 to 250 per arm, the delta
    interval covered 96-99% for a nominal 95%, Fieller's about 95%); the report shows
    Fieller's.

    Delta method: with ``r = later / first`` and gradient ``(-r / first, 1 / first)``,
    ``Var(r) = (var_later - 2 r covariance + r^2 var_first) / first^2``.

    When the first effect's interval includes 0 the share has no bounded interval: a
    share of an effect that may be nothing means nothing, and the report says so.

    References
    ----------
    Fieller, E. C. (1954). Some problems in interval estimation. Journal of the Royal
    Statistical Society B, 16(2), 175-185.
    Franz, V. H. (2007). Ratios: A short guide to confidence limits and proper use.
    arXiv:0710.2024.
    Oehlert, G. W. (1992). A note on the delta method. The American Statistician, 46(1),
    27-29.

    Examples
    --------
    >>> s = share_remaining(0.6, 0.3, 0.01, 0.01, 0.004)
    >>> round(s["share"], 3), round(s["conf_low"], 3), round(s["conf_high"], 3), s["bounded"]
    (0.5, 0.193, 0.831, True)
    >>> round(s["std_error"], 4)
    0.1537
    >>> share_remaining(0.1, 0.3, 0.01, 0.01, 0.0)["conf_low"] is None
    True
    """
    z = float(stats.norm.ppf(1 - alpha / 2))
    r = later / first
    var = (var_later - 2 * r * covariance + r**2 * var_first) / first**2
    se = float(np.sqrt(max(var, 0.0)))
    a = first**2 - z**2 * var_first
    b = -2 * (first * later - z**2 * covariance)
    c = later**2 - z**2 * var_later
    low = high = None
    if a > 0:
        root = float(np.sqrt(max(b**2 - 4 * a * c, 0.0)))
        low, high = (-b - root) / (2 * a), (-b + root) / (2 * a)
    return {
        "share": float(r),
        "conf_low": low,
        "conf_high": high,
        "bounded": bool(a > 0),
        "std_error": se,
        "delta_low": float(r - z * se),
        "delta_high": float(r + z * se),
    }


def _covariance(y1: np.ndarray, yk: np.ndarray, treated: np.ndarray) -> float:
    """CR2 covariance of the two differences in means (see :func:`wave_effects`)."""
    total = 0.0
    for group in (treated, ~treated):
        a, b = y1[group], yk[group]
        total += float(np.sum((a - a.mean()) * (b - b.mean())) / (a.size - 1) / a.size)
    return total


def wave_effects(
    df: pd.DataFrame,
    outcome: str,
    later: str,
    arm: str,
    control: object,
    *,
    returned: str,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Each frame's effect at wave 1 and at a later wave, on the same participants.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per participant eligible for the later wave (who completed wave 1).
    outcome : str
        The wave-1 outcome column (``support``).
    later : str
        The same item's column at the later wave (``w2_support``).
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    returned : str
        The later wave's 0/1 column: 1 when the participant completed it.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        One row per frame, estimated on the participants of that frame and the control
        who returned (``returned == 1``) and answered both times:

        * ``outcome``, ``later``, ``arm``: the columns and the frame compared
        * ``n_control``, ``n_treatment``: those participants in the control and the frame
        * ``first_estimate``, ``first_std_error``, ``first_df``, ``first_p_value``,
          ``first_conf_low``, ``first_conf_high``: the wave-1 effect among them
        * ``estimate``, ``std_error``, ``statistic``, ``df``, ``p_value``, ``conf_low``,
          ``conf_high``: the later wave's effect (outcome units)
        * ``covariance``, ``correlation``: of the two estimates
        * ``share``, ``share_conf_low``, ``share_conf_high``: the later effect as a share
          of the wave-1 effect, with Fieller's interval (None when unbounded)
        * ``share_std_error``, ``share_delta_low``, ``share_delta_high``: the share's
          delta-method standard error and interval
        * ``share_stable``: False when the wave-1 effect's interval includes 0 (the
          share is then not meaningful)

    Notes
    -----
    Each effect is :func:`analysis.estimators.difference_in_means` (HC2 standard error,
    Welch-Satterthwaite df; what ``estimatr::difference_in_means`` and, for the standard
    error, ``lm_robust(se_type = "HC2")`` give), unblocked. Both use the same
    participants, so the wave-1 effect here may differ from the whole sample's: the
    share compares like with like. Their covariance is that of the stacked regression
    ``y ~ 0 + wave + wave:frame`` with standard errors clustered by participant, CR2
    (``estimatr::lm_robust(clusters = id, se_type = "CR2")``). Each participant's two
    rows have leverage ``1 / n_g`` in their own equation and none across, so CR2 is,
    in closed form, ``cov = sum_g s_{1k,g} / n_g`` over frame and control, with
    ``s_{1k,g}`` the sample covariance (n - 1) of the two answers in group g; the
    variances are the HC2 ones. The share's intervals are those of
    :func:`share_remaining`; ``share_stable`` uses the wave-1 interval shown (t), which
    is wider than the normal one, so a stable share always has a bounded Fieller interval.

    References
    ----------
    Zellner, A. (1962). An efficient method of estimating seemingly unrelated regressions.
    JASA, 57(298), 348-368.
    Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
    regression with multi-stage samples. Survey Methodology, 28(2), 169-181.
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 7 (attrition). Norton.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c", "t"] * 5, "y": [1, 3, 2, 4, 1, 5, 2, 3, 1, 4],
    ...                   "w2_y": [1, 2, 2, 3, 1, 4, 1, 3, 2, 3], "w2_returned": [1] * 8 + [0, 0]})
    >>> r = wave_effects(d, "y", "w2_y", "arm", "c", returned="w2_returned")
    >>> r[["first_estimate", "estimate", "share"]].round(4).values.tolist()
    [[2.25, 1.75, 0.7778]]
    >>> int(r.loc[0, "n_control"]), int(r.loc[0, "n_treatment"])
    (4, 4)
    """
    require_columns(df, [outcome, later, arm, returned])
    back = numeric_column(df, returned, "return flag")
    seen = back[~np.isnan(back)]
    if not np.all(np.isin(seen, [0.0, 1.0])):
        raise ValueError(f"column {returned!r}: expected 1 (returned) or 0, got {seen[0]!r}")
    y1, yk = numeric_column(df, outcome), numeric_column(df, later)
    labels = arm_labels(df, arm)
    keep = (back == 1) & ~np.isnan(y1) & ~np.isnan(yk) & (labels != None)  # noqa: E711
    same = pd.DataFrame({"arm": labels[keep], "first": y1[keep], "later": yk[keep]})
    control = str(control)
    rows = []
    for a in treatment_arms(same["arm"].to_numpy(dtype=object), control):
        pair = same[same["arm"].isin([a, control])]
        first = difference_in_means(pair, "first", "arm", control, alpha=alpha).iloc[0]
        wave = difference_in_means(pair, "later", "arm", control, alpha=alpha).iloc[0]
        treated = (pair["arm"] == a).to_numpy()
        cov = _covariance(pair["first"].to_numpy(), pair["later"].to_numpy(), treated)
        se1, sek = float(first["std_error"]), float(wave["std_error"])
        share = share_remaining(
            float(first["estimate"]), float(wave["estimate"]), se1**2, sek**2, cov, alpha=alpha
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = cov / (se1 * sek)
        rows.append(
            {
                "outcome": outcome,
                "later": later,
                "arm": a,
                "n_control": int(wave["n_control"]),
                "n_treatment": int(wave["n_treatment"]),
                **{f"first_{k}": float(first[k]) for k in _FIRST},
                **{k: float(wave[k]) for k in ("estimate", "std_error", "statistic", "df")},
                **{k: float(wave[k]) for k in ("p_value", "conf_low", "conf_high")},
                "covariance": cov,
                "correlation": float(corr),
                "share": share["share"],
                "share_conf_low": share["conf_low"],
                "share_conf_high": share["conf_high"],
                "share_std_error": share["std_error"],
                "share_delta_low": share["delta_low"],
                "share_delta_high": share["delta_high"],
                "share_stable": bool(
                    share["bounded"] and not first["conf_low"] <= 0 <= first["conf_high"]
                ),
            }
        )
    if not rows:
        raise ValueError(
            f"{later!r}: no frame has participants who returned alongside control {control!r}"
        )
    return pd.DataFrame(rows)


def return_rates(
    df: pd.DataFrame,
    returned: str,
    arm: str,
    control: object,
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Share of each arm that returned for a wave, and each frame's difference from control.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per participant eligible for the wave (who completed wave 1).
    returned : str
        The wave's 0/1 column (1: completed the wave); rows where it is empty are not
        counted (not eligible).
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        One row per arm, the control first:

        * ``arm``: the arm
        * ``eligible``: participants of the arm who could return
        * ``returned``: of them, those who completed the wave
        * ``return_rate``: ``returned / eligible`` (a share, 0 to 1)
        * ``difference``: the frame's return rate minus the control's (None for the control)
        * ``std_error``, ``statistic``, ``df``, ``p_value``, ``conf_low``, ``conf_high``:
          its HC2 standard error, t test and ``1 - alpha`` interval
        * ``differential``: whether ``p_value < alpha`` (the frame's readers returned
          more or less often than the control's)

    Notes
    -----
    The linear probability model ``returned ~ 1 + frame`` on the frame's and the
    control's participants, with HC2 standard errors and ``n - 2`` df, as
    ``estimatr::lm_robust(returned ~ arm, se_type = "HC2")`` on those two arms. The
    p-value is not corrected for testing several frames: a warning is better given too
    often than missed. When both arms returned all or none, the test is undefined (NaN).

    References
    ----------
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 7 (attrition). Norton.
    MacKinnon, J. G., & White, H. (1985). Journal of Econometrics, 29(3), 305-325 (HC2).

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c"] * 10 + ["t"] * 10,
    ...                   "w2_returned": [1] * 8 + [0] * 2 + [1] * 3 + [0] * 7})
    >>> r = return_rates(d, "w2_returned", "arm", "c")
    >>> r[["arm", "eligible", "returned", "return_rate", "differential"]].values.tolist()
    [['c', 10, 8, 0.8, None], ['t', 10, 3, 0.3, True]]
    """
    require_columns(df, [returned, arm])
    back = numeric_column(df, returned, "return flag")
    seen = back[~np.isnan(back)]
    if not np.all(np.isin(seen, [0.0, 1.0])):
        raise ValueError(f"column {returned!r}: expected 1 (returned) or 0, got {seen[0]!r}")
    labels = arm_labels(df, arm)
    keep = ~np.isnan(back) & (labels != None)  # noqa: E711
    labels, back = labels[keep], back[keep]
    control = str(control)
    if not np.any(labels == control):
        raise ValueError(f"{returned!r}: no participant of control {control!r} could return")
    rows = []
    for a in [control, *treatment_arms(labels, control)]:
        mine = back[labels == a]
        row = {"arm": a, "eligible": int(mine.size), "returned": int(mine.sum())}
        row["return_rate"] = float(mine.mean()) if mine.size else None
        if a != control:
            row.update(_difference(back, labels, a, control, alpha))
        rows.append(row)
    columns = ["arm", "eligible", "returned", "return_rate", "difference", "std_error"]
    columns += ["statistic", "df", "p_value", "conf_low", "conf_high", "differential"]
    out = pd.DataFrame(rows, columns=columns).astype({"differential": object})
    out["differential"] = [r.get("differential") for r in rows]
    return out


def _difference(back: np.ndarray, labels: np.ndarray, a: str, control: str, alpha: float) -> dict:
    pair = (labels == a) | (labels == control)
    y, t = back[pair], (labels[pair] == a).astype(float)
    difference = float(y[t == 1].mean() - y[t == 0].mean()) if t.any() else None
    if not 0 < y.mean() < 1 or min(t.sum(), (1 - t).sum()) < 2:
        return {"difference": difference, "differential": None}
    fit = ols_hc2(np.column_stack([np.ones(t.size), t]), y, ["(Intercept)", a])
    s = t_summary(fit.coef[1], fit.std_error[1], fit.df_resid, alpha)
    return {
        "difference": float(fit.coef[1]),
        "std_error": float(fit.std_error[1]),
        "df": float(fit.df_resid),
        **{k: float(s[k]) for k in ("statistic", "p_value", "conf_low", "conf_high")},
        "differential": bool(s["p_value"] < alpha),
    }
