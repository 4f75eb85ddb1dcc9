"""Analytic and simulated power for framing experiments (frame arms vs one control).

Public API
----------
``power(effect_size, n_per_arm, alpha=0.05, arms=2, correction="none", alternative="two-sided", allocation_ratio=1.0) -> float``
``n_per_arm(effect_size, alpha=0.05, power=0.8, arms=2, correction="none", alternative="two-sided", allocation_ratio=1.0, *, integer=True) -> int | float``
``mde(n_per_arm, alpha=0.05, power=0.8, arms=2, correction="none", alternative="two-sided", allocation_ratio=1.0) -> float``
``cohens_h(p_treatment, p_control) -> float``; ``power_proportions(h, n_per_arm, ...)`` and
``n_per_arm_proportions(h, ...)`` take the same arguments as ``power`` / ``n_per_arm``.
``simulate_power(arms, allocation=None, n_total=1000, effect_sizes=None, *, ...) -> DataFrame``
(defined in :mod:`analysis.power_sim`).
``power_summary(n_per_arm, arms=2, alpha=0.05, correction="none", allocation_ratio=1.0) -> dict``

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
Binary outcomes use Cohen's arcsine effect size ``h`` and the normal
approximation (identical to R's ``pwr::pwr.2p.test`` / ``pwr.2p2n.test``).
"""

from __future__ import annotations

import math

from scipy import optimize, stats

from analysis.power_sim import simulate_power

__all__ = [
    "cohens_h",
    "mde",
    "n_per_arm",
    "n_per_arm_proportions",
    "power",
    "power_proportions",
    "power_summary",
    "simulate_power",
]

CORRECTIONS = ("none", "bonferroni", "holm", "bh")
ALTERNATIVES = ("two-sided", "greater", "less")
# Typical persuasion effects: a review of 1,149 studies found a median r of about
# 0.10, i.e. Cohen's d of roughly 0.1-0.2 (USERS.md; Coppock 2023; Hewitt et al. 2024).
TYPICAL_D_SMALL = 0.1
TYPICAL_D_LARGE = 0.2


def _check(
    alpha: float, arms: int, correction: str, alternative: str, allocation_ratio: float = 1.0
) -> None:
    if not allocation_ratio > 0:
        raise ValueError(
            f"allocation_ratio: expected a positive n_control / n_arm, got {allocation_ratio!r}"
        )
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a number between 0 and 1, got {alpha!r}")
    if not isinstance(arms, int) or isinstance(arms, bool) or arms < 2:
        raise ValueError(
            f"arms: expected an integer >= 2 (the control counts as an arm), got {arms!r}"
        )
    if correction not in CORRECTIONS:
        raise ValueError(
            f"correction: expected one of {', '.join(CORRECTIONS)}, got {correction!r}"
        )
    if alternative not in ALTERNATIVES:
        raise ValueError(
            f"alternative: expected one of {', '.join(ALTERNATIVES)}, got {alternative!r}"
        )


def comparison_alpha(alpha: float, arms: int, correction: str) -> float:
    """Per-comparison alpha for ``arms - 1`` frame-vs-control tests (see module docstring)."""
    _check(alpha, arms, correction, "two-sided")
    return alpha if correction == "none" else alpha / (arms - 1)


def _t_power(d: float, n1: float, n2: float, a: float, alternative: str) -> float:
    nu = n1 + n2 - 2.0
    ncp = d / math.sqrt(1.0 / n1 + 1.0 / n2)
    if alternative == "two-sided":
        # Both rejection regions count, as in pwr >= 1.2.
        ncp = abs(ncp)
        q = stats.t.isf(a / 2.0, nu)
        # scipy's nct.cdf returns NaN deep in the lower tail; sf with -ncp is the same
        # probability and stays finite.
        return float(stats.nct.sf(q, nu, ncp) + stats.nct.sf(q, nu, -ncp))
    if alternative == "greater":
        return float(stats.nct.sf(stats.t.isf(a, nu), nu, ncp))
    return float(stats.nct.sf(stats.t.isf(a, nu), nu, -ncp))


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

    Power = P(|T| > t_{1-a/2, nu}) with T ~ noncentral t(nu, delta),
    nu = n_1 + n_2 - 2, delta = d / sqrt(1/n_1 + 1/n_2), n_1 = ``n_per_arm``,
    n_2 = ``allocation_ratio * n_per_arm``, a = the per-comparison alpha.

    Parameters
    ----------
    effect_size : float
        Cohen's d (difference in means over the common SD).
    n_per_arm : float
        Participants per frame arm (the control holds ``allocation_ratio`` times as many).
    alpha, arms, correction, alternative, allocation_ratio
        See the module docstring.

    Returns
    -------
    float
        Power, the probability of rejecting for that comparison.

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
    _check(alpha, arms, correction, alternative, allocation_ratio)
    if n_per_arm < 2 or allocation_ratio * n_per_arm < 2:
        raise ValueError(
            f"n_per_arm: expected at least 2 in each of the arm and the control, got {n_per_arm!r}"
        )
    a = comparison_alpha(alpha, arms, correction)
    return _t_power(effect_size, n_per_arm, allocation_ratio * n_per_arm, a, alternative)


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

    Solves ``power(effect_size, n) = power`` for n (Brent's method to 1e-10), the
    inverse of :func:`power`; rounded up to an integer unless ``integer=False``.
    The control needs ``ceil(allocation_ratio * n)``. The total sample is
    ``(arms - 1) * n + ceil(allocation_ratio * n)``.

    ``effect_size`` is Cohen's d to detect (non-zero; its sign matters only for
    one-sided tests), ``power`` the target power of each comparison, ``integer``
    whether to round up (default) or return the real-valued root; the other
    arguments are as in :func:`power` and the module docstring.

    Returns
    -------
    int or float

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
    _check(alpha, arms, correction, alternative, allocation_ratio)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power: expected a number between 0 and 1, got {power!r}")
    if effect_size == 0 or (alternative == "greater" and effect_size < 0):
        raise ValueError(
            f"effect_size: expected a non-zero effect in the tested direction, got {effect_size!r}"
        )
    if alternative == "less" and effect_size > 0:
        raise ValueError(
            f"effect_size: expected a negative effect for alternative='less', got {effect_size!r}"
        )
    a = comparison_alpha(alpha, arms, correction)
    low = 2.0 * max(1.0, 1.0 / allocation_ratio) + 1e-10

    def gap(n: float) -> float:
        return _t_power(effect_size, n, allocation_ratio * n, a, alternative) - power

    if gap(low) >= 0:
        n = low
    else:
        n = optimize.brentq(gap, low, 1e9, xtol=1e-10, rtol=1e-14, maxiter=500)
    return math.ceil(n - 1e-9) if integer else n


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

    Solves ``power(d, n_per_arm) = power`` for d > 0 (for ``alternative="less"``
    the returned d is negative).

    Examples
    --------
    >>> round(mde(64), 4)
    0.4991
    >>> round(mde(1000, arms=4, correction="holm"), 4)
    0.1448
    """
    _check(alpha, arms, correction, alternative, allocation_ratio)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power: expected a number between 0 and 1, got {power!r}")
    if n_per_arm < 2 or allocation_ratio * n_per_arm < 2:
        raise ValueError(f"n_per_arm: expected at least 2 per group, got {n_per_arm!r}")
    a = comparison_alpha(alpha, arms, correction)
    n2 = allocation_ratio * n_per_arm
    sign = -1.0 if alternative == "less" else 1.0

    def gap(d: float) -> float:
        return _t_power(sign * d, n_per_arm, n2, a, alternative) - power

    d = optimize.brentq(gap, 1e-9, 50.0, xtol=1e-13, rtol=1e-14, maxiter=500)
    return sign * d


def cohens_h(p_treatment: float, p_control: float) -> float:
    """Cohen's h = 2 asin(sqrt(p_treatment)) - 2 asin(sqrt(p_control)).

    Examples
    --------
    >>> round(cohens_h(0.53, 0.50), 6)
    0.060036
    """
    for name, p in (("p_treatment", p_treatment), ("p_control", p_control)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name}: expected a proportion between 0 and 1, got {p!r}")
    return 2.0 * math.asin(math.sqrt(p_treatment)) - 2.0 * math.asin(math.sqrt(p_control))


def _z_power(h: float, n1: float, n2: float, a: float, alternative: str) -> float:
    shift = h / math.sqrt(1.0 / n1 + 1.0 / n2)
    if alternative == "two-sided":
        z = stats.norm.isf(a / 2.0)
        return float(stats.norm.sf(z - abs(shift)) + stats.norm.cdf(-z - abs(shift)))
    z = stats.norm.isf(a)
    return float(
        stats.norm.sf(z - shift) if alternative == "greater" else stats.norm.cdf(-z - shift)
    )


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

    Power = Phi(h / sqrt(1/n_1 + 1/n_2) - z_{1-a/2}) + Phi(-h / sqrt(1/n_1 + 1/n_2) - z_{1-a/2}),
    as R's ``pwr::pwr.2p.test`` / ``pwr.2p2n.test``.

    Examples
    --------
    >>> round(power_proportions(cohens_h(0.53, 0.5), 4400), 4)
    0.804
    """
    _check(alpha, arms, correction, alternative, allocation_ratio)
    a = comparison_alpha(alpha, arms, correction)
    return _z_power(h, n_per_arm, allocation_ratio * n_per_arm, a, alternative)


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

    Examples
    --------
    >>> n_per_arm_proportions(cohens_h(0.53, 0.50))
    4356
    """
    _check(alpha, arms, correction, alternative, allocation_ratio)
    if h == 0:
        raise ValueError("h: expected a non-zero effect size")
    a = comparison_alpha(alpha, arms, correction)

    def gap(n: float) -> float:
        return _z_power(h, n, allocation_ratio * n, a, alternative) - power

    low = 1e-6
    n = low if gap(low) >= 0 else optimize.brentq(gap, low, 1e10, xtol=1e-10, rtol=1e-14)
    return math.ceil(n - 1e-9) if integer else n


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

    Returns the minimum detectable effect at 80% power (as Cohen's d and as
    percentage points on a yes/no outcome near 50%), the power for the typical
    effects d = 0.1 and d = 0.2, the sample per arm those would need, and a
    plain-language ``verdict`` with a ``level`` (``"adequate"``: detects d = 0.1;
    ``"marginal"``: detects d = 0.2 but not 0.1; ``"underpowered"``: misses d = 0.2).
    ``allocation_ratio`` (n_control / n_arm) is as in :func:`power`.

    Examples
    --------
    >>> s = power_summary(400, arms=5, correction="holm")
    >>> s["level"], round(s["mde_d"], 3)
    ('underpowered', 0.237)
    """
    _check(alpha, arms, correction, "two-sided", allocation_ratio)
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
