"""Simulation-based power for an exact design: :func:`simulate_power`.

The simulation is vectorised across simulated studies (no Python loop per study):
each chunk of studies is a (studies x participants) array. The analytic figures are in
:mod:`analysis.power`; a plan's whole design in :mod:`analysis.power_design`.

Examples
--------
>>> res = simulate_power(2, n_total=200, effect_sizes={"arm1": 0.4}, n_sims=200, seed=3)
>>> res[["arm", "n_assigned", "power", "n_sims"]]
    arm  n_assigned  power  n_sims
0  arm1         100  0.785     200
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

METHODS = ("difference_in_means", "lin")
CORRECTIONS = ("none", "bonferroni", "holm", "bh")
# Keep each chunk's (studies x participants) arrays around 16 MB of float64.
_CHUNK_CELLS = 2_000_000


def _arm_labels(arms: int | Sequence[str]) -> list[str]:
    if isinstance(arms, int) and not isinstance(arms, bool):
        if arms < 2:
            raise ValueError(f"arms: expected at least 2 arms (control included), got {arms}")
        return ["control", *[f"arm{i}" for i in range(1, arms)]]
    labels = [str(a) for a in arms]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"arms: expected at least 2 distinct labels (control first), got {labels}")
    return labels


def _weights(labels: list[str], allocation) -> np.ndarray:
    if allocation is None:
        w = np.ones(len(labels))
    elif isinstance(allocation, Mapping):
        unknown = set(allocation) - set(labels)
        if unknown:
            raise ValueError(f"allocation: unknown arm(s) {sorted(unknown)}; arms are {labels}")
        w = np.array([float(allocation.get(a, 0.0)) for a in labels])
    else:
        w = np.asarray(allocation, dtype=float)
        if w.shape != (len(labels),):
            raise ValueError(
                f"allocation: expected {len(labels)} weights, one per arm, got {list(w)}"
            )
    if np.any(w <= 0):
        raise ValueError(f"allocation: expected a positive weight for every arm, got {list(w)}")
    return w / w.sum()


def _counts(n: int, shares: np.ndarray) -> np.ndarray:
    # Largest-remainder rounding: the exact counts a complete randomization would fix.
    raw = n * shares
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _adjust(p: np.ndarray, correction: str) -> np.ndarray:
    """Row-wise adjusted p-values (each row one simulated study's family)."""
    m = p.shape[1]
    if correction == "none" or m == 1:
        return p
    if correction == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, axis=1)
    ps = np.take_along_axis(p, order, axis=1)
    if correction == "holm":
        adj = np.maximum.accumulate(ps * (m - np.arange(m)), axis=1)
    else:  # bh
        adj = np.minimum.accumulate((ps * m / np.arange(1, m + 1))[:, ::-1], axis=1)[:, ::-1]
    adj = np.minimum(adj, 1.0)
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=1)
    return out


def _group_mean_var(y: np.ndarray, mask: np.ndarray, starts: np.ndarray | None):
    """Count, mean and sample variance of y over mask, per row (and per block if starts)."""
    mf = mask.astype(float)
    if starts is None:
        n = mf.sum(axis=1)
        s1 = (y * mf).sum(axis=1)
        s2 = (y * y * mf).sum(axis=1)
    else:
        n = np.add.reduceat(mf, starts, axis=1)
        s1 = np.add.reduceat(y * mf, starts, axis=1)
        s2 = np.add.reduceat(y * y * mf, starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = (s2 - n * mean * mean) / (n - 1)
    return n, mean, var


def _lin_intercepts(y, u, mask):
    """Per row: intercept of y on (1, u) within mask and its HC2 variance.

    In Lin's fully interacted regression the HC2 covariance is block diagonal by arm,
    so each arm's intercept (its covariate-adjusted mean) is this within-arm fit.
    """
    mf = mask.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = mf.sum(axis=1)
        ubar = (u * mf).sum(axis=1) / n
        ybar = (y * mf).sum(axis=1) / n
        du = (u - ubar[:, None]) * mf
        suu = (du * du).sum(axis=1)
        slope = (du * (y - ybar[:, None])).sum(axis=1) / suu
        a = ybar - slope * ubar
        e = (y - a[:, None] - slope[:, None] * u) * mf
        lev = (1.0 / n)[:, None] + du * du / suu[:, None]
        c = (1.0 / n)[:, None] - ubar[:, None] * du / suu[:, None]
        v = (c * c * e * e / np.where(mask, 1.0 - lev, 1.0)).sum(axis=1)
    return n, a, v


def simulate_power(
    arms: int | Sequence[str],
    allocation: Mapping[str, float] | Sequence[float] | None = None,
    n_total: int = 1000,
    effect_sizes: Mapping[str, float] | None = None,
    *,
    blocks: int | None = None,
    covariate_r2: float = 0.0,
    attrition: float = 0.0,
    alpha: float = 0.05,
    correction: str = "none",
    method: str = "difference_in_means",
    n_sims: int = 1000,
    seed: int | None = None,
    outcome: str = "continuous",
    p_control: float = 0.5,
    block_shares: Sequence[float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Power of each frame-vs-control test for an exact design, by simulation.

    Parameters
    ----------
    arms : int or sequence of str
        Labels of all arms, control first (an int k means ``control, arm1, ... arm{k-1}``).
    allocation : mapping or sequence of float, optional
        Design weights per arm (default equal).
    n_total : int
        Participants randomized per study.
    effect_sizes : mapping of str to float
        True Cohen's d of each frame arm vs control (arms not listed: 0).
    blocks : int, optional
        Number of randomization blocks (equal sizes).
    block_shares : sequence of float, optional
        Shares of the blocks (strata) in the sample, e.g. ``[0.4, 0.3, 0.3]``: block b
        holds the next ``share_b`` of participants ranked by x (so strata of a
        prognostic pre-measure); replaces ``blocks``.
    covariate_r2 : float
        Share of outcome variance explained by the pre-treatment covariate x.
    attrition : float
        Probability that an assigned participant is not analysed.
    alpha, correction, method, n_sims, seed
        As above; ``seed`` makes the result reproducible.
    outcome : {"continuous", "binary"}
        Continuous (effects are Cohen's d) or yes/no (effects are Cohen's h).
    p_control : float
        Share of 1s in the control for a binary outcome.
    progress : callable, optional
        Called with the number of simulated studies finished after each chunk.

    Returns
    -------
    pandas.DataFrame
        One row per frame arm: ``arm, effect_size, n_assigned, n_analysed, power,
        mc_std_error, mean_estimate, mean_std_error, method, n_sims``.
        ``n_assigned`` is exact; ``n_analysed`` the expected count after
        attrition; ``mc_std_error = sqrt(power (1 - power) / n_sims)``;
        ``mean_estimate`` and ``mean_std_error`` are in outcome units (a difference
        in means, or in proportions for a binary outcome).

    Notes
    -----
    Data-generating model, per simulated study: ``n_total`` participants with a
    standard-normal prognostic covariate x; complete randomization to arms in the
    exact ``allocation`` (within each block when ``blocks`` is set: blocks are
    ``blocks`` equal-sized groups formed on x, as when blocking on a pre-measure);
    outcome ``y = d_arm + sqrt(r2) * x + sqrt(1 - r2) * e`` with e ~ N(0, 1), so
    ``effect_sizes`` are Cohen's d on an outcome with unit SD in the control;
    with ``outcome="binary"`` the effects are Cohen's h, arm a's share of 1s is
    ``p_a = sin(asin(sqrt(p_control)) + h_a / 2)^2`` and ``y = 1[z < Phi^-1(p_a)]``
    with the latent ``z = sqrt(r2) x + sqrt(1 - r2) e`` (so ``covariate_r2`` is
    on the latent scale; the analysis is the same difference in proportions);
    each participant then drops out independently with probability ``attrition``
    (missing completely at random). The analysis of each study uses complete cases:

    - ``"difference_in_means"``: Welch (= HC2) difference in means with
      Welch–Satterthwaite df; with ``blocks``, estimatr's blocked estimator
      (block-size-weighted differences, SE = sqrt(sum w_b^2 se_b^2), df = N - 2B).
    - ``"lin"``: Lin (2013) interacted covariate adjustment for x (centred on the
      analysed sample), HC2, df = N - 2 * arms, as estimatr's ``lm_lin``. It ignores
      ``blocks``: the blocks are formed on x, which the adjustment already uses.

    The ``arms - 1`` p-values of each study are adjusted with ``correction``
    (holm, bh, bonferroni or none) and a frame's test rejects when its adjusted
    p-value is at most ``alpha``. A test that cannot be computed (fewer than two
    analysed participants in an arm or block) counts as not rejecting.

    References
    ----------
    Lin, W. (2013). Agnostic notes on regression adjustments to experimental data.
    Annals of Applied Statistics 7(1), 295-318.
    Gerber, A. & Green, D. (2012). Field Experiments, ch. 3-4.
    Blair, G., Cooper, J., Coppock, A. & Humphreys, M. (2019). Declaring and
    diagnosing research designs. APSR 113(3), 838-859.

    Examples
    --------
    >>> res = simulate_power(3, n_total=600, effect_sizes={"arm1": 0.3, "arm2": 0.0},
    ...                      n_sims=200, seed=1)
    >>> list(res["arm"]), bool(res["power"].iloc[0] > 0.5)
    (['arm1', 'arm2'], True)
    """
    labels = _arm_labels(arms)
    shares = _weights(labels, allocation)
    effects = dict(effect_sizes or {})
    unknown = set(effects) - set(labels[1:])
    if unknown:
        raise ValueError(
            f"effect_sizes: unknown frame arm(s) {sorted(unknown)}; frame arms are {labels[1:]}"
        )
    if outcome not in ("continuous", "binary"):
        raise ValueError(f"outcome: expected 'continuous' or 'binary', got {outcome!r}")
    if not 0.0 < p_control < 1.0:
        raise ValueError(
            f"p_control: expected a proportion strictly between 0 and 1, got {p_control!r}"
        )
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    if correction not in CORRECTIONS:
        raise ValueError(
            f"correction: expected one of {', '.join(CORRECTIONS)}, got {correction!r}"
        )
    if not 0.0 <= covariate_r2 < 1.0:
        raise ValueError(f"covariate_r2: expected a number in [0, 1), got {covariate_r2!r}")
    if not 0.0 <= attrition < 1.0:
        raise ValueError(f"attrition: expected a number in [0, 1), got {attrition!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: expected a number between 0 and 1, got {alpha!r}")
    k = len(labels)
    if block_shares is not None:
        shares_b = np.asarray(block_shares, dtype=float)
        if shares_b.ndim != 1 or len(shares_b) < 1 or np.any(shares_b <= 0):
            raise ValueError(
                f"block_shares: expected a positive share per block, got {list(block_shares)}"
            )
        shares_b = shares_b / shares_b.sum()
        blocks = len(shares_b)
    else:
        shares_b = None
    if shares_b is None and blocks is not None and (blocks < 1 or n_total // blocks < 2 * k):
        raise ValueError(
            f"blocks: expected a positive number of blocks with at least {2 * k} participants "
            f"each (2 per arm), got {blocks} blocks for n_total={n_total}"
        )
    if n_total < 2 * k:
        raise ValueError(f"n_total: expected at least 2 per arm ({2 * k}), got {n_total}")
    if n_sims < 1:
        raise ValueError(f"n_sims: expected a positive integer, got {n_sims}")

    n = int(n_total)
    n_blocks = blocks or 1
    if shares_b is None:
        block_of = np.arange(n) * n_blocks // n
    else:
        # block sizes by largest remainder, in rank order of x
        block_of = np.repeat(np.arange(n_blocks), _counts(n, shares_b))
    starts = np.flatnonzero(np.r_[True, block_of[1:] != block_of[:-1]])
    per_block = [_counts(int(np.sum(block_of == b)), shares) for b in range(n_blocks)]
    if min(int(c.min()) for c in per_block) < 2:
        raise ValueError(
            f"allocation: each arm needs at least 2 participants per block; the smallest "
            f"arm gets {min(int(c.min()) for c in per_block)} with n_total={n_total} and "
            f"{n_blocks} block(s)"
        )
    base = np.concatenate([np.repeat(np.arange(k), c) for c in per_block])
    mu = np.array([0.0] + [float(effects.get(a, 0.0)) for a in labels[1:]])
    binary = outcome == "binary"
    if binary:
        shifted = np.arcsin(np.sqrt(p_control)) + mu / 2.0
        if np.any((shifted < 0) | (shifted > np.pi / 2)):
            raise ValueError(
                f"effect_sizes: Cohen's h beyond what p_control={p_control} allows "
                f"(h must keep every arm's proportion within 0 and 1), got {effects}"
            )
        cut = stats.norm.ppf(np.sin(shifted) ** 2)
    rng = np.random.default_rng(seed)
    m = k - 1
    rejected = np.zeros(m)
    est_sum = np.zeros(m)
    se_sum = np.zeros(m)
    se_count = np.zeros(m)
    chunk = max(1, _CHUNK_CELLS // n)
    done = 0
    while done < n_sims:
        s = min(chunk, n_sims - done)
        x = rng.standard_normal((s, n))
        if blocks:
            x.sort(axis=1)  # units are exchangeable: sorting makes position = rank of x
        perm = np.argsort(block_of + rng.random((s, n)), axis=1)
        assign = base[perm]
        z = np.sqrt(covariate_r2) * x + np.sqrt(1.0 - covariate_r2) * rng.standard_normal((s, n))
        y = (z < cut[assign]).astype(float) if binary else mu[assign] + z
        observed = rng.random((s, n)) >= attrition if attrition > 0 else np.ones((s, n), bool)
        est, se, df = _analyse(y, x, assign, observed, k, method, starts if blocks else None)
        with np.errstate(invalid="ignore"):
            p = 2.0 * stats.t.sf(np.abs(est / se), df)
        p = np.where(np.isfinite(p), p, 1.0)
        rejected += (_adjust(p, correction) <= alpha).sum(axis=0)
        ok = np.isfinite(se)
        est_sum += np.where(ok, est, 0.0).sum(axis=0)
        se_sum += np.where(ok, se, 0.0).sum(axis=0)
        se_count += ok.sum(axis=0)
        done += s
        if progress is not None:
            progress(s)
    pw = rejected / n_sims
    n_assigned = np.bincount(base, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_est = est_sum / se_count
        mean_se = se_sum / se_count
    return pd.DataFrame(
        {
            "arm": labels[1:],
            "effect_size": mu[1:],
            "n_assigned": n_assigned[1:],
            "n_analysed": n_assigned[1:] * (1.0 - attrition),
            "power": pw,
            "mc_std_error": np.sqrt(pw * (1.0 - pw) / n_sims),
            "mean_estimate": mean_est,
            "mean_std_error": mean_se,
            "method": method,
            "n_sims": n_sims,
        }
    )


def _analyse(y, x, assign, observed, k, method, starts):
    """Estimates, SEs and df (each studies x frame arms) of every frame-vs-control contrast."""
    s = y.shape[0]
    est = np.empty((s, k - 1))
    se = np.empty((s, k - 1))
    df = np.empty((s, k - 1))
    if method == "lin":
        n_obs = observed.sum(axis=1)
        u = x - ((x * observed).sum(axis=1) / n_obs)[:, None]
        fits = [_lin_intercepts(y, u, observed & (assign == g)) for g in range(k)]
        _, a0, v0 = fits[0]
        for j in range(1, k):
            _, a, v = fits[j]
            est[:, j - 1] = a - a0
            se[:, j - 1] = np.sqrt(v + v0)
            df[:, j - 1] = n_obs - 2 * k
        return est, se, df
    n0, m0, v0 = _group_mean_var(y, observed & (assign == 0), starts)
    for j in range(1, k):
        n1, m1, v1 = _group_mean_var(y, observed & (assign == j), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            var_b = v1 / n1 + v0 / n0
            if starts is None:
                est[:, j - 1] = m1 - m0
                se[:, j - 1] = np.sqrt(var_b)
                df[:, j - 1] = var_b**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v0 / n0) ** 2 / (n0 - 1))
            else:
                nb = n1 + n0
                w = nb / nb.sum(axis=1, keepdims=True)
                est[:, j - 1] = (w * (m1 - m0)).sum(axis=1)
                se[:, j - 1] = np.sqrt((w * w * var_b).sum(axis=1))
                df[:, j - 1] = nb.sum(axis=1) - 2 * starts.size
    return est, se, df
