"""Refuse estimates that are numerically meaningless instead of reporting them.

A fit can converge to numbers that look finite but stand for infinity: a log
odds ratio of 41.6 with a standard error of 4.7e7 is what a logit returns on
separated data when a linear-algebra call does not happen to fail. Such a row
in a report is worse than none, so every estimator checks its output here and
raises :class:`NumericalError` (a ``ValueError``; ``run`` turns it into a
warning record and emits no effect row). The limits:

- a non-finite estimate, or a non-finite standard error from a likelihood fit;
- ``|estimate| > 20`` on the log-odds scale (an odds ratio beyond 4.9e8, which
  no survey arm of realistic size can support; only (near-)separated data give it);
- a standard error larger than ``1e3`` times the outcome's standard deviation
  (a comparison of two arms of size ``n`` has a standard error near
  ``SD * sqrt(2 / n)``; a thousand SDs means a near-singular design);
- a condition number of the information matrix, after scaling it to unit
  diagonal (so the units of a covariate do not matter), above ``1e10``: with
  double precision (unit roundoff 1.1e-16) fewer than six significant digits of
  the standard errors would then be trustworthy (Higham 2002, ch. 7), and the
  answer could change with the BLAS or the CPU.

References
----------
Higham, N. J. (2002). Accuracy and Stability of Numerical Algorithms (2nd ed.),
ch. 7. SIAM.
van der Sluis, A. (1969). Condition numbers and equilibration of matrices.
Numerische Mathematik, 14(1), 14-23.

Examples
--------
>>> scaled_condition(np.array([[1.0, 0.0], [0.0, 1e6]]))  # units alone do not count
1.0
>>> check_information(np.array([[1.0, 1.0], [1.0, 1.0]]), "y", "logit")
Traceback (most recent call last):
...
analysis.guards.NumericalError: outcome 'y': the logit model's information matrix is ...
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "MAX_CONDITION",
    "MAX_LOG_ODDS",
    "MAX_SE_PER_SD",
    "NumericalError",
    "check_effects",
    "check_information",
    "check_slope",
]

MAX_LOG_ODDS = 20.0
MAX_SE_PER_SD = 1e3
MAX_CONDITION = 1e10


class NumericalError(ValueError):
    """An estimate, standard error or information matrix is numerically meaningless.

    ``outcome`` and ``arm`` (None when the whole model is affected) name where.
    """

    def __init__(self, message: str, *, outcome: str, arm: str | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.arm = arm


def scaled_condition(info: np.ndarray) -> float:
    """2-norm condition number of ``S info S`` with ``S = diag(info)^-1/2`` (inf if singular)."""
    info = np.asarray(info, dtype=float)
    if not np.all(np.isfinite(info)):
        return np.inf
    d = np.diag(info)
    if np.any(d <= 0):
        return np.inf
    s = 1.0 / np.sqrt(d)
    return float(np.linalg.cond(info * np.outer(s, s)))


def check_information(info: np.ndarray, outcome: str, model: str) -> None:
    """Raise :class:`NumericalError` if the (scaled) information matrix is near-singular.

    Parameters
    ----------
    info : (k, k) array
        Fisher (or observed) information of the fitted model, or ``X'X`` of a design.
    outcome, model : str
        Named in the message.

    Returns
    -------
    None
        Returns only when the matrix is well enough conditioned.

    Notes
    -----
    With ``S = diag(info)^-1/2``, refuses ``kappa_2(S info S) > 1e10`` (``MAX_CONDITION``)
    or a non-finite matrix or non-positive diagonal. Equilibrating first (van der Sluis
    1969) makes the condition number independent of the covariates' units; above 1e10
    fewer than six significant digits of the standard errors survive double precision
    (Higham 2002, ch. 7).

    References
    ----------
    Higham (2002), ch. 7, and van der Sluis (1969): see the module docstring.

    Examples
    --------
    >>> check_information(np.array([[2.0, 1.0], [1.0, 2.0]]), "y", "logit") is None
    True
    """
    cond = scaled_condition(info)
    if not cond <= MAX_CONDITION:
        shown = "infinite" if not np.isfinite(cond) else f"{cond:.1e}"
        raise NumericalError(
            f"outcome {outcome!r}: the {model} model's information matrix is numerically "
            f"singular (condition number {shown}, above {MAX_CONDITION:.0e}: collinear "
            "predictors or separated answers), so its estimates and standard errors cannot "
            "be trusted in double precision; the model is not reported",
            outcome=outcome,
        )


def check_effects(
    frame: pd.DataFrame,
    *,
    outcome: str,
    method: str,
    outcome_sd: float,
    log_odds: bool = False,
) -> pd.DataFrame:
    """Return ``frame`` unchanged, or raise :class:`NumericalError` naming the first bad row.

    Parameters
    ----------
    frame : DataFrame
        Tidy effect rows with ``arm``, ``estimate`` and ``std_error``.
    outcome, method : str
        Named in the message.
    outcome_sd : float
        Standard deviation of the analysed outcome (``ddof = 1``).
    log_odds : bool
        The estimates are log odds ratios: ``|estimate| > 20`` is refused, and so is a
        standard error that is not finite (a likelihood fit never has an undefined
        one; a linear estimator's NaN standard error, e.g. HC2 with a leverage of 1,
        stays NaN as in estimatr).

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself, every column unchanged, when no row is refused.

    Notes
    -----
    A row is refused when ``estimate`` is not finite, ``|estimate| > 20`` (log odds),
    ``std_error`` is infinite (or not finite, for log odds), or
    ``std_error > 1e3 * outcome_sd``: two arms of size n give ``SE ~ SD sqrt(2 / n)``, so
    a thousand SDs means a near-singular design.

    References
    ----------
    Albert, A., & Anderson, J. A. (1984). On the existence of maximum likelihood
    estimates in logistic regression models. Biometrika, 71(1), 1-10.

    Examples
    --------
    >>> f = pd.DataFrame({"arm": ["t"], "estimate": [41.6], "std_error": [4.7e7]})
    >>> check_effects(f, outcome="y", method="logit", outcome_sd=0.5, log_odds=True)
    Traceback (most recent call last):
    ...
    analysis.guards.NumericalError: outcome 'y', arm 't': logit: the log odds ratio 41.6 is beyond ...
    """
    limit = MAX_SE_PER_SD * outcome_sd
    for arm, est, se in zip(frame["arm"], frame["estimate"], frame["std_error"], strict=True):
        where = f"outcome {outcome!r}, arm {arm!r}: {method}"
        if not np.isfinite(est):
            problem = f"the estimate is {est}"
        elif log_odds and abs(est) > MAX_LOG_ODDS:
            problem = (
                f"the log odds ratio {est:.3g} is beyond +/-{MAX_LOG_ODDS:g} (an odds ratio "
                "no survey arm can support; the data are close to separated)"
            )
        elif np.isinf(se) or (log_odds and not np.isfinite(se)):
            problem = f"the standard error is {se}"
        elif se > limit:
            problem = (
                f"the standard error {se:.3g} is more than {MAX_SE_PER_SD:g} times the "
                f"outcome's standard deviation ({outcome_sd:.3g}): a near-singular design"
            )
        else:
            continue
        raise NumericalError(
            f"{where}: {problem}; the estimate is not reported", outcome=outcome, arm=arm
        )
    return frame


def check_slope(
    estimate: float,
    std_error: float,
    *,
    column_sd: float,
    outcome_sd: float,
    outcome: str,
    arm: str | None,
    method: str,
    term: str,
) -> None:
    """:func:`check_effects` for a coefficient per unit of a predictor (e.g. an interaction).

    Parameters
    ----------
    estimate, std_error : float
        The coefficient and its standard error.
    column_sd : float
        Standard deviation of the term's column in the design.
    outcome_sd : float
        Standard deviation of the analysed outcome.
    outcome : str
        Named in the message.
    arm : str or None
        Named in the message (None when the term belongs to no arm).
    method, term : str
        Named in the message.

    Returns
    -------
    None
        Returns only when the coefficient is usable.

    Notes
    -----
    The standard error is put on the outcome's scale first, ``std_error * column_sd`` (the
    change in the prediction for one SD of the term's column), so a moderator measured
    in small units is not refused for its units alone; then refuses a non-finite
    estimate, an infinite standard error, or ``std_error * column_sd > 1e3 * outcome_sd``.

    References
    ----------
    Higham, N. J. (2002). Accuracy and Stability of Numerical Algorithms (2nd ed.). SIAM.

    Examples
    --------
    >>> check_slope(0.5, 0.1, column_sd=1.0, outcome_sd=1.0, outcome="y", arm="t",
    ...             method="interaction", term="t:x") is None
    True
    """
    scaled = std_error * column_sd
    if not np.isfinite(estimate):
        problem = f"the estimate is {estimate}"
    elif np.isinf(std_error):
        problem = f"the standard error is {std_error}"
    elif scaled > MAX_SE_PER_SD * outcome_sd:
        problem = (
            f"the standard error of one SD of {term!r} ({scaled:.3g}) is more than "
            f"{MAX_SE_PER_SD:g} times the outcome's standard deviation ({outcome_sd:.3g}): "
            "a near-singular design"
        )
    else:
        return
    where = f"outcome {outcome!r}" + (f", arm {arm!r}" if arm is not None else "")
    raise NumericalError(
        f"{where}: {method}: {problem}; the estimate is not reported", outcome=outcome, arm=arm
    )
