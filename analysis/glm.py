"""Logistic regression for binary outcomes, and the likelihood helpers of the ordinal model.

Fitted by Newton-Raphson with the analytic gradient and Hessian; Wald inference from
the observed information (what R's ``glm`` summary prints): ``z = b / se``, normal
p-values and the Wald interval ``b +/- z_{1-alpha/2} se`` (R's ``confint.default``; the
profile intervals of ``confint(glm)`` differ slightly). ``df`` is reported as ``inf``
(null in JSON) because the reference distribution is normal. The proportional-odds
model for ordinal outcomes is in :mod:`analysis.ordinal`.

Examples
--------
>>> d = pd.DataFrame({"y": [0, 1, 0, 1, 1, 1, 0, 1], "arm": ["c"] * 4 + ["t"] * 4})
>>> logit(d, "y", "arm", "c")[["arm", "method", "n_control"]].values.tolist()
[['t', 'logit', 4]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import special

from analysis._data import Levels, Prepared, effects_frame, prepare
from analysis.estimators import _row
from analysis.guards import NumericalError, check_effects, check_information
from analysis.separation import SeparationError, check_separation

__all__ = ["ConvergenceError", "NumericalError", "SeparationError", "logit"]


class ConvergenceError(ValueError):
    """The likelihood maximisation did not converge (e.g. separation)."""


def _varying(p: Prepared) -> Prepared:
    """Drop covariate columns constant in the analysed rows (e.g. a level nobody chose).

    They carry no information and would alias the intercept or thresholds; R's ``glm``
    reports NA for them and ``clm`` drops them, as :func:`analysis.regression.lin` does.
    """
    keep = np.ptp(p.extra, axis=0) > 0 if p.extra.shape[0] else np.ones(p.extra.shape[1], bool)
    if keep.all():
        return p
    names = [n for n, k in zip(p.extra_names, keep, strict=True) if k]
    return replace(p, extra=p.extra[:, keep], extra_names=names)


def _design(p: Prepared, intercept: bool) -> tuple[np.ndarray, list[str]]:
    D = (p.codes[:, None] == np.arange(1, len(p.arms) + 1)).astype(float)
    parts = [D, p.extra] if p.extra.shape[1] else [D]
    names = [f"arm:{a}" for a in p.arms] + list(p.extra_names)
    if intercept:
        parts.insert(0, np.ones((len(p.y), 1)))
        names.insert(0, "(Intercept)")
    return np.hstack(parts), names


def _check_fit(
    frame: pd.DataFrame, info: np.ndarray, p: Prepared, outcome: str, method: str
) -> pd.DataFrame:
    """The post-fit half of the numerical-honesty rule (see :mod:`analysis.guards`)."""
    check_information(info, outcome, method)
    sd = float(np.std(p.y, ddof=1))
    return check_effects(frame, outcome=outcome, method=method, outcome_sd=sd, log_odds=True)


def logit(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
    levels: Levels | None = None,
) -> pd.DataFrame:
    """Logistic regression of a 0/1 outcome on arm dummies; estimate = log odds ratio.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome : str
        Outcome column with values 0 and 1.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    covariates : sequence of str, default ()
        Adjustment columns (text ones, and declared ones, dummy-coded).
    alpha : float, default 0.05
        The intervals have coverage ``1 - alpha``.
    levels : mapping of str to sequence, optional
        Declared level orders (column -> levels, the first is the reference).

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm:

        * ``outcome``, ``arm``: the outcome and the arm compared with the control
        * ``method``: ``"logit"``
        * ``estimate``: log odds ratio of the arm versus the control (log-odds units)
        * ``std_error``: model-based standard error (log-odds units)
        * ``statistic``: Wald z, ``estimate / std_error``
        * ``df``: ``inf`` (normal reference)
        * ``p_value``: two-sided normal p-value
        * ``conf_low``, ``conf_high``: ``1 - alpha`` Wald interval (log-odds units)
        * ``n_control``, ``n_treatment``: participants of the control and the arm used
        * ``covariates``: the covariate columns adjusted for, comma-separated

    Raises
    ------
    SeparationError
        The data are (quasi-)separated; the message names the outcome, the arms
        and the value every participant of an arm has.
    NumericalError
        The fit is numerically meaningless (see Notes).

    Notes
    -----
    ``logit P(y = 1 | x) = b0 + sum_k b_k D_k [+ x'c]``, fitted by Newton-Raphson:
    ``glm(y ~ arm [+ covariates], family = binomial)`` with its default model-based
    (non-robust) standard errors ``sqrt(diag((X'WX)^-1))``, ``W = diag(p (1 - p))``;
    z statistic, normal p-value, Wald interval ``b +/- z_{1-alpha/2} se``
    (``confint.default``). A covariate constant in the analysed rows is left out.

    Numerical honesty: before fitting, a linear program decides whether the
    maximum-likelihood estimate exists (no (quasi-)separation;
    :mod:`analysis.separation`). Every arm must have both a 0 and a 1, and no covariate
    combination may sort the answers perfectly. After fitting, :mod:`analysis.guards`
    refuses ``|estimate| > 20``, a standard error above 1e3 outcome SDs, a non-finite
    value, or a scaled information matrix with condition number above 1e10.

    References
    ----------
    Albert, A., & Anderson, J. A. (1984). On the existence of maximum likelihood
    estimates in logistic regression models. Biometrika, 71(1), 1-10.
    Konis, K. (2007). Linear programming algorithms for detecting separated data in
    binary logistic regression models. DPhil thesis, University of Oxford.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [0, 1, 0, 1, 1, 1, 0, 1], "arm": ["c"] * 4 + ["t"] * 4})
    >>> round(float(logit(d, "y", "arm", "c")["estimate"].iloc[0]), 4)  # log(3/1) - log(2/2)
    1.0986
    """
    p = _varying(prepare(df, outcome, arm, control, covariates=covariates, levels=levels))
    values = np.unique(p.y)
    if not np.all(np.isin(values, [0.0, 1.0])):
        raise ValueError(f"outcome {outcome!r}: expected 0/1 values for a binary outcome")
    if len(values) < 2:
        raise ValueError(
            f"outcome {outcome!r}: every participant has the value {values[0]:g}; "
            "a logit needs both 0 and 1"
        )
    check_separation(
        outcome,
        "logit",
        p.codes,
        [p.control, *p.arms],
        p.y.astype(np.intp),
        values,
        p.extra,
        p.extra_names,
    )
    X, _ = _design(p, intercept=True)
    ybar = p.y.mean()
    # Collinear covariates leave the information singular at every point: say so first.
    check_information(X.T @ X, outcome, "logit")
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(ybar / (1 - ybar))
    for _ in range(100):
        mu = special.expit(X @ beta)
        w = mu * (1 - mu)
        info = (X * w[:, None]).T @ X
        step = np.linalg.solve(info, X.T @ (p.y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(beta))):
            break
    else:
        raise ConvergenceError(f"outcome {outcome!r}: logit did not converge")
    mu = special.expit(X @ beta)
    info = (X * (mu * (1 - mu))[:, None]).T @ X
    check_information(info, outcome, "logit")
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    counts = np.bincount(p.codes, minlength=len(p.arms) + 1)
    n_c = int(counts[0])
    rows = [
        _row(
            outcome,
            a,
            "logit",
            beta[1 + j],
            se[1 + j],
            np.inf,
            alpha,
            n_c,
            int(counts[1 + j]),
        )
        for j, a in enumerate(p.arms)
    ]
    adjusted = ", ".join(covariates)
    rows = [{**r, "covariates": adjusted} for r in rows]
    return _check_fit(effects_frame(rows), info, p, outcome, "logit")
