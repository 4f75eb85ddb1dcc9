"""Small-sample degrees of freedom for HC2 coefficients: Bell-McCaffrey or residual.

An HC2 t test on the residual ``n - k`` degrees of freedom over-rejects with
unbalanced arms and unequal variances; Bell-McCaffrey's Satterthwaite degrees of
freedom keep it near nominal (Imbens & Kolesar 2016). :func:`hc2_inference` gives a
coefficient's test under either rule and always keeps estimatr's residual figures.

Examples
--------
>>> from analysis.hc import ols_hc2
>>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
>>> fit = ols_hc2(X, np.array([1.0, 2.0, 4.0, 3.0, 5.0, 9.0]), ["(Intercept)", "t"])
>>> round(hc2_inference(fit, 1, 0.05, check_small_sample("bell_mccaffrey"))["df"], 6)
4.0
"""

from __future__ import annotations

import numpy as np

from analysis.hc import OLSFit, t_summary

__all__ = ["SMALL_SAMPLE", "bell_mccaffrey_df", "check_small_sample", "hc2_inference"]

# Degrees of freedom for the t reference of an HC2 coefficient: Bell-McCaffrey's
# Satterthwaite approximation (the default) or estimatr's residual n - k.
SMALL_SAMPLE = ("bell_mccaffrey", "residual")


def check_small_sample(small_sample: str) -> str:
    """Return ``small_sample`` if it is a known degrees-of-freedom rule, else raise ValueError.

    Parameters
    ----------
    small_sample : str
        The rule asked for.

    Returns
    -------
    str
        ``small_sample`` itself, one of ``SMALL_SAMPLE``.

    Notes
    -----
    ``"bell_mccaffrey"``: :func:`bell_mccaffrey_df`; ``"residual"``: ``n - k``, as
    estimatr's ``lm_robust``. The error message lists both.

    References
    ----------
    Imbens, G. W., & Kolesar, M. (2016). Review of Economics and Statistics, 98(4), 701-712.

    Examples
    --------
    >>> check_small_sample("residual")
    'residual'
    """
    if small_sample not in SMALL_SAMPLE:
        raise ValueError(
            f"small_sample: expected one of {', '.join(SMALL_SAMPLE)}, got {small_sample!r}"
        )
    return small_sample


def bell_mccaffrey_df(fit: OLSFit, term: str | int) -> float:
    """Bell-McCaffrey degrees of freedom for one HC2 coefficient of an OLS fit.

    Parameters
    ----------
    fit : OLSFit
        A fit from :func:`ols_hc2` (it keeps the factors this needs).
    term : str or int
        The coefficient, by name or position.

    Returns
    -------
    float
        The Satterthwaite degrees of freedom; NaN when some leverage is 1.

    Notes
    -----
    For the coefficient ``b_j = a'y`` with ``a = X (X'X)^-1 e_j`` the HC2 variance is
    ``V = sum_i w_i^2 e_i^2`` with ``w_i = a_i / sqrt(1 - h_ii)``. Under the working
    model of independent homoskedastic normal errors, ``e = (I - H) y`` and ``V`` is a
    quadratic form whose first two moments give::

        nu = (sum_i w_i^2 (1 - h_ii))^2 / sum_{i,l} w_i^2 w_l^2 (I - H)_il^2

    computed as ``sum_i a_i^2`` squared over
    ``sum_i w_i^4 (1 - 2 h_ii) + ||Q' diag(w^2) Q||_F^2`` (``H = QQ'``), which needs
    no n x n matrix. This is ``clubSandwich::coef_test(fit, vcov = "CR2", cluster =
    1:n, test = "Satterthwaite")``: CR2 with every participant its own cluster is
    HC2. With unbalanced arms and unequal variances the residual ``n - k`` makes
    HC2 t tests over-reject; these degrees of freedom keep them near nominal.

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
    >>> from analysis.hc import ols_hc2
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


def hc2_inference(fit: OLSFit, j: int, alpha: float, small_sample: str) -> dict:
    """t inference for HC2 coefficient ``j`` with the chosen degrees of freedom.

    Parameters
    ----------
    fit : OLSFit
        A fit from :func:`ols_hc2`.
    j : int
        Position of the coefficient.
    alpha : float
        The intervals have coverage ``1 - alpha``.
    small_sample : {"bell_mccaffrey", "residual"}
        Degrees of freedom of the t reference.

    Returns
    -------
    dict
        ``estimate``, ``std_error`` (HC2), ``statistic`` (t), ``df``, ``p_value``
        (two-sided), ``conf_low``, ``conf_high`` under ``small_sample``; ``small_sample``;
        and ``df_residual``, ``p_value_residual``, ``conf_low_residual``,
        ``conf_high_residual`` with the residual ``n - k`` df (estimatr's figures).

    Notes
    -----
    ``t = b_j / se_j``, ``p = 2 P(T_df > |t|)``, interval ``b_j +/- t_{df, 1-alpha/2} se_j``
    with ``df`` = :func:`bell_mccaffrey_df` or ``n - k``.

    References
    ----------
    Bell, R. M., & McCaffrey, D. F. (2002). Survey Methodology, 28(2), 169-181.

    Examples
    --------
    >>> from analysis.hc import ols_hc2
    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> fit = ols_hc2(X, np.array([1.0, 2.0, 4.0, 3.0, 5.0, 9.0]))
    >>> r = hc2_inference(fit, 1, 0.05, "residual")
    >>> r["estimate"], r["df"], r["df_residual"]
    (3.333..., 4.0, 4.0)
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
