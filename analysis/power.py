"""Analytic power of frame-vs-control t tests on a continuous outcome (Cohen's d).

Conventions
-----------
``arms`` counts *every* arm including the control, so a study with a control and
four frames has ``arms=5`` and ``arms - 1 = 4`` confirmatory comparisons (each
frame vs control). With ``correction`` ``"bonferroni"``, ``"holm"`` or ``"bh"``
each comparison is powered at ``alpha / (arms - 1)``: that is Bonferroni
exactly, and the first (most demanding) step of Holm and of Benjamini–Hochberg,
so the stated power is a guaranteed lower bound for those procedures.
``"none"`` uses ``alpha`` for every comparison.

``n_per_arm`` is the number of participants in *each frame arm*; the control
holds ``allocation_ratio * n_per_arm`` (``allocation_ratio = n_control / n_arm``;
a larger control, e.g. ``sqrt(arms - 1)``, is efficient when many frames share it).

Continuous outcomes use the two-sample t test with a noncentral t distribution
(Cohen 1988, ch. 2; identical to R's ``pwr::pwr.t.test`` / ``pwr.t2n.test``).
Binary outcomes are in :mod:`analysis.power_binary`, simulated power in
:mod:`analysis.power_sim`, a plan's whole design in :mod:`analysis.power_design`.

Examples
--------
>>> round(power(0.5, 64), 4)
0.8015
>>> n_per_arm(0.5), round(mde(64), 4)
(64, 0.4991)
>>> power_summary(2000)["level"]
'adequate'
"""

from __future__ import annotations

import math

from scipy import optimize

from analysis._power_core import check, comparison_alpha, solve_n_per_arm, t_power

__all__ = ["mde", "n_per_arm", "power", "power_summary"]

# Typical persuasion effects: a review of 1,149 studies found a median r of about
# 0.10, i.e. Cohen's d of roughly 0.1-0.2 (USERS.md; Coppock 2023; Hewitt et al. 2024).
TYPICAL_D_SMALL = 0.1
TYPICAL_D_LARGE = 0.2
_SHARED = """alpha : float, default 0.05
        Family-wise significance level, in (0, 1).
    arms : int, default 2
        Number of arms including the control (>= 2); ``arms - 1`` comparisons.
    correction : {"none", "bonferroni", "holm", "bh"}, default "none"
        Multiple-comparison correction; all but "none" power each comparison at
        ``alpha / (arms - 1)``.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        Alternative hypothesis of each comparison.
    allocation_ratio : float, default 1.0
        ``n_control / n_arm`` (positive)."""


def _check_n(n: float, allocation_ratio: float) -> None:
    if n < 2 or allocation_ratio * n < 2:
        raise ValueError(
            f"n_per_arm: expected at least 2 in each of the arm and the control, got {n!r}"
        )


def power(
    effect_size: float,
    n_per_arm: float,
    alpha: float = 0.05,
    arms: int = 2,
    correction: str = "none",
    alternative: str = "two-sided",
    allocation_ratio: float = 1.0,
) -> float:
    """Power of one frame-vs-control t test on a continuous outcome.

    Parameters
    ----------
    effect_size : float
        Cohen's d (difference in means over the common SD).
    n_per_arm : float
        Participants per frame arm (the control holds ``allocation_ratio`` times as many).
    {shared}

    Returns
    -------
    float
        Power, the probability of rejecting for that comparison (0 to 1).

    Notes
    -----
    Power = P(|T| > t_{1-a/2, nu}) with T ~ noncentral t(nu, delta),
    nu = n_1 + n_2 - 2, delta = d / sqrt(1/n_1 + 1/n_2), n_1 = ``n_per_arm``,
    n_2 = ``allocation_ratio * n_per_arm``, a = the per-comparison alpha (one-sided
    alternatives use t_{1-a, nu} and one tail).

    References
    ----------
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, ch. 2.
    Champely, S. (2020). pwr: Basic Functions for Power Analysis (``pwr.t2n.test``).

    Examples
    --------
    >>> round(power(0.5, 64), 4)
    0.8015
    >>> round(power(0.2, 400, arms=5, correction="holm"), 4)
    0.6275
    """
    check(alpha, arms, correction, alternative, allocation_ratio)
    _check_n(n_per_arm, allocation_ratio)
    a = comparison_alpha(alpha, arms, correction)
    return t_power(effect_size, n_per_arm, allocation_ratio * n_per_arm, a, alternative)


def n_per_arm(
    effect_size: float,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
    correction: str = "none",
    alternative: str = "two-sided",
    allocation_ratio: float = 1.0,
    *,
    integer: bool = True,
) -> int | float:
    """Participants needed in each frame arm to reach ``power`` for effect ``effect_size``.

    Parameters
    ----------
    effect_size : float
        Cohen's d to detect: non-zero, negative for ``alternative="less"`` and positive
        for ``"greater"``.
    power : float, default 0.8
        Target power of each comparison, in (0, 1).
    integer : bool, default True
        Round up to whole participants (else the real-valued root).
    {shared}

    Returns
    -------
    int or float
        Participants per frame arm; the control needs ``ceil(allocation_ratio * n)``
        and the study ``(arms - 1) * n + ceil(allocation_ratio * n)``.

    Notes
    -----
    Solves ``power(effect_size, n) = power`` for n with Brent's method to 1e-10 (the
    inverse of :func:`power`), starting at 2 participants in the smaller group.

    References
    ----------
    Cohen (1988), ch. 2; R ``pwr::pwr.t.test(d=, power=, sig.level=)``.

    Examples
    --------
    >>> n_per_arm(0.5)
    64
    >>> n_per_arm(0.2, arms=5, correction="holm")
    560
    """
    check(
        alpha, arms, correction, alternative, allocation_ratio,
        power=power, effect=("effect_size", effect_size),
    )  # fmt: skip
    a = comparison_alpha(alpha, arms, correction)
    low = 2.0 * max(1.0, 1.0 / allocation_ratio) + 1e-10
    return solve_n_per_arm(
        t_power, effect_size, power, a, alternative, allocation_ratio,
        low=low, high=1e9, integer=integer,
    )  # fmt: skip


def mde(
    n_per_arm: float,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
    correction: str = "none",
    alternative: str = "two-sided",
    allocation_ratio: float = 1.0,
) -> float:
    """Minimum detectable effect (Cohen's d) for a given sample per arm.

    Parameters
    ----------
    n_per_arm : float
        Participants per frame arm (at least 2 in the arm and in the control).
    power : float, default 0.8
        Target power of each comparison, in (0, 1).
    {shared}

    Returns
    -------
    float
        The d detected with probability ``power`` (negative for ``alternative="less"``).

    Notes
    -----
    Solves ``power(d, n_per_arm) = power`` for d in (1e-9, 50) by Brent's method.

    References
    ----------
    Cohen (1988), ch. 2; R ``pwr::pwr.t.test(n=, power=, sig.level=)$d``.

    Examples
    --------
    >>> round(mde(64), 4)
    0.4991
    >>> round(mde(1000, arms=4, correction="holm"), 4)
    0.1448
    """
    check(alpha, arms, correction, alternative, allocation_ratio, power=power)
    _check_n(n_per_arm, allocation_ratio)
    a = comparison_alpha(alpha, arms, correction)
    n2 = allocation_ratio * n_per_arm
    sign = -1.0 if alternative == "less" else 1.0

    def gap(d: float) -> float:
        return t_power(sign * d, n_per_arm, n2, a, alternative) - power

    d = optimize.brentq(gap, 1e-9, 50.0, xtol=1e-13, rtol=1e-14, maxiter=500)
    return sign * d


def _percentage_points_near_half(d_or_h: float) -> float:
    # A yes/no outcome near 50% has SD 0.5, and there h ~= 2 * (p1 - p0); invert exactly.
    p1 = math.sin(math.asin(math.sqrt(0.5)) + d_or_h / 2.0) ** 2
    return 100.0 * (p1 - 0.5)


def power_summary(
    n_per_arm: int,
    arms: int = 2,
    alpha: float = 0.05,
    correction: str = "none",
    allocation_ratio: float = 1.0,
) -> dict:
    """How a planned sample compares with the effects persuasion studies usually find.

    Parameters
    ----------
    n_per_arm : int
        Planned participants per frame arm (at least 2).
    {shared}

    Returns
    -------
    dict
        ``n_per_arm, arms, comparisons, alpha, correction, alpha_per_comparison,
        allocation_ratio, target_power`` (0.8) echo the design; ``mde_d`` the minimum
        detectable Cohen's d at 80% power, ``mde_percentage_points`` the same on a
        yes/no outcome near 50% (percentage points); ``power_d_0_1``, ``power_d_0_2``
        the power (0 to 1) for d = 0.1 and 0.2; ``n_per_arm_d_0_1``,
        ``n_per_arm_d_0_2`` the participants per arm those need; ``level``
        (``"adequate"``: detects d = 0.1; ``"marginal"``: d = 0.2 but not 0.1;
        ``"underpowered"``: misses d = 0.2) and a plain-language ``verdict``.

    Notes
    -----
    Percentage points invert Cohen's h at 50%: p_1 = sin(asin(sqrt(0.5)) + d/2)^2,
    points = 100 (p_1 - 0.5); a yes/no outcome near 50% has SD 0.5, so d and h agree.

    References
    ----------
    Coppock, A. (2023). Persuasion in Parallel. University of Chicago Press.
    Hewitt, L. et al. (2024). How experiments help campaigns persuade voters. American
    Political Science Review.

    Examples
    --------
    >>> s = power_summary(400, arms=5, correction="holm")
    >>> s["level"], round(s["mde_d"], 3)
    ('underpowered', 0.237)
    """
    check(alpha, arms, correction, "two-sided", allocation_ratio)
    if n_per_arm < 2:
        raise ValueError(f"n_per_arm: expected at least 2, got {n_per_arm!r}")
    kw = {"allocation_ratio": allocation_ratio}
    d = mde(n_per_arm, alpha, 0.8, arms, correction, **kw)
    pp = _percentage_points_near_half(d)
    p_small = power(TYPICAL_D_SMALL, n_per_arm, alpha, arms, correction, **kw)
    p_large = power(TYPICAL_D_LARGE, n_per_arm, alpha, arms, correction, **kw)
    need_small = _n_per_arm(TYPICAL_D_SMALL, alpha, 0.8, arms, correction, **kw)
    need_large = _n_per_arm(TYPICAL_D_LARGE, alpha, 0.8, arms, correction, **kw)
    comparisons = arms - 1
    per = (
        "comparison"
        if comparisons == 1
        else f"each of the {comparisons} frame-vs-control comparisons"
    )
    head = (
        f"With {n_per_arm:,} participants per arm, this study can reliably (80% power) detect "
        f"an effect of d = {d:.2f} or larger for {per}, about {pp:.1f} percentage points on a "
        f"yes/no question answered yes by about half of people."
    )
    if d <= TYPICAL_D_SMALL:
        level = "adequate"
        tail = " That covers the small effects persuasion messages usually have (d = 0.1 to 0.2)."
    elif d <= TYPICAL_D_LARGE:
        level = "marginal"
        tail = (
            f" Persuasion effects are usually small (d = 0.1 to 0.2): this sample would likely "
            f"detect d = 0.2 but has only {p_small:.0%} power for d = 0.1, which needs "
            f"{need_small:,} per arm."
        )
    else:
        level = "underpowered"
        tail = (
            f" Most persuasion effects are smaller (d = 0.1 to 0.2), so a real effect may well be "
            f"missed: power is {p_large:.0%} for d = 0.2 and {p_small:.0%} for d = 0.1. "
            f"Detecting d = 0.2 needs {need_large:,} per arm; d = 0.1 needs {need_small:,}."
        )
    subgroups = " Claims about subgroups (for whom a frame works) need about four times the sample."
    return {
        "n_per_arm": int(n_per_arm),
        "arms": arms,
        "comparisons": comparisons,
        "alpha": alpha,
        "correction": correction,
        "alpha_per_comparison": comparison_alpha(alpha, arms, correction),
        "allocation_ratio": allocation_ratio,
        "target_power": 0.8,
        "mde_d": d,
        "mde_percentage_points": pp,
        "power_d_0_1": p_small,
        "power_d_0_2": p_large,
        "n_per_arm_d_0_1": need_small,
        "n_per_arm_d_0_2": need_large,
        "level": level,
        "verdict": head + tail + subgroups,
    }


# power_summary's parameter shadows the function name; its body uses this alias.
_n_per_arm = n_per_arm
for _f in (power, n_per_arm, mde, power_summary):  # the arguments all four share
    if _f.__doc__:
        _f.__doc__ = _f.__doc__.replace("{shared}", _SHARED)
