"""The one validation and the one sample-size solver behind every analytic power function.

:mod:`analysis.power` (t test, Cohen's d) and :mod:`analysis.power_binary` (normal
approximation, Cohen's h) differ only in the power curve they solve; both check their
arguments with :func:`check` and find the sample per arm with :func:`solve_n_per_arm`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from scipy import optimize, stats

CORRECTIONS = ("none", "bonferroni", "holm", "bh")
ALTERNATIVES = ("two-sided", "greater", "less")


def check(
    alpha: float,
    arms: int,
    correction: str,
    alternative: str,
    allocation_ratio: float = 1.0,
    *,
    power: float | None = None,
    effect: tuple[str, float] | None = None,
) -> None:
    """Raise ValueError naming the first bad argument (``effect`` is ``(name, value)``)."""
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
    if power is not None and not 0.0 < power < 1.0:
        raise ValueError(f"power: expected a number between 0 and 1, got {power!r}")
    if effect is not None:
        name, value = effect
        if not math.isfinite(value) or value == 0 or (alternative == "greater" and value < 0):
            raise ValueError(
                f"{name}: expected a non-zero effect in the tested direction, got {value!r}"
            )
        if alternative == "less" and value > 0:
            raise ValueError(
                f"{name}: expected a negative effect for alternative='less', got {value!r}"
            )


def comparison_alpha(alpha: float, arms: int, correction: str) -> float:
    """Per-comparison alpha for ``arms - 1`` frame-vs-control tests (Bonferroni bound)."""
    check(alpha, arms, correction, "two-sided")
    return alpha if correction == "none" else alpha / (arms - 1)


def t_power(d: float, n1: float, n2: float, a: float, alternative: str) -> float:
    """Power of the two-sample t test (noncentral t), as R's ``pwr.t2n.test``."""
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


def z_power(h: float, n1: float, n2: float, a: float, alternative: str) -> float:
    """Power of the two-proportion z test on Cohen's h, as R's ``pwr.2p2n.test``."""
    shift = h / math.sqrt(1.0 / n1 + 1.0 / n2)
    if alternative == "two-sided":
        z = stats.norm.isf(a / 2.0)
        return float(stats.norm.sf(z - abs(shift)) + stats.norm.cdf(-z - abs(shift)))
    z = stats.norm.isf(a)
    return float(
        stats.norm.sf(z - shift) if alternative == "greater" else stats.norm.cdf(-z - shift)
    )


def solve_n_per_arm(
    curve: Callable[[float, float, float, float, str], float],
    effect: float,
    target: float,
    a: float,
    alternative: str,
    allocation_ratio: float,
    *,
    low: float,
    high: float,
    integer: bool,
) -> int | float:
    """Smallest n per frame arm with ``curve(effect, n, ratio * n, a, alternative) >= target``.

    Brent's method to 1e-10 between ``low`` and ``high``; rounded up unless ``integer`` is
    false. The arguments must have passed :func:`check` (so the root exists).
    """

    def gap(n: float) -> float:
        return curve(effect, n, allocation_ratio * n, a, alternative) - target

    if gap(low) >= 0:
        n = low
    else:
        n = optimize.brentq(gap, low, high, xtol=1e-10, rtol=1e-14, maxiter=500)
    return math.ceil(n - 1e-9) if integer else n
