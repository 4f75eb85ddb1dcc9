"""Analytic power for yes/no outcomes: Cohen's h and the two-proportion z test.

The arguments and conventions (``arms`` counts the control, ``correction`` powers each
comparison at ``alpha / (arms - 1)``, ``allocation_ratio = n_control / n_arm``) are those
of :mod:`analysis.power`; both modules share one validation and one sample-size solver.

Examples
--------
>>> h = cohens_h(0.53, 0.50)
>>> round(h, 6), n_per_arm_proportions(h)
(0.060036, 4356)
>>> round(power_proportions(h, 4400), 4)
0.804
"""

from __future__ import annotations

import math

from analysis._power_core import check, comparison_alpha, solve_n_per_arm, z_power

__all__ = ["cohens_h", "n_per_arm_proportions", "power_proportions"]


def cohens_h(p_treatment: float, p_control: float) -> float:
    """Cohen's h, the arcsine-transformed difference between two proportions.

    Parameters
    ----------
    p_treatment, p_control : float
        Proportions (0 to 1) answering yes in the frame arm and in the control.

    Returns
    -------
    float
        h in radians-of-arcsine units, from -pi to pi (0.2 small, 0.5 medium by Cohen).

    Notes
    -----
    h = 2 asin(sqrt(p_treatment)) - 2 asin(sqrt(p_control)); the transform makes the
    variance of a proportion about 1/n whatever p, so power depends on h alone.

    References
    ----------
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, ch. 6.
    Champely, S. (2020). pwr: Basic Functions for Power Analysis (``ES.h``).

    Examples
    --------
    >>> round(cohens_h(0.53, 0.50), 6)
    0.060036
    """
    for name, p in (("p_treatment", p_treatment), ("p_control", p_control)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name}: expected a proportion between 0 and 1, got {p!r}")
    return 2.0 * math.asin(math.sqrt(p_treatment)) - 2.0 * math.asin(math.sqrt(p_control))


def power_proportions(
    h: float,
    n_per_arm: float,
    alpha: float = 0.05,
    arms: int = 2,
    correction: str = "none",
    alternative: str = "two-sided",
    allocation_ratio: float = 1.0,
) -> float:
    """Power to detect a difference in proportions of size ``h`` (Cohen's h).

    Parameters
    ----------
    h : float
        Cohen's h (see :func:`cohens_h`).
    n_per_arm : float
        Participants per frame arm (the control holds ``allocation_ratio`` times as many).
    alpha, arms, correction, alternative, allocation_ratio
        As in :func:`analysis.power.power`.

    Returns
    -------
    float
        Power of that comparison (0 to 1).

    Notes
    -----
    Power = Phi(h / sqrt(1/n_1 + 1/n_2) - z_{1-a/2}) + Phi(-h / sqrt(1/n_1 + 1/n_2) - z_{1-a/2})
    with n_1 = ``n_per_arm``, n_2 = ``allocation_ratio * n_per_arm`` and a the
    per-comparison alpha (one-sided alternatives keep one term with z_{1-a}).

    References
    ----------
    Cohen (1988), ch. 6; R ``pwr::pwr.2p.test`` / ``pwr.2p2n.test`` (Champely 2020).

    Examples
    --------
    >>> round(power_proportions(cohens_h(0.53, 0.5), 4400), 4)
    0.804
    """
    check(alpha, arms, correction, alternative, allocation_ratio)
    a = comparison_alpha(alpha, arms, correction)
    return z_power(h, n_per_arm, allocation_ratio * n_per_arm, a, alternative)


def n_per_arm_proportions(
    h: float,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
    correction: str = "none",
    alternative: str = "two-sided",
    allocation_ratio: float = 1.0,
    *,
    integer: bool = True,
) -> int | float:
    """Participants per frame arm to detect a difference in proportions of size ``h``.

    Parameters
    ----------
    h : float
        Cohen's h to detect: non-zero, negative for ``alternative="less"`` and positive
        for ``"greater"``.
    alpha, power, arms, correction, alternative, allocation_ratio, integer
        As in :func:`analysis.power.n_per_arm`; every argument is checked the same way.

    Returns
    -------
    int or float
        Participants per frame arm (the control needs ``ceil(allocation_ratio * n)``).

    Notes
    -----
    Solves ``power_proportions(h, n) = power`` for n with Brent's method to 1e-10, the
    solver :func:`analysis.power.n_per_arm` uses; two-sided and equal groups this is
    close to n = ((z_{1-a/2} + z_{power}) / h)^2.

    References
    ----------
    Cohen (1988), ch. 6; R ``pwr::pwr.2p.test(h=, power=, sig.level=)$n``.

    Examples
    --------
    >>> n_per_arm_proportions(cohens_h(0.53, 0.50))
    4356
    """
    check(
        alpha, arms, correction, alternative, allocation_ratio,
        power=power, effect=("h", h),
    )  # fmt: skip
    a = comparison_alpha(alpha, arms, correction)
    return solve_n_per_arm(
        z_power, h, power, a, alternative, allocation_ratio,
        low=1e-6, high=1e10, integer=integer,
    )  # fmt: skip
