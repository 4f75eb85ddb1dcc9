"""Proportional-odds (cumulative logit) model for ordinal outcomes, as ``ordinal::clm``.

Fitted by Newton-Raphson with the analytic gradient and Hessian and a step-halving
line search; Wald inference from the observed information (what ``summary(clm)``
prints): ``z = b / se``, normal p-values, Wald intervals, ``df`` reported as ``inf``.
Covariates are coded and checked as for :func:`analysis.glm.logit`.

Examples
--------
>>> d = pd.DataFrame({"arm": ["c"] * 6 + ["t"] * 6, "y": [1, 1, 2, 2, 3, 1, 2, 3, 3, 2, 3, 1]})
>>> ordinal_logit(d, "y", "arm", "c")[["arm", "method"]].values.tolist()
[['t', 'ordinal_logit']]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from analysis._data import Levels, Prepared, effects_frame, prepare
from analysis.estimators import _row
from analysis.glm import ConvergenceError, _check_fit, _design, _varying
from analysis.guards import NumericalError, check_information
from analysis.hc import t_summary
from analysis.separation import check_separation

__all__ = ["OrdinalModel", "ordinal_logit", "ordinal_model"]


def _clm_loglik_parts(theta: np.ndarray, beta: np.ndarray, X: np.ndarray, y_idx: np.ndarray):
    """Gradient and Hessian of the proportional-odds log-likelihood.

    ``logit P(Y <= j) = theta_j - x'beta``; parameters ordered (theta, beta).
    """
    n, K1 = len(y_idx), len(theta)
    cut = np.concatenate([[-np.inf], theta, [np.inf]])
    xb = X @ beta
    eta_u = cut[y_idx + 1] - xb
    eta_l = cut[y_idx] - xb
    F_u, F_l = special.expit(eta_u), special.expit(eta_l)
    f_u, f_l = F_u * (1 - F_u), F_l * (1 - F_l)
    d_u, d_l = f_u * (1 - 2 * F_u), f_l * (1 - 2 * F_l)  # derivative of the logistic density
    prob = F_u - F_l
    # A trial step can push a probability to 0; the line search rejects it via -inf.
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = float(np.sum(np.log(prob)))
    # Jacobian of prob w.r.t. (theta, beta); theta_j enters as upper (j = y) or lower (j = y-1).
    k = K1 + X.shape[1]
    J = np.zeros((n, k))
    rows = np.arange(n)
    up = y_idx < K1
    lo = y_idx > 0
    J[rows[up], y_idx[up]] = f_u[up]
    J[rows[lo], y_idx[lo] - 1] = -f_l[lo]
    J[:, K1:] = -X * (f_u - f_l)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        G = J / prob[:, None]
    grad = G.sum(axis=0)
    # Second derivatives of prob, divided by prob, contracted per observation.
    H = -(G.T @ G)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_u, s_l = d_u / prob, d_l / prob
    for j in range(K1):
        mu_ = up & (y_idx == j)
        ml_ = lo & (y_idx - 1 == j)
        H[j, j] += s_u[mu_].sum() - s_l[ml_].sum()
        cross = -(X[mu_] * s_u[mu_, None]).sum(axis=0) + (X[ml_] * s_l[ml_, None]).sum(axis=0)
        H[j, K1:] += cross
        H[K1:, j] += cross
    H[K1:, K1:] += (X * (s_u - s_l)[:, None]).T @ X
    return loglik, grad, H


def ordinal_logit(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
    levels: Levels | None = None,
) -> pd.DataFrame:
    """Proportional-odds (cumulative logit) model; estimate = log odds ratio per arm.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome : str
        Ordinal outcome column (numbers whose order is the scale's).
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    covariates : sequence of str, default ()
        Adjustment columns, coded as in :func:`analysis.glm.logit`.
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm:

        * ``outcome``, ``arm``: the outcome and the arm compared with the control
        * ``method``: ``"ordinal_logit"``
        * ``estimate``: cumulative log odds ratio ``beta`` (log-odds units; positive
          shifts answers towards higher categories)
        * ``std_error``: standard error from the observed information (log-odds units)
        * ``statistic``: Wald z, ``estimate / std_error``
        * ``df``: ``inf`` (normal reference)
        * ``p_value``: two-sided normal p-value
        * ``conf_low``, ``conf_high``: ``1 - alpha`` Wald interval (log-odds units)
        * ``n_control``, ``n_treatment``: participants of the control and the arm used
        * ``covariates``: the covariate columns adjusted for, comma-separated

    Raises
    ------
    SeparationError
        The data are (quasi-)separated.
    NumericalError
        The fit is numerically meaningless (see Notes).

    Notes
    -----
    ``logit P(Y <= j | x) = theta_j - x'beta`` (McCullagh 1980), the parametrisation of
    ``ordinal::clm(factor(y) ~ arm + covariates)``. The thresholds ``theta_j`` are in
    :meth:`OrdinalModel.thresholds` (:func:`ordinal_model` fits once for both). Wald z,
    normal p-values and Wald intervals from the observed information, as
    ``summary(clm)`` prints. Categories are the distinct observed values of the outcome,
    in order, so a scale point nobody chose never leaves a threshold unbounded.

    Numerical honesty: before fitting, a linear program over the recession cone of the
    (concave) log-likelihood decides whether the maximum exists
    (:mod:`analysis.separation`). Without covariates the estimate exists exactly when
    (i) no arm has all its answers in the lowest or the highest category, and (ii) the
    ranges of categories the arms use overlap in a chain that spans every category
    boundary (a control answering 1-2 and an arm answering 2-3 share no boundary, so
    the arm's log odds ratio is unbounded). After fitting, :mod:`analysis.guards`
    refuses ``|estimate| > 20``, a standard error above 1e3 outcome SDs, a non-finite
    value, or a scaled information matrix with condition number above 1e10.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. JRSS B, 42(2), 109-142.
    Christensen, R. H. B. (2023). ordinal: Regression Models for Ordinal Data.
    Pratt, J. W. (1981). Concavity of the log likelihood. JASA, 76(373), 103-106.
    Konis, K. (2007). Linear programming algorithms for detecting separated data in
    binary logistic regression models. DPhil thesis, University of Oxford.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c"] * 6 + ["t"] * 6, "y": [1, 1, 2, 2, 3, 1, 2, 3, 3, 2, 3, 1]})
    >>> r = ordinal_logit(d, "y", "arm", "c")
    >>> r[["arm", "method", "df", "n_treatment"]].values.tolist()
    [['t', 'ordinal_logit', inf, 6]]
    """
    return ordinal_model(df, outcome, arm, control, covariates=covariates, levels=levels).effects(
        alpha
    )


@dataclass(frozen=True)
class OrdinalModel:
    """A fitted proportional-odds model (:func:`ordinal_model`).

    ``params`` are the thresholds (``categories`` - 1 of them) then the arm and
    covariate coefficients ``names``; ``info`` the observed information at the maximum.
    """

    outcome: str
    prepared: Prepared
    categories: np.ndarray
    params: np.ndarray
    info: np.ndarray
    names: tuple[str, ...]
    covariates: tuple[str, ...]

    @property
    def std_error(self) -> np.ndarray:
        return np.sqrt(np.diag(np.linalg.inv(self.info)))

    def effects(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per arm: the log odds ratio (as :func:`ordinal_logit`)."""
        p, K1, se = self.prepared, len(self.categories) - 1, self.std_error
        counts = np.bincount(p.codes, minlength=len(p.arms) + 1)
        rows = [
            {
                **_row(
                    self.outcome,
                    a,
                    "ordinal_logit",
                    self.params[K1 + j],
                    se[K1 + j],
                    np.inf,
                    alpha,
                    int(counts[0]),
                    int(counts[1 + j]),
                ),
                "covariates": ", ".join(self.covariates),
            }
            for j, a in enumerate(p.arms)
        ]
        return _check_fit(effects_frame(rows), self.info, p, self.outcome, "ordinal_logit")

    def thresholds(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per threshold ``theta_j`` (``"1|2"``, ... as ``clm`` names them).

        ``theta_j`` is the log odds of answering category j or lower for a control
        participant whose covariates are all 0 (uncentred, as in ``clm``); Wald
        z inference from the observed information.
        """
        K1, se = len(self.categories) - 1, self.std_error
        s = t_summary(self.params[:K1], se[:K1], np.inf, alpha)
        cats = [f"{c:g}" for c in self.categories]
        return pd.DataFrame(
            {
                "outcome": self.outcome,
                "threshold": [f"{cats[j]}|{cats[j + 1]}" for j in range(K1)],
                "estimate": self.params[:K1],
                "std_error": se[:K1],
                "statistic": s["statistic"],
                "p_value": s["p_value"],
                "conf_low": s["conf_low"],
                "conf_high": s["conf_high"],
                "n": len(self.prepared.y),
                "covariates": ", ".join(self.covariates),
            }
        )


def ordinal_model(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    covariates: Sequence[str] = (),
    levels: Levels | None = None,
) -> OrdinalModel:
    """Fit the proportional-odds model of :func:`ordinal_logit` once.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome : str
        Ordinal outcome column.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    covariates : sequence of str, default ()
        Adjustment columns, coded as in :func:`analysis.glm.logit`.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).

    Returns
    -------
    OrdinalModel
        The fit: ``categories``, ``params`` (the thresholds, then the arm and covariate
        coefficients ``names``) and ``info`` (the observed information). Its
        ``effects(alpha)`` is :func:`ordinal_logit`'s table; ``thresholds(alpha)`` has one
        row per threshold with ``outcome``, ``threshold`` (``"1|2"``, ...), ``estimate``
        (``theta_j``, the log odds of answering j or lower for a control participant
        whose covariates are all 0), ``std_error``, ``statistic`` (Wald z), ``p_value``,
        ``conf_low``, ``conf_high`` (log-odds units), ``n`` and ``covariates``.

    Notes
    -----
    Maximises the log-likelihood ``sum_i log(F(theta_{y_i} - x_i'beta) -
    F(theta_{y_i - 1} - x_i'beta))`` (F the logistic CDF, ``theta_0 = -inf``,
    ``theta_K = inf``) by Newton-Raphson with the analytic Hessian and step halving
    that keeps the thresholds increasing. R:
    ``summary(ordinal::clm(factor(y) ~ arm + covariates))``. Raises as
    :func:`ordinal_logit` does.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. JRSS B, 42(2), 109-142.
    Christensen, R. H. B. (2023). ordinal: Regression Models for Ordinal Data.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["c"] * 6 + ["t"] * 6, "y": [1, 1, 2, 2, 3, 1, 2, 3, 3, 2, 3, 1]})
    >>> ordinal_model(d, "y", "arm", "c").thresholds()["threshold"].tolist()
    ['1|2', '2|3']
    """
    p = _varying(prepare(df, outcome, arm, control, covariates=covariates, levels=levels))
    cats, y_idx = np.unique(p.y, return_inverse=True)
    if len(cats) < 2:
        raise ValueError(f"outcome {outcome!r}: an ordinal outcome needs at least 2 categories")
    check_separation(
        outcome,
        "proportional-odds",
        p.codes,
        [p.control, *p.arms],
        y_idx,
        cats,
        p.extra,
        p.extra_names,
    )
    X, _ = _design(p, intercept=False)
    K1 = len(cats) - 1
    cum = np.cumsum(np.bincount(y_idx, minlength=len(cats)))[:-1] / len(y_idx)
    params = np.concatenate([special.logit(cum), np.zeros(X.shape[1])])
    loglik, grad, H = _clm_loglik_parts(params[:K1], params[K1:], X, y_idx)
    check_information(-H, outcome, "ordinal logit")
    for _ in range(200):
        try:
            step = np.linalg.solve(H, -grad)
        except np.linalg.LinAlgError:
            raise NumericalError(
                f"outcome {outcome!r}: the proportional-odds model's information matrix "
                "became singular during fitting; the model is not reported",
                outcome=outcome,
            ) from None
        t = 1.0
        while True:
            trial = params + t * step
            if np.all(np.diff(trial[:K1]) > 0):
                ll, g, h = _clm_loglik_parts(trial[:K1], trial[K1:], X, y_idx)
                if np.isfinite(ll) and ll >= loglik - 1e-10:
                    break
            t /= 2
            if t < 1e-10:
                raise ConvergenceError(f"outcome {outcome!r}: ordinal logit step failed")
        params, loglik, grad, H = trial, ll, g, h
        if np.max(np.abs(grad)) < 1e-10 and np.max(np.abs(t * step)) < 1e-10:
            break
    else:
        raise ConvergenceError(f"outcome {outcome!r}: ordinal logit did not converge")
    check_information(-H, outcome, "ordinal logit")
    X_names = [f"arm:{a}" for a in p.arms] + list(p.extra_names)
    return OrdinalModel(
        outcome=outcome,
        prepared=p,
        categories=cats,
        params=params,
        info=-H,
        names=tuple(X_names),
        covariates=tuple(covariates),
    )
