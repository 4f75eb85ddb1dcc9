"""REML and Knapp–Hartung for :mod:`analysis.meta` and :mod:`analysis.meta_moderator` (private).

The model and its formulas are in :mod:`analysis.meta`'s docstring.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

_TOL = 1e-12
_MAXITER = 1000


def check_studies(
    yi: Sequence[float], vi: Sequence[float], p: int
) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise ValueError(
            f"yi, vi: expected two sequences of the same length, got {y.shape} and {v.shape}"
        )
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise ValueError("yi, vi: every estimate and variance must be a finite number")
    if np.any(v <= 0):
        raise ValueError("vi: every sampling variance must be positive")
    if y.size < p + 1:
        raise ValueError(f"yi: expected at least {p + 1} studies, got {y.size}")
    return y, v


def _p_matrix(v: np.ndarray, tau2: float, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = 1.0 / (v + tau2)
    W = np.diag(w)
    xtwx_inv = np.linalg.inv(X.T @ W @ X)
    P = W - W @ X @ xtwx_inv @ X.T @ W
    return P, xtwx_inv


def _reml_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """REML τ² by Fisher scoring from the Hedges (method-of-moments) start, truncated at 0."""
    k, p = X.shape
    # Hedges' unweighted moment estimator as the start, like metafor.
    beta_ols = np.linalg.lstsq(X, y, rcond=None)[0]
    resid = y - X @ beta_ols
    H = X @ np.linalg.pinv(X)
    tau2 = max(0.0, (resid @ resid - np.sum(v * (1 - np.diag(H)))) / (k - p))
    for _ in range(_MAXITER):
        P, _ = _p_matrix(v, tau2, X)
        Py = P @ y
        score = Py @ Py - np.trace(P)
        info = np.sum(P * P.T)
        step = score / info
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < _TOL:
            return new
        tau2 = new
    raise ValueError("tau2: REML did not converge (Fisher scoring, 1000 iterations)")


def fit(y: np.ndarray, v: np.ndarray, X: np.ndarray, alpha: float) -> dict[str, object]:
    k, p = X.shape
    tau2 = _reml_tau2(y, v, X)
    _, xtwx_inv = _p_matrix(v, tau2, X)
    w = 1.0 / (v + tau2)
    beta = xtwx_inv @ X.T @ (w * y)
    resid = y - X @ beta
    s2 = float(np.sum(w * resid**2) / (k - p))
    vb = s2 * xtwx_inv
    se = np.sqrt(np.diag(vb))
    df = k - p
    crit = stats.t.ppf(1 - alpha / 2, df)
    # Heterogeneity: Cochran's Q on fixed-effect weights and the typical within variance.
    P0, xtwx0_inv = _p_matrix(v, 0.0, X)
    w0 = 1.0 / v
    beta0 = xtwx0_inv @ X.T @ (w0 * y)
    q = float(np.sum(w0 * (y - X @ beta0) ** 2))
    typical = (k - p) / float(np.trace(P0))
    i2 = 100.0 * tau2 / (tau2 + typical)
    return {
        "tau2": tau2,
        "beta": beta,
        "vb": vb,
        "se": se,
        "df": df,
        "crit": crit,
        "q": q,
        "q_p_value": float(stats.chi2.sf(q, k - p)),
        "i2": i2,
        "h2": 1.0 / (1.0 - i2 / 100.0),
    }
