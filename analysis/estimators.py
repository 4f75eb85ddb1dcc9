"""The difference in means of each arm versus control, as R's estimatr computes it.

Each estimator of the package compares every treatment arm with the control arm and
returns a tidy DataFrame, one row per arm, with estimatr's columns ``outcome, arm,
method, estimate, std_error, statistic, df, p_value, conf_low, conf_high, n_control,
n_treatment``. Rows with a missing value in any column the estimator uses are dropped
(complete cases per analysis). The regression estimators (Lin, ANCOVA, change score,
the omnibus test) are in :mod:`analysis.regression`.

Examples
--------
>>> d = pd.DataFrame({"y": [1, 2, 3, 4, 6, 8, 2, 3, 4], "arm": ["c"] * 3 + ["t"] * 3 + ["u"] * 3})
>>> difference_in_means(d, "y", "arm", "c")[["arm", "estimate"]].values.tolist()
[['t', 4.0], ['u', 1.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._data import effects_frame, prepare
from analysis.guards import check_effects
from analysis.hc import t_summary

__all__ = ["difference_in_means"]


def _row(
    outcome: str,
    arm: str,
    method: str,
    est: float,
    se: float,
    df: float,
    alpha: float,
    n_c: int,
    n_t: int,
) -> dict:
    return {
        "outcome": outcome,
        "arm": arm,
        "method": method,
        **_inference(est, se, df, alpha),
        "n_control": int(n_c),
        "n_treatment": int(n_t),
    }


def _inference(est: float, se: float, dof: float, alpha: float) -> dict:
    """The estimate's t statistic, p-value and interval, as the effect tables list them."""
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


def _welch(y_t: np.ndarray, y_c: np.ndarray) -> tuple[float, float, float]:
    n_t, n_c = len(y_t), len(y_c)
    v_t, v_c = y_t.var(ddof=1) / n_t, y_c.var(ddof=1) / n_c
    se = np.sqrt(v_t + v_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = se**4 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
    return float(y_t.mean() - y_c.mean()), float(se), float(df)


def _blocked(
    y: np.ndarray,
    treated: np.ndarray,
    blocks: np.ndarray,
    names: np.ndarray,
    arm: str,
    block_col: str,
) -> tuple[float, float, float, str]:
    """estimatr's blocked difference in means (and its matched-pair variant)."""
    codes, block_id = np.unique(blocks, return_inverse=True)
    J = len(codes)
    n_j = np.bincount(block_id, minlength=J).astype(float)
    n_tj = np.bincount(block_id, weights=treated, minlength=J)
    n_cj = n_j - n_tj
    if np.any(n_j == 1):
        raise ValueError(
            f"blocks {block_col!r}: every block needs at least two units (arm {arm!r})"
        )
    if np.any(n_tj == 0) or np.any(n_cj == 0):
        bad = names[codes[(n_tj == 0) | (n_cj == 0)][0]]
        raise ValueError(
            f"blocks {block_col!r}: block {bad!r} lacks units in arm {arm!r} or the control; "
            "each block needs both conditions"
        )
    # estimatr uses the matched-pair variance when any block has exactly two units.
    pair_matched = bool(np.any(n_j == 2))
    if not pair_matched and (np.any(n_tj == 1) or np.any(n_cj == 1)):
        raise ValueError(
            f"blocks {block_col!r}: a block has a single unit in arm {arm!r} or the control; "
            "the blocked estimator needs at least two of each (or a matched-pair design)"
        )
    t = treated.astype(float)
    c = 1.0 - t
    sum_t = np.bincount(block_id, weights=y * t, minlength=J)
    sum_c = np.bincount(block_id, weights=y * c, minlength=J)
    mean_t, mean_c = sum_t / n_tj, sum_c / n_cj
    diff_j = mean_t - mean_c
    w = n_j / n_j.sum()
    est = float(np.sum(w * diff_j))
    if pair_matched:
        se = float(np.sqrt(np.sum((diff_j - est) ** 2) / (J * (J - 1))))
        return est, se, float(J - 1), "matched_pair"
    ss_t = np.bincount(block_id, weights=t * (y - mean_t[block_id]) ** 2, minlength=J)
    ss_c = np.bincount(block_id, weights=c * (y - mean_c[block_id]) ** 2, minlength=J)
    var_j = ss_t / (n_tj - 1) / n_tj + ss_c / (n_cj - 1) / n_cj
    se = float(np.sqrt(np.sum(w**2 * var_j)))
    return est, se, float(n_j.sum() - 2 * J), "blocked"


def difference_in_means(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    blocks: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Difference in means of each arm versus control, as estimatr computes it.

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
    blocks : str, optional
        Column of randomization blocks; gives the blocked (or matched-pair) estimator.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm:

        * ``outcome``: the outcome analysed
        * ``arm``: the treatment arm compared with the control
        * ``method``: ``"difference_in_means"``
        * ``estimate``: mean of the arm minus mean of the control (outcome units)
        * ``std_error``: Neyman/Welch standard error (outcome units)
        * ``statistic``: t statistic, ``estimate / std_error``
        * ``df``: degrees of freedom (see Notes)
        * ``p_value``: two-sided p-value
        * ``conf_low``, ``conf_high``: ``1 - alpha`` confidence interval (outcome units)
        * ``n_control``, ``n_treatment``: participants of the control and the arm used
        * ``design``: ``standard``, ``blocked`` or ``matched_pair``

    Notes
    -----
    Unblocked: ``estimate = mean_t - mean_c`` with ``se = sqrt(s_t^2/n_t + s_c^2/n_c)``
    (identical to HC2 OLS on a treatment dummy) and Welch-Satterthwaite degrees of
    freedom ``df = se^4 / ((s_t^2/n_t)^2/(n_t - 1) + (s_c^2/n_c)^2/(n_c - 1))``.

    With ``blocks``: ``estimate = sum_j (n_j/N) d_j``, the block-size-weighted average
    of within-block differences ``d_j``, with variance
    ``sum_j (n_j/N)^2 (s_tj^2/n_tj + s_cj^2/n_cj)`` and ``df = N - 2J``; when some block
    has only two units the matched-pair variance ``sum_j (d_j - d)^2 / (J (J - 1))``
    with ``df = J - 1`` is used instead.

    Each arm is compared with control on the rows of those two arms only, like
    ``estimatr::difference_in_means(y ~ arm, condition1 = control, condition2 = arm)``.

    References
    ----------
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 3-4. Norton.
    Blair, G., Cooper, J., Coppock, A., Humphreys, M., & Sonnet, L. (2024). estimatr:
    Fast Estimators for Design-Based Inference (R package version 1.0), "Mathematical
    notes" vignette, difference_in_means.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1, 2, 3, 4, 6, 8], "arm": ["c"] * 3 + ["t"] * 3})
    >>> r = difference_in_means(d, "y", "arm", "c")
    >>> r[["estimate", "df", "n_control", "design"]].round(4).values.tolist()
    [[4.0, 2.9412, 3, 'standard']]
    """
    p = prepare(df, outcome, arm, control, blocks=blocks)
    rows = []
    for j, a in enumerate(p.arms, start=1):
        in_pair = (p.codes == j) | (p.codes == 0)
        y = p.y[in_pair]
        treated = p.codes[in_pair] == j
        n_t, n_c = int(treated.sum()), int((~treated).sum())
        if n_t < 2 or n_c < 2:
            raise ValueError(
                f"outcome {outcome!r}: arm {a!r} has {n_t} and control {n_c} participants; "
                "the difference in means needs at least 2 in each"
            )
        if blocks:
            est, se, dof, design = _blocked(y, treated, p.blocks[in_pair], p.block_names, a, blocks)
        else:
            (est, se, dof), design = _welch(y[treated], y[~treated]), "standard"
        row = _row(outcome, a, "difference_in_means", est, se, dof, alpha, n_c, n_t)
        rows.append({**row, "design": design})
    sd = float(np.std(p.y, ddof=1))
    return check_effects(
        effects_frame(rows), outcome=outcome, method="difference_in_means", outcome_sd=sd
    )
