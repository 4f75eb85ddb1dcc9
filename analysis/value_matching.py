"""Value matching (moral reframing): does a frame persuade more those who hold its value?

``value_match`` estimates, per value-tagged frame arm, how its effect changes with the
participant's pre-treatment score on that frame's value, and a pooled estimate across
arms (Feinberg & Willer 2015, 2019). Rows with a missing value in any column used are
dropped (complete cases per analysis).

Examples
--------
>>> rng = np.random.default_rng(4)
>>> d = pd.DataFrame({"arm": np.tile(["control", "care"], 100), "v": rng.normal(size=200)})
>>> d["y"] = (d["arm"] == "care") * d["v"] + rng.normal(size=200)
>>> value_match(d, "y", "arm", "control", {"care": "v"})[["arm", "n_control"]].values.tolist()
[['care', 100], ['pooled', 100]]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis._data import (
    arm_labels,
    check_control,
    numeric_column,
    require_columns,
    treatment_arms,
)
from analysis.guards import check_slope
from analysis.hc import RankDeficientError, ols_hc2
from analysis.heterogeneity import _STATS, _inference

__all__ = ["value_match"]


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
    arm_values : mapping of str to str
        Each value-tagged frame arm -> the column holding participants' pre-treatment
        score on that frame's value (e.g. ``{"care": "pre_scale_care"}``).
    standardize : bool, default False
        Divide each centred score by its SD, so ``estimate`` is per SD of the value.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        One row per arm of ``arm_values`` (``method = "arm_interaction"``), then one pooled
        row (``arm = "pooled"``, ``method = "pooled"``):

        * ``outcome``: the outcome analysed
        * ``arm``: the frame arm, or ``"pooled"``
        * ``value_column``: the value-score column (null on the pooled row)
        * ``method``: ``"arm_interaction"`` or ``"pooled"``
        * ``estimate``: the matched-value interaction ``d``, the change in the frame's
          effect per unit (or SD) of the matching value (outcome units per score unit)
        * ``std_error``: HC2 (per arm) or participant-clustered CR1 (pooled) standard error
        * ``statistic``: t statistic, ``estimate / std_error``
        * ``df``: ``n - 4`` (per arm) or ``G - 1`` clusters (pooled)
        * ``p_value``: two-sided p-value
        * ``conf_low``, ``conf_high``: ``1 - alpha`` confidence interval
        * ``n_control``, ``n_treatment``: control and frame-arm participants used

    Notes
    -----
    ``method = "arm_interaction"`` (one row per arm a): on the rows of arm a and
    control, ``y = b0 + b1 T + b2 v + d_a T v + e`` with ``T = 1[arm = a]`` and
    ``v`` the score on a's value, centred at its mean over those rows (divided by
    its SD too if ``standardize``). ``d_a`` is the change in a's effect per unit
    (or SD) of the matching value; ``b1`` is then the effect at the average
    score. HC2 errors, ``df = n - 4`` (R: ``lm_robust(y ~ T * v, se_type = "HC2")``).

    ``method = "pooled"``: the comparisons are stacked (control rows repeated once per
    comparison s) and ``y = a_s + b_s T + c_s v + d T v + e`` is fitted with
    comparison-specific intercepts, effects and value slopes but one common
    matched-value interaction ``d``, the precision-weighted summary of the ``d_a``.
    Because control participants appear in every comparison, errors are clustered by
    participant (CR1, Stata's small-sample factor ``G/(G-1) (N-1)/(N-K)``,
    ``df = G - 1``; R: ``lm_robust(..., clusters = id, se_type = "stata")``).
    A positive ``d`` supports moral reframing: frames persuade more where they match
    the audience's own values.

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
