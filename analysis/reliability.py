"""Scale reliability (re-exported by :mod:`analysis.diagnostics`).

``cronbach_alpha(df, items, *, alpha=0.05) -> DataFrame``
(n, n_items, alpha, std_alpha, conf_low, conf_high).
``omega_total(df, items) -> DataFrame`` (n, n_items, omega_total, heywood).
``scale_reliability(df, scales, *, alpha=0.05) -> DataFrame``: both for each scale of
the plan, one row per scale with ``low`` set below :data:`LOW_RELIABILITY`.

Examples
--------
>>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
>>> scale_reliability(d, {"s": ["a", "b", "c"]})[["scale", "n", "cronbach_alpha", "low"]].round(4)
  scale  n  cronbach_alpha    low
0     s  5          0.9538  False
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._data import numeric_column, require_columns

__all__ = ["LOW_RELIABILITY", "cronbach_alpha", "omega_total", "scale_reliability"]

# Below this alpha or omega a scale's items hardly measure one thing (a common rule of
# thumb for short attitude scales; Nunnally's 0.7 is the stricter one).
LOW_RELIABILITY = 0.6


def cronbach_alpha(df: pd.DataFrame, items: Sequence[str], *, alpha: float = 0.05) -> pd.DataFrame:
    """Cronbach's alpha of a scale, with Feldt's confidence interval.

    Parameters
    ----------
    df : DataFrame
        One row per respondent.
    items : sequence of str
        At least two item columns, reverse-coded where needed.
    alpha : float, default 0.05
        1 - confidence level of Feldt's interval (not Cronbach's alpha).

    Returns
    -------
    DataFrame
        One row: ``n`` (complete respondents), ``n_items``, ``alpha`` (raw Cronbach's
        alpha), ``std_alpha`` (from the mean inter-item correlation), ``conf_low``,
        ``conf_high`` (Feldt's interval); all coefficients unitless, at most 1.

    Notes
    -----
    On complete cases over ``items`` (k items, n respondents):
    ``alpha = k / (k - 1) * (1 - sum(var_i) / var(total))``;
    standardized alpha ``= k r / (1 + (k - 1) r)`` with r the mean inter-item
    correlation. Feldt (1965) interval:
    ``1 - (1 - alpha) F_{1-a/2}`` and ``1 - (1 - alpha) F_{a/2}`` with
    F on ``(n - 1, (n - 1)(k - 1))`` df. Reverse-code items before calling.

    R equivalent: ``psych::alpha(d[items])`` (``raw_alpha``, ``std.alpha``,
    ``feldt``; psych uses pairwise deletion, identical on complete data).

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334. Feldt, L. S. (1965). Psychometrika 30, 357-370.
    Revelle, W. psych: Procedures for Psychological Research (R package), ``alpha``.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(float(cronbach_alpha(d, ["a", "b", "c"])["alpha"].iloc[0]), 4)
    0.9538
    """
    if len(items) < 2:
        raise ValueError(f"items: expected at least 2 item columns, got {list(items)}")
    require_columns(df, items, "item")
    X = _complete(df, items)
    n, k = X.shape
    item_var = X.var(axis=0, ddof=1)
    total_var = X.sum(axis=1).var(ddof=1)
    raw = k / (k - 1) * (1.0 - item_var.sum() / total_var)
    corr = np.corrcoef(X, rowvar=False)
    r_bar = (corr.sum() - k) / (k * (k - 1))
    std_alpha = k * r_bar / (1.0 + (k - 1) * r_bar)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return pd.DataFrame(
        {
            "n": [n],
            "n_items": [k],
            "alpha": [float(raw)],
            "std_alpha": [float(std_alpha)],
            "conf_low": [float(1.0 - (1.0 - raw) * stats.f.ppf(1.0 - alpha / 2.0, df1, df2))],
            "conf_high": [float(1.0 - (1.0 - raw) * stats.f.ppf(alpha / 2.0, df1, df2))],
        }
    )


def omega_total(df: pd.DataFrame, items: Sequence[str], *, tol: float = 1e-13) -> pd.DataFrame:
    """McDonald's omega total from a one-factor minimum-residual model of the item correlations.

    Parameters
    ----------
    df : DataFrame
        One row per respondent.
    items : sequence of str
        At least two item columns, reverse-coded where needed.
    tol : float, default 1e-13
        Convergence of the communalities in the iterated principal axes.

    Returns
    -------
    DataFrame
        One row: ``n`` (complete respondents), ``n_items``, ``omega_total`` (unitless,
        at most 1) and ``heywood`` (True when a communality reached 1: psi = 0, the
        solution is at the boundary).

    Notes
    -----
    On complete cases over ``items`` (k items, correlation matrix R), a one-factor
    model ``R = l l' + diag(psi)`` is fitted by minimum residuals (unweighted least
    squares on the off-diagonal correlations; iterated principal axes from the
    squared multiple correlations, which converge to the minres solution), and

    ``omega_t = 1 - sum(psi) / 1'R1``,  ``psi_i = 1 - l_i^2``

    -- ``psych::omega(d[items], nfactors = 1)$omega.tot`` (psych's estimator: the
    model's uniquenesses against the total variance of the standardized sum score).
    With two items the one-factor model is not identified; equal loadings
    ``l_i = sqrt(r)`` are used (tau-equivalence), which gives the Spearman-Brown
    ``2r / (1 + r)``, the standardized alpha.

    References
    ----------
    McDonald, R. P. (1999). Test Theory: A Unified Treatment. Erlbaum, ch. 6.
    Revelle, W., & Zinbarg, R. E. (2009). Coefficients alpha, beta, omega, and the glb.
    Psychometrika, 74(1), 145-154.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 5, 3],
    ...                   "c": [1, 3, 3, 4, 4, 2]})
    >>> round(float(omega_total(d, ["a", "b", "c"])["omega_total"].iloc[0]), 4)
    0.9494
    """
    X = _complete(df, items)
    n, k = X.shape
    R = np.corrcoef(X, rowvar=False)
    heywood = False
    if k == 2:
        r = R[0, 1]
        h2 = np.full(2, max(r, 0.0))
    else:
        h2 = 1.0 - 1.0 / np.diag(np.linalg.inv(R))  # squared multiple correlations
        for _ in range(100_000):
            reduced = R.copy()
            np.fill_diagonal(reduced, h2)
            values, vectors = np.linalg.eigh(reduced)
            loading = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
            new = np.minimum(loading**2, 1.0)
            done = np.max(np.abs(new - h2)) < tol
            h2 = new
            if done:
                break
        else:  # pragma: no cover - a one-factor fit of a correlation matrix converges
            raise ArithmeticError("omega_total: the one-factor fit did not converge")
        heywood = bool(np.any(h2 >= 1.0 - 1e-9))
    omega = 1.0 - float(np.sum(1.0 - h2)) / float(R.sum())
    return pd.DataFrame({"n": [n], "n_items": [k], "omega_total": [omega], "heywood": [heywood]})


def _complete(df: pd.DataFrame, items: Sequence[str]) -> np.ndarray:
    if len(items) < 2:
        raise ValueError(f"items: expected at least 2 item columns, got {list(items)}")
    require_columns(df, items, "item")
    X = np.column_stack([numeric_column(df, c, "item") for c in items])
    X = X[~np.isnan(X).any(axis=1)]
    if len(X) < 3:
        raise ValueError(f"items: expected at least 3 complete responses, got {len(X)}")
    constant = [c for c, v in zip(items, np.ptp(X, axis=0), strict=True) if v == 0]
    if constant:
        raise ValueError(
            f"item {constant[0]!r} has the same answer from everyone; reliability needs "
            "items that vary"
        )
    return X


def scale_reliability(
    df: pd.DataFrame, scales: Mapping[str, Sequence[str]], *, alpha: float = 0.05
) -> pd.DataFrame:
    """Alpha (with Feldt's interval) and omega total for each multi-item scale.

    Parameters
    ----------
    df : DataFrame
        One row per respondent.
    scales : mapping str -> sequence of str
        Each scale (its index column) to its item columns.
    alpha : float, default 0.05
        1 - confidence level of Feldt's interval.

    Returns
    -------
    DataFrame
        One row per scale: ``scale``, ``items`` (comma-separated), ``n`` (complete
        respondents), ``n_items``, ``cronbach_alpha``, ``std_alpha``, ``conf_low``,
        ``conf_high`` (of alpha), ``omega_total``, ``heywood`` and ``low`` (True when
        alpha or omega is below :data:`LOW_RELIABILITY`, 0.6).

    Notes
    -----
    :func:`cronbach_alpha` and :func:`omega_total` on each scale's complete cases. A
    scale whose items cannot be assessed (fewer than three complete responses, an item
    without variance) raises ValueError naming the scale.

    References
    ----------
    Cronbach (1951); Feldt (1965); McDonald (1999), ch. 6; R ``psych::alpha``,
    ``psych::omega`` (Revelle).

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> scale_reliability(d, {"s": ["a", "b", "c"]})["low"].tolist()
    [False]
    """
    rows = []
    for scale, items in scales.items():
        try:
            a = cronbach_alpha(df, list(items), alpha=alpha).iloc[0]
            o = omega_total(df, list(items)).iloc[0]
        except ValueError as exc:
            raise ValueError(f"scale {scale!r}: {exc}") from None
        rows.append(
            {
                "scale": scale,
                "items": ", ".join(items),
                "n": int(a["n"]),
                "n_items": int(a["n_items"]),
                "cronbach_alpha": float(a["alpha"]),
                "std_alpha": float(a["std_alpha"]),
                "conf_low": float(a["conf_low"]),
                "conf_high": float(a["conf_high"]),
                "omega_total": float(o["omega_total"]),
                "heywood": bool(o["heywood"]),
                "low": bool(min(a["alpha"], o["omega_total"]) < LOW_RELIABILITY),
            }
        )
    return pd.DataFrame(rows)
