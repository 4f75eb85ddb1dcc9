"""Ordinary least squares with HC2 heteroskedasticity-robust standard errors.

This is the numerical core every regression-based estimator in ``analysis`` uses
(``lin``, ``ancova``, ``change_score``, ``omnibus``, and the diagnostics and
heterogeneity modules). It works on plain float arrays: no formula machinery,
no pandas, so it is also the fast path for large exports.

HC2 (MacKinnon & White 1985) scales each squared residual by ``1 / (1 - h_ii)``
where ``h_ii`` is the leverage of observation *i*::

    V = (X'X)^-1 X' diag(e_i^2 / (1 - h_ii)) X (X'X)^-1

With any factorisation ``X = Q R`` where Q has orthonormal columns this is
``R^-1 (Q' W Q) R^-T`` with ``W = diag(e_i^2 / (1 - h_ii))`` and
``h_ii = sum_j Q_ij^2``. Q comes from a Cholesky factor of the column-equilibrated
``X'X`` when that is well conditioned (fast: two BLAS-3 products), and from a
Householder QR otherwise (stable; also names collinear columns).
Degrees of freedom are ``n - k`` as in estimatr's ``lm_robust``.

References
----------
MacKinnon, J. G., & White, H. (1985). Some heteroskedasticity-consistent
covariance matrix estimators with improved finite sample properties. Journal of
Econometrics, 29(3), 305-325.
Blair, G., Cooper, J., Coppock, A., Humphreys, M., & Sonnet, L. (2024). estimatr:
Fast Estimators for Design-Based Inference (R package version 1.0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = [
    "SMALL_SAMPLE",
    "OLSFit",
    "RankDeficientError",
    "bell_mccaffrey_df",
    "check_small_sample",
    "hc2_inference",
    "ols_hc2",
    "t_summary",
    "wald_test",
]

# Degrees of freedom for the t reference of an HC2 coefficient: Bell-McCaffrey's
# Satterthwaite approximation (the default) or estimatr's residual n - k.
SMALL_SAMPLE = ("bell_mccaffrey", "residual")


class RankDeficientError(ValueError):
    """The design matrix is (numerically) rank deficient; names the offending columns."""


@dataclass(frozen=True)
class OLSFit:
    """Result of :func:`ols_hc2`: coefficients, HC2 covariance and residual df."""

    names: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    df_resid: int
    n: int
    # Kept for Bell-McCaffrey degrees of freedom: X = Q r_inv^-1 (Q orthonormal columns).
    q: np.ndarray | None = field(default=None, repr=False, compare=False)
    r_inv: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def std_error(self) -> np.ndarray:
        # Exact zeros (e.g. an arm with no residual variance) can round to -1e-20.
        return np.sqrt(np.maximum(np.diag(self.vcov), 0.0))

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"term {name!r} not in model (terms: {', '.join(self.names)})") from None


def ols_hc2(X: np.ndarray, y: np.ndarray, names: Sequence[str] | None = None) -> OLSFit:
    """Fit ``y = X b + e`` by least squares and return HC2 standard errors.

    Parameters
    ----------
    X : (n, k) float array
        Design matrix, including the intercept column if wanted.
    y : (n,) float array
        Outcome.
    names : sequence of str, optional
        Column names; default ``x0, x1, ...``.

    Returns
    -------
    OLSFit
        ``coef`` (k,), ``vcov`` (k, k) HC2, ``df_resid = n - k``.

    Raises
    ------
    RankDeficientError
        If a column of ``X`` is (numerically) a linear combination of the others,
        or there are no residual degrees of freedom.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    >>> fit = ols_hc2(X, np.array([1.0, 2.0, 4.0, 6.0]), ["(Intercept)", "t"])
    >>> round(float(fit.coef[1]), 3)
    3.5
    """
    # Any memory order: LAPACK wants Fortran order, so forcing C order would copy twice.
    X = np.asarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    n, k = X.shape
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(k))
    if len(names) != k:
        raise ValueError(f"names: expected {k} column names, got {len(names)}")
    if n <= k:
        raise RankDeficientError(f"need more observations than coefficients (n={n}, k={k})")
    Q, r_inv = _orthogonalise(X, names)
    qty = Q.T @ y
    coef = r_inv @ qty
    resid = y - Q @ qty
    leverage = np.einsum("ij,ij->i", Q, Q)
    one_minus_h = 1.0 - leverage
    # A leverage of 1 (a unit alone in its cell) makes HC2 undefined, as in estimatr.
    with np.errstate(divide="ignore", invalid="ignore"):
        omega = np.where(one_minus_h > 1e-12, resid**2 / one_minus_h, np.nan)
    meat = (Q.T * omega) @ Q
    vcov = r_inv @ meat @ r_inv.T
    return OLSFit(names=names, coef=coef, vcov=vcov, df_resid=n - k, n=n, q=Q, r_inv=r_inv)


def bell_mccaffrey_df(fit: OLSFit, term: str | int) -> float:
    """Bell-McCaffrey degrees of freedom for one HC2 coefficient of an OLS fit.

    For the coefficient ``b_j = a'y`` with ``a = X (X'X)^-1 e_j`` the HC2 variance is
    ``V = sum_i w_i^2 e_i^2`` with ``w_i = a_i / sqrt(1 - h_ii)``. Under the working
    model of independent homoskedastic normal errors, ``e = (I - H) y`` and ``V`` is a
    quadratic form whose first two moments give the Satterthwaite degrees of freedom::

        nu = (sum_i w_i^2 (1 - h_ii))^2 / sum_{i,l} w_i^2 w_l^2 (I - H)_il^2

    computed as ``sum_i a_i^2`` squared over
    ``sum_i w_i^4 (1 - 2 h_ii) + ||Q' diag(w^2) Q||_F^2`` (``H = QQ'``), which needs
    no n x n matrix. This is ``clubSandwich::coef_test(fit, vcov = "CR2", cluster =
    1:n, test = "Satterthwaite")``: CR2 with every participant its own cluster is
    HC2. With unbalanced arms and unequal variances the residual ``n - k`` makes
    HC2 t tests over-reject; these degrees of freedom keep them near nominal
    (Imbens & Kolesar 2016). NaN when some leverage is 1 (HC2 is then undefined).

    References
    ----------
    Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for
    linear regression with multi-stage samples. Survey Methodology, 28(2), 169-181.
    Imbens, G. W., & Kolesar, M. (2016). Robust standard errors in small samples: Some
    practical advice. Review of Economics and Statistics, 98(4), 701-712.
    Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust
    variance estimation and hypothesis testing in fixed effects models. Journal of
    Business & Economic Statistics, 36(4), 672-683.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> fit = ols_hc2(X, np.array([1.0, 2.0, 4.0, 3.0, 5.0, 9.0]), ["(Intercept)", "t"])
    >>> round(bell_mccaffrey_df(fit, "t"), 6)  # equal arms: the pooled-variance n - 2
    4.0
    """
    if fit.q is None or fit.r_inv is None:
        raise ValueError("fit: Bell-McCaffrey degrees of freedom need a fit from ols_hc2")
    j = fit.index(term) if isinstance(term, str) else int(term)
    Q = fit.q
    a = Q @ fit.r_inv[j]
    one_minus_h = 1.0 - np.einsum("ij,ij->i", Q, Q)
    if np.any(one_minus_h <= 1e-12):
        return float("nan")
    w2 = a**2 / one_minus_h
    num = float(np.sum(a**2)) ** 2
    qwq = (Q * w2[:, None]).T @ Q  # n k^2, like the HC2 meat; no n x n matrix
    den = float(np.sum(w2**2 * (1.0 - 2.0 * (1.0 - one_minus_h)))) + float(np.sum(qwq**2))
    return num / den if den > 0 else float("nan")


# Above this condition number of the column-scaled X'X, Cholesky would lose more than
# ~1e-8 relative accuracy; such designs take the (slower, stabler) QR path.
_CHOLESKY_MAX_COND = 1e8


def _orthogonalise(X: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``Q`` (n x k, orthonormal columns spanning X) and ``M`` with ``X = Q M^-1``.

    Fast path: Cholesky of the column-equilibrated cross-product ``S X'X S = R'R``, then
    ``Q = X S R^-1`` -- two BLAS-3 products, about half the work of Householder QR
    with an explicit Q. Well-conditioned designs (dummies, centred covariates) take
    it; ill-conditioned or rank-deficient ones fall back to QR, which also names the
    collinear columns.
    """
    xtx = X.T @ X
    scale = np.sqrt(np.diag(xtx))
    if np.all(scale > 0):
        a = xtx / np.outer(scale, scale)
        # numpy's LAPACK for the k x k work: mixing in scipy's separate OpenBLAS pool made
        # tiny solves take milliseconds on a busy machine (thread hand-off between pools).
        if np.linalg.cond(a) < _CHOLESKY_MAX_COND:
            try:
                upper = np.linalg.cholesky(a).T
            except np.linalg.LinAlgError:
                upper = None
            if upper is not None:
                m = np.linalg.inv(upper) / scale[:, None]
                return X @ m, m
    Q, R = np.linalg.qr(X, mode="reduced")
    diag = np.abs(np.diag(R))
    # Same relative tolerance idea as R's lm (1e-7 of the largest pivot).
    tol = 1e-7 * max(float(diag.max(initial=0.0)), 1.0)
    bad = [names[j] for j in range(len(names)) if diag[j] <= tol]
    if bad:
        raise RankDeficientError(
            "design matrix is rank deficient; collinear or constant columns: " + ", ".join(bad)
        )
    return Q, np.linalg.inv(R)


def check_small_sample(small_sample: str) -> str:
    """Return ``small_sample`` if it is a known choice, else raise ValueError."""
    if small_sample not in SMALL_SAMPLE:
        raise ValueError(
            f"small_sample: expected one of {', '.join(SMALL_SAMPLE)}, got {small_sample!r}"
        )
    return small_sample


def hc2_inference(fit: OLSFit, j: int, alpha: float, small_sample: str) -> dict:
    """t inference for HC2 coefficient ``j`` with the chosen degrees of freedom.

    ``df`` (and ``statistic, p_value, conf_low, conf_high``) use Bell-McCaffrey
    degrees of freedom when ``small_sample == "bell_mccaffrey"``, else the residual
    ``n - k``; the estimatr-compatible residual-df figures are always kept in
    ``df_residual, p_value_residual, conf_low_residual, conf_high_residual``.
    """
    est, se = float(fit.coef[j]), float(fit.std_error[j])
    dof = bell_mccaffrey_df(fit, j) if small_sample == "bell_mccaffrey" else float(fit.df_resid)
    s = t_summary(est, se, dof, alpha)
    r = t_summary(est, se, fit.df_resid, alpha)
    return {
        "estimate": est,
        "std_error": se,
        "statistic": float(s["statistic"]),
        "df": float(dof),
        "p_value": float(s["p_value"]),
        "conf_low": float(s["conf_low"]),
        "conf_high": float(s["conf_high"]),
        "small_sample": small_sample,
        "df_residual": float(fit.df_resid),
        "p_value_residual": float(r["p_value"]),
        "conf_low_residual": float(r["conf_low"]),
        "conf_high_residual": float(r["conf_high"]),
    }


def t_summary(
    estimate: np.ndarray | float,
    std_error: np.ndarray | float,
    df: np.ndarray | float,
    alpha: float,
) -> dict[str, np.ndarray]:
    """t statistic, two-sided p-value and ``1 - alpha`` interval; ``df = inf`` gives z."""
    estimate = np.asarray(estimate, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    df = np.asarray(df, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / std_error
    dist_df = np.where(np.isfinite(df), df, np.inf)
    p_value = 2.0 * stats.t.sf(np.abs(statistic), dist_df)
    crit = stats.t.ppf(1.0 - alpha / 2.0, dist_df)
    return {
        "statistic": statistic,
        "p_value": p_value,
        "conf_low": estimate - crit * std_error,
        "conf_high": estimate + crit * std_error,
    }


def wald_test(fit: OLSFit, terms: Sequence[str]) -> dict[str, float]:
    """HC2 Wald test that the coefficients named in ``terms`` are all zero.

    Returns the chi-square form (``statistic``, ``df``, ``p_value``) and the F form
    (``f_statistic = statistic / q`` on ``(q, df_resid)`` degrees of freedom), which
    are what ``lmtest::waldtest(vcov = vcovHC(type = "HC2"), test = "Chisq" | "F")``
    report.
    """
    idx = [fit.index(t) for t in terms]
    b = fit.coef[idx]
    v = fit.vcov[np.ix_(idx, idx)]
    q = len(idx)
    statistic = float(b @ np.linalg.solve(v, b))
    f_statistic = statistic / q
    return {
        "statistic": statistic,
        "df": float(q),
        "p_value": float(stats.chi2.sf(statistic, q)),
        "f_statistic": f_statistic,
        "df_num": float(q),
        "df_denom": float(fit.df_resid),
        "f_p_value": float(stats.f.sf(f_statistic, q, fit.df_resid)),
    }
