"""Power for an exact design: per-frame power at the planned N and the N for 80% / 90%.

``design_power(arms, ...)`` simulates the design as written with
:func:`analysis.power_sim.simulate_power` (allocation, strata shares, covariate R²,
attrition, the primary method and the correction) at the planned sample and on a
grid of sample sizes, then finds, for each frame, the sample at which its power
reaches each target. Beside every simulated figure stands the instant analytic one
(:func:`analysis.power.power`, two groups with the allocation ratio and the
correction's per-comparison alpha; it ignores blocking, covariates and the
correction's step-down gain).

The N needed: the power of a t test is close to Phi(delta * sqrt(c N) - z), linear
in sqrt(N) on the probit scale, so for each frame a weighted least-squares line
probit(power) = a + b sqrt(N) is fitted through the simulated grid (weights
1 / Var(probit(power_hat)) by the delta method, powers clipped to
[0.5 / sims, 1 - 0.5 / sims]) and solved for each target. Grid points span the
analytic N of the targets (x 0.7 to x 1.4), so the answer is an interpolation,
not an extrapolation, unless the analytic figure is far off.

Examples
--------
>>> out = design_power(2, None, {"arm1": 0.3}, n_total=200, n_sims=100, seed=1, find_n=False)
>>> f = out["frames"][0]
>>> f["arm"], f["power"], round(f["analytic_power"], 3)
('arm1', 0.56, 0.56)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.power import n_per_arm, power
from analysis.power_sim import _arm_labels, _weights, simulate_power

__all__ = ["POWER_TARGETS", "covariate_r2", "design_power", "grid_sizes", "needed_n"]

POWER_TARGETS = (0.8, 0.9)
GRID_FACTORS = (0.7, 1.0, 1.4)


def _analytic_total(
    d: float, shares: np.ndarray, j: int, alpha: float, k: int, correction: str, target: float
) -> float:
    """Randomized total at which arm j reaches `target` by the analytic two-group formula."""
    ratio = shares[0] / shares[j]
    per_arm = n_per_arm(d, alpha, target, k, correction, allocation_ratio=ratio)
    return per_arm / shares[j]


def grid_sizes(
    arms: Sequence[str],
    shares: np.ndarray,
    effects: Mapping[str, float],
    *,
    alpha: float,
    correction: str,
    covariate_r2: float,
    attrition: float,
    minimum: int,
) -> list[int]:
    """Sample sizes (randomized) to simulate so that every target lies inside the grid.

    Parameters
    ----------
    arms : sequence of str
        Arm labels, the control first.
    shares : ndarray
        Each arm's share of the randomized sample (summing to 1).
    effects : mapping arm -> float
        Cohen's d of each frame (frames without one are skipped).
    alpha, correction
        As in :func:`analysis.power.power`.
    covariate_r2 : float
        Outcome variance the covariate explains (0 when neither blocks nor Lin use it).
    attrition : float
        Share of the randomized not analysed, in [0, 1).
    minimum : int
        Smallest randomized N worth simulating.

    Returns
    -------
    list of int
        Four randomized totals (participants), increasing, geometrically spaced.

    Notes
    -----
    For every frame and target the analytic total is ``n_per_arm(d, ...) / share_j``
    scaled by ``(1 - R^2) / (1 - attrition)``; the grid runs from 0.7 x the smallest
    to 1.4 x the largest of them.

    References
    ----------
    Cohen (1988), ch. 2 (the analytic totals); Blair et al. (2019), APSR 113(3).

    Examples
    --------
    >>> grid_sizes(["c", "a"], np.array([0.5, 0.5]), {"a": 0.3}, alpha=0.05,
    ...            correction="none", covariate_r2=0.0, attrition=0.0, minimum=6)
    [247, 342, 475, 658]
    """
    k = len(arms)
    # Precision from the covariate (through blocks or Lin) scales n by about (1 - R^2).
    scale = (1.0 - covariate_r2) / (1.0 - attrition)
    totals = []
    for j, arm in enumerate(arms[1:], start=1):
        d = abs(float(effects.get(arm, 0.0)))
        if d <= 0:
            continue
        for target in POWER_TARGETS:
            totals.append(_analytic_total(d, shares, j, alpha, k, correction, target) * scale)
    if not totals:
        return []
    low, high = min(totals) * GRID_FACTORS[0], max(totals) * GRID_FACTORS[-1]
    sizes = np.geomspace(max(low, minimum), max(high, minimum * 1.5), 4)
    return sorted({math.ceil(s) for s in sizes})


def needed_n(sizes: Sequence[float], powers: Sequence[float], sims: int, target: float) -> float:
    """N at which the probit-linear fit in sqrt(N) through (sizes, powers) reaches `target`.

    Parameters
    ----------
    sizes : sequence of float
        Simulated sample sizes (participants).
    powers : sequence of float
        Simulated power at each size (0 to 1).
    sims : int
        Simulations per size (for the weights and the clipping).
    target : float
        Power to reach, in (0, 1).

    Returns
    -------
    float
        The sample size (same units as ``sizes``, not rounded); NaN when the fit does
        not rise with N (no effect, or too few simulations).

    Notes
    -----
    Weighted least squares of probit(p) = a + b sqrt(N) with weights 1 /
    Var(probit(p_hat)) = sims phi(z)^2 / (p (1 - p)), p clipped to [0.5/sims, 1 -
    0.5/sims]; N = ((probit(target) - a) / b)^2.

    References
    ----------
    Cohen (1988), ch. 2: the t test's power is close to Phi(delta sqrt(c N) - z).

    Examples
    --------
    >>> n = np.array([100, 200, 400])
    >>> p = stats.norm.cdf(0.2 * np.sqrt(n / 4) - 1.96)
    >>> round(needed_n(n, p, 10_000, 0.8))
    785
    """
    n = np.asarray(sizes, dtype=float)
    p = np.clip(np.asarray(powers, dtype=float), 0.5 / sims, 1 - 0.5 / sims)
    z = stats.norm.ppf(p)
    # Var(probit(p_hat)) = p (1 - p) / (sims phi(z)^2)
    w = sims * stats.norm.pdf(z) ** 2 / (p * (1 - p))
    x = np.sqrt(n)
    design = np.column_stack([np.ones_like(x), x])
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(design * sw[:, None], z * sw, rcond=None)
    a, b = coef
    if not b > 0:
        return float("nan")
    root = (stats.norm.ppf(target) - a) / b
    return float(root**2) if root > 0 else float(n.min())


def design_power(
    arms: int | Sequence[str],
    allocation: Mapping[str, float] | Sequence[float] | None,
    effect_sizes: Mapping[str, float],
    *,
    n_total: int,
    block_shares: Sequence[float] | None = None,
    covariate_r2: float = 0.0,
    attrition: float = 0.0,
    alpha: float = 0.05,
    correction: str = "none",
    method: str = "difference_in_means",
    outcome: str = "continuous",
    n_sims: int = 1000,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
    find_n: bool = True,
) -> dict[str, Any]:
    """Simulated power per frame at ``n_total`` and the randomized N for 80% and 90%.

    Parameters
    ----------
    arms, allocation, effect_sizes, block_shares, covariate_r2, attrition, alpha,
    correction, method, outcome, n_sims, seed
        As :func:`analysis.power_sim.simulate_power` (``n_total`` participants
        randomized; ``attrition`` of them not analysed).
    progress : callable, optional
        Called as ``progress(done, work)`` after each chunk: ``done`` simulated studies
        more, of ``work`` in all (the planned N and every grid size).
    find_n : bool
        Also simulate the grid and report the N for each target.

    Returns
    -------
    dict
        ``frames``: one record per frame arm with ``arm, effect_size, n_assigned,
        power, mc_std_error, analytic_power, n_80, n_90`` (randomized totals; NaN
        when the frame has no effect to detect); ``grid``: the simulated sizes and
        powers; ``settings``: the inputs.

    Notes
    -----
    ``power`` is the share of ``n_sims`` simulated studies that reject (its Monte Carlo
    SE sqrt(p (1 - p) / n_sims)); ``n_80``, ``n_90`` solve the probit-linear fit of
    :func:`needed_n` through the grid of :func:`grid_sizes`; ``analytic_power`` is
    :func:`analysis.power.power` with ``n_per_arm = n_total (1 - attrition) share_j``.

    References
    ----------
    Blair, G., Cooper, J., Coppock, A. & Humphreys, M. (2019). Declaring and
    diagnosing research designs. APSR 113(3), 838-859.
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, ch. 2.

    Examples
    --------
    >>> out = design_power(2, None, {"arm1": 0.3}, n_total=200, n_sims=100, seed=1)
    >>> f = out["frames"][0]
    >>> f["power"], f["n_80"], f["n_90"]
    (0.56, 344.0, 450.0)
    """
    labels = _arm_labels(arms)
    shares = _weights(labels, allocation)
    k = len(labels)
    # the simulation's settings, echoed in the result's "settings"
    settings = {
        "covariate_r2": covariate_r2,
        "attrition": attrition,
        "alpha": alpha,
        "correction": correction,
        "method": method,
        "outcome": outcome,
        "n_sims": n_sims,
    }
    common = {
        "allocation": allocation,
        "effect_sizes": dict(effect_sizes),
        "block_shares": block_shares,
        **settings,
    }
    # every arm needs a few participants in every block for the blocked estimator
    smallest_block = min(block_shares) / sum(block_shares) if block_shares else 1.0
    minimum = math.ceil(3 / (min(shares) * smallest_block * (1 - attrition)))
    sizes = (
        grid_sizes(
            labels,
            shares,
            effect_sizes,
            alpha=alpha,
            correction=correction,
            covariate_r2=covariate_r2 if method == "lin" or block_shares else 0.0,
            attrition=attrition,
            minimum=minimum,
        )
        if find_n
        else []
    )
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**32, size=len(sizes) + 1)
    work = n_sims * (len(sizes) + 1)
    step = None if progress is None else (lambda done: progress(done, work))
    at = simulate_power(labels, n_total=n_total, seed=int(seeds[0]), progress=step, **common)
    grid = [(n_total, at)]
    for size, s in zip(sizes, seeds[1:], strict=True):
        res = simulate_power(labels, n_total=size, seed=int(s), progress=step, **common)
        grid.append((size, res))
    frames = []
    for j, arm in enumerate(labels[1:], start=1):
        d = float(effect_sizes.get(arm, 0.0))
        row = at.iloc[j - 1]
        analysed = n_total * (1 - attrition)
        per_arm, ratio = analysed * shares[j], shares[0] / shares[j]
        analytic = (
            power(abs(d), per_arm, alpha, k, correction, allocation_ratio=ratio)
            if d != 0 and outcome == "continuous" and per_arm >= 2
            else float("nan")
        )
        record = {
            "arm": arm,
            "effect_size": d,
            "n_total": int(n_total),
            "n_assigned": int(row["n_assigned"]),
            "power": float(row["power"]),
            "mc_std_error": float(row["mc_std_error"]),
            "analytic_power": float(analytic),
        }
        for target in POWER_TARGETS:
            key = f"n_{round(100 * target)}"
            if d == 0 or not sizes:
                record[key] = float("nan")
                continue
            ns = [size for size, _ in grid]
            ps = [float(res.iloc[j - 1]["power"]) for _, res in grid]
            record[key] = float(math.ceil(needed_n(ns, ps, n_sims, target)))
        frames.append(record)
    return {
        "frames": frames,
        "grid": pd.DataFrame(
            [
                {"n_total": size, "arm": r["arm"], "power": r["power"]}
                for size, res in grid
                for _, r in res.iterrows()
            ]
        ).to_dict("records"),
        "work": work,
        "settings": {
            "arms": labels,
            "shares": [float(s) for s in shares],
            "n_total": int(n_total),
            "block_shares": list(block_shares) if block_shares else None,
            **settings,
            "seed": seed,
        },
    }


def covariate_r2(
    df: pd.DataFrame,
    outcome: str,
    covariates: Sequence[str],
    *,
    arm: str | None = None,
    control: str | None = None,
) -> float:
    """Share of the outcome's variance the covariates explain (OLS R², complete cases).

    Parameters
    ----------
    df : DataFrame
        A pilot or an earlier study, one row per participant.
    outcome : str
        Outcome column.
    covariates : sequence of str
        Covariate columns (text covariates are dummy-coded).
    arm, control : str, optional
        Arm column and control label: when both are given only the control's
        participants count (treatment effects would otherwise count as explained).

    Returns
    -------
    float
        R² in [0, 1]: the input for a design's ``covariate_r2``.

    Notes
    -----
    R² = max(0, 1 - RSS / TSS) of the OLS fit y ~ 1 + X on complete cases (0 when the
    outcome does not vary); it scales the needed sample by about (1 - R²).

    References
    ----------
    Bloom, H. S. (2005). Learning More from Social Experiments, ch. 4 (covariates and
    precision); Lin, W. (2013). Annals of Applied Statistics 7(1), 295-318.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0], "x": [1, 2, 3, 4, 5, 6]})
    >>> round(covariate_r2(d, "y", ["x"]), 3)
    0.98
    """
    if arm is not None and control is not None:
        df = df[df[arm].astype(str) == str(control)]
    columns = [outcome, *covariates]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"covariate_r2: column {missing[0]!r} is not in the data")
    d = df[columns].dropna()
    y = pd.to_numeric(d[outcome], errors="coerce").to_numpy(dtype=float)
    x = pd.get_dummies(d[list(covariates)], drop_first=True, dtype=float).to_numpy(dtype=float)
    if len(y) < x.shape[1] + 3:
        raise ValueError(
            f"covariate_r2: {len(y)} complete rows are too few for {x.shape[1]} covariate terms"
        )
    design = np.column_stack([np.ones(len(y)), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    total = float(((y - y.mean()) ** 2).sum())
    return float(max(0.0, 1.0 - float(resid @ resid) / total)) if total > 0 else 0.0
