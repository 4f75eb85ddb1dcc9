"""Multiple-comparison adjustment and randomization inference.

:func:`adjust_pvalues` adjusts a family of p-values as R's ``p.adjust`` does;
:func:`randomization_inference` gives each arm's difference in means a p-value from
its randomization distribution under the sharp null of no effect.

Examples
--------
>>> adjust_pvalues([0.01, 0.02, 0.5], "bonferroni").tolist()
[0.03, 0.06, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._data import effects_frame, prepare

__all__ = ["CORRECTIONS", "adjust_pvalues", "randomization_inference"]

CORRECTIONS = ("holm", "bh", "bonferroni", "none")


def adjust_pvalues(p: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjust a family of p-values for multiple comparisons, as R's ``p.adjust``.

    Parameters
    ----------
    p : sequence of float or numpy.ndarray
        The family's p-values (NaN allowed).
    method : {"holm", "bh", "bonferroni", "none"}, default "holm"
        The correction.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, in the order given, capped at 1 (NaN where ``p`` is NaN).

    Notes
    -----
    With ``p_(1) <= ... <= p_(m)`` the sorted p-values:

    - ``holm`` (step-down, controls the family-wise error rate):
      ``p_(i) * (m - i + 1)``, made monotone by a running maximum.
    - ``bh`` (controls the false discovery rate): ``p_(i) * m / i``, made monotone
      from the largest down by a running minimum.
    - ``bonferroni``: ``m p``. ``none``: unchanged.

    NaNs are left as NaN and do not count towards ``m`` (R's default).

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Scandinavian Journal of Statistics, 6(2), 65-70.
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a
    practical and powerful approach to multiple testing. JRSS B, 57(1), 289-300.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(2).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bh").round(2).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in CORRECTIONS:
        raise ValueError(f"correction: expected one of {', '.join(CORRECTIONS)}, got {method!r}")
    p_all = np.asarray(p, dtype=float)
    out = np.full(p_all.shape, np.nan)
    ok = ~np.isnan(p_all)
    q = p_all[ok]
    m = len(q)
    if m == 0:
        return out
    if method == "none":
        adj = q.copy()
    elif method == "bonferroni":
        adj = np.minimum(1.0, m * q)
    elif method == "holm":
        order = np.argsort(q, kind="stable")
        scaled = (m - np.arange(m)) * q[order]
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    else:
        order = np.argsort(q, kind="stable")[::-1]
        scaled = m / np.arange(m, 0, -1) * q[order]
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, np.minimum.accumulate(scaled))
    out[ok] = adj
    return out


# Indicator matrices are built in chunks of at most this many cells (~32 MB as float64).
_CHUNK_CELLS = 4_000_000


def _null_distribution(
    y: np.ndarray,
    treated: np.ndarray,
    block_id: np.ndarray,
    draws: int,
    rng: np.random.Generator,
    *,
    engine: str = "auto",
    max_cells: float | None = None,
) -> tuple[float, np.ndarray]:
    """Observed blocked difference in means and its distribution under re-randomization.

    Two exact engines, chosen by cost:

    - ``hypergeometric``: the statistic depends on the assignment only through the
      treated sum of y in each block. When y takes few distinct values (Likert items,
      binary intents, sliders) the counts of each value among a block's treated units
      follow a multivariate hypergeometric distribution, drawn for all draws at once
      with numpy -- O(values) per draw instead of O(n).
    - ``permutation``: units are sorted by block so each block is a contiguous column
      range; every row of an indicator matrix is shuffled independently within each
      block range (complete randomization within blocks), and the statistic for a
      chunk of draws is one matrix product.

    ``max_cells`` bounds the permutation engine's work (draws x units); beyond it a
    ValueError says so rather than running for minutes.
    """
    order = np.argsort(block_id, kind="stable")
    y, treated, block_id = y[order], treated[order].astype(float), block_id[order]
    J = int(block_id.max()) + 1
    bounds = np.searchsorted(block_id, np.arange(J + 1))
    n_j = np.diff(bounds).astype(float)
    n_tj = np.add.reduceat(treated, bounds[:-1])
    n_cj = n_j - n_tj
    if np.any(n_tj == 0) or np.any(n_cj == 0):
        raise ValueError("blocks: every block needs units in both the arm and the control")
    tot_j = np.add.reduceat(y, bounds[:-1])
    w = n_j / n_j.sum()

    def stat(sum_t: np.ndarray) -> np.ndarray:
        return (w * (sum_t / n_tj - (tot_j - sum_t) / n_cj)).sum(axis=-1)

    observed = float(stat(np.add.reduceat(y * treated, bounds[:-1])))
    n = len(y)
    block_values = [np.unique(y[bounds[j] : bounds[j + 1]], return_counts=True) for j in range(J)]
    n_values = sum(len(v) for v, _ in block_values)
    if engine == "auto":
        # Measured: ~0.8 us per value per draw vs ~0.09 us per unit per draw.
        engine = "hypergeometric" if 9 * n_values < n else "permutation"
    if engine == "hypergeometric":
        sums = np.empty((draws, J))
        for j, (values, counts) in enumerate(block_values):
            drawn = rng.multivariate_hypergeometric(counts, int(n_tj[j]), size=draws)
            sums[:, j] = drawn @ values
        return observed, stat(sums)
    if max_cells is not None and float(n) * draws > max_cells:
        raise ValueError(
            f"randomization inference skipped: {n} units x {draws} draws exceeds the work "
            f"limit of {max_cells:.0e} cells for an outcome with many distinct values"
        )
    chunk = max(1, min(draws, _CHUNK_CELLS // max(n, 1)))
    dist = np.empty(draws)
    # Block membership weighted by y: Z @ member gives every draw's treated sum per block.
    member = np.zeros((n, J))
    member[np.arange(n), block_id] = y
    done = 0
    while done < draws:
        m = min(chunk, draws - done)
        Z = np.broadcast_to(treated, (m, n)).copy()
        for j in range(J):
            s, e = bounds[j], bounds[j + 1]
            rng.permuted(Z[:, s:e], axis=1, out=Z[:, s:e])
        dist[done : done + m] = stat(Z @ member)
        done += m
    return observed, dist


def randomization_inference(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    blocks: str | None = None,
    draws: int = 10_000,
    seed: int | None = None,
    alpha: float = 0.05,
    max_cells: float | None = None,
) -> pd.DataFrame:
    """Randomization-inference p-value for the difference in means of each arm vs control.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy data, one row per participant.
    outcome : str
        Numeric outcome column.
    arm : str
        Column holding each participant's arm label.
    control : object
        The control arm's label.
    blocks : str, optional
        Column of randomization blocks; labels are re-shuffled within blocks.
    draws : int, default 10000
        Re-randomizations per arm.
    seed : int, optional
        Seed of the draws (each arm gets its own stream), for a reproducible p-value.
    alpha : float, default 0.05
        Kept for the common signature; there is no interval.
    max_cells : float, optional
        Work limit (units x draws) for outcomes with many distinct values; beyond it a
        ValueError says so.

    Returns
    -------
    pandas.DataFrame
        One row per treatment arm:

        * ``outcome``, ``arm``: the outcome and the arm compared with the control
        * ``method``: ``"randomization_inference"``
        * ``estimate``: the observed (block-size-weighted) difference in means (outcome units)
        * ``std_error``: SD of the randomization distribution (outcome units)
        * ``statistic``: the observed statistic (= ``estimate``)
        * ``df``: NaN (no reference distribution but the randomization one)
        * ``p_value``: two-sided randomization p-value (see Notes)
        * ``conf_low``, ``conf_high``: NaN
        * ``n_control``, ``n_treatment``: participants of the control and the arm used
        * ``draws``, ``seed``: the draws made and the seed given

    Notes
    -----
    Under the sharp null of no effect for anyone, the outcomes are fixed and only the
    assignment varies. The labels of the arm and the control are re-shuffled ``draws``
    times (within ``blocks`` when given, keeping every block's arm counts), and the
    statistic ``T = sum_j (n_j / N) (mean_tj - mean_cj)`` is recomputed for every draw.
    Two-sided p-value ``(1 + #{|T*| >= |T|}) / (1 + draws)`` (Phipson & Smyth 2010),
    never zero and valid for any number of draws. Outcomes with few distinct values use
    exact multivariate-hypergeometric draws of the treated value counts (fast at any n);
    others shuffle indicator matrices in chunks.

    References
    ----------
    Fisher, R. A. (1935). The Design of Experiments. Oliver & Boyd.
    Gerber, A. S., & Green, D. P. (2012). Field Experiments, ch. 3. Norton.
    Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero.
    Statistical Applications in Genetics and Molecular Biology, 9(1), Article 39.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2, 3, 4, 6, 8], "arm": ["c"] * 3 + ["t"] * 3})
    >>> r = randomization_inference(d, "y", "arm", "c", draws=2000, seed=1)
    >>> float(r["estimate"].iloc[0]), bool(0.05 < r["p_value"].iloc[0] < 0.2)
    (4.0, True)
    """
    if draws < 1:
        raise ValueError(f"ri_draws: expected a positive integer, got {draws!r}")
    p = prepare(df, outcome, arm, control, blocks=blocks)
    streams = np.random.SeedSequence(seed).spawn(len(p.arms))
    rows = []
    for j, (a, stream) in enumerate(zip(p.arms, streams, strict=True), start=1):
        in_pair = (p.codes == j) | (p.codes == 0)
        y = p.y[in_pair]
        treated = p.codes[in_pair] == j
        if blocks:
            _, block_id = np.unique(p.blocks[in_pair], return_inverse=True)
        else:
            block_id = np.zeros(len(y), dtype=np.intp)
        observed, dist = _null_distribution(
            y, treated, block_id, draws, np.random.default_rng(stream), max_cells=max_cells
        )
        # Tolerance so ties with the observed value are not lost to rounding.
        tol = 1e-9 * max(1.0, abs(observed))
        extreme = int(np.sum(np.abs(dist) >= abs(observed) - tol))
        rows.append(
            {
                "outcome": outcome,
                "arm": a,
                "method": "randomization_inference",
                "estimate": observed,
                "std_error": float(dist.std(ddof=1)) if draws > 1 else np.nan,
                "statistic": observed,
                "df": np.nan,
                "p_value": (1 + extreme) / (1 + draws),
                "conf_low": np.nan,
                "conf_high": np.nan,
                "n_control": int((~treated).sum()),
                "n_treatment": int(treated.sum()),
                "draws": int(draws),
                "seed": seed,
            }
        )
    return effects_frame(rows)
