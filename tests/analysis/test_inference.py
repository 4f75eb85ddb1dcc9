"""Randomization inference: exactness, blocks, seeds; and p-value adjustment properties."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import inference


def exact_p(y: np.ndarray, treated: np.ndarray) -> float:
    """Enumerate every assignment with the observed number treated."""
    n, n_t = len(y), int(treated.sum())
    observed = y[treated].mean() - y[~treated].mean()
    stats = []
    for idx in combinations(range(n), n_t):
        t = np.zeros(n, dtype=bool)
        t[list(idx)] = True
        stats.append(y[t].mean() - y[~t].mean())
    return float(np.mean(np.abs(stats) >= abs(observed) - 1e-12))


def test_ri_p_value_matches_full_enumeration_within_monte_carlo_error():
    # causaldata's `ri` example (Cunningham, Causal Inference: The Mixtape, ch. 5): 8 units.
    y = np.array([10, 5, 16, 3, 5, 7, 8, 10], dtype=float)
    treated = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    d = pd.DataFrame({"y": y, "arm": np.where(treated, "t", "c")})
    exact = exact_p(y, treated)
    res = analysis.randomization_inference(d, "y", "arm", "c", draws=20_000, seed=1).iloc[0]
    mc_se = np.sqrt(exact * (1 - exact) / 20_000)
    assert abs(res["p_value"] - exact) < 4 * mc_se + 1 / 20_001
    assert res["estimate"] == pytest.approx(y[treated].mean() - y[~treated].mean())


def test_ri_respects_blocks_outcome_constant_within_block_gives_p_one():
    # If y only varies between blocks, every within-block re-randomization reproduces
    # the observed (block-weighted) difference of zero: p must be exactly 1.
    blocks = np.repeat(["a", "b", "c"], 10)
    y = np.repeat([1.0, 5.0, 9.0], 10)
    arm = np.tile(["c"] * 5 + ["t"] * 5, 3)
    d = pd.DataFrame({"y": y, "arm": arm, "b": blocks})
    res = analysis.randomization_inference(d, "y", "arm", "c", blocks="b", draws=500, seed=2)
    assert res["p_value"].iloc[0] == 1.0
    assert res["std_error"].iloc[0] == 0.0


def test_blocked_null_distribution_keeps_every_blocks_arm_counts():
    rng = np.random.default_rng(0)
    block_id = np.repeat([0, 1, 2], [6, 10, 8])
    treated = np.concatenate([[1, 1, 0, 0, 0, 0], [1] * 5 + [0] * 5, [1, 1, 1, 0, 0, 0, 0, 0]])
    # With y = indicator of unit k, the statistic reveals whether unit k was treated;
    # sums over all units of a block then show the block's treated count is fixed.
    _, dist = inference._null_distribution(
        np.arange(24.0), treated.astype(bool), block_id, 3000, rng
    )
    assert np.isfinite(dist).all() and dist.std() > 0
    y = (block_id == 1).astype(float)
    obs, dist_b = inference._null_distribution(y, treated.astype(bool), block_id, 200, rng)
    assert np.allclose(dist_b, obs)


def test_ri_is_reproducible_from_the_seed_and_changes_with_it():
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"y": rng.normal(size=60), "arm": np.resize(["c", "t", "u"], 60)})
    a = analysis.randomization_inference(d, "y", "arm", "c", draws=2000, seed=11)
    b = analysis.randomization_inference(d, "y", "arm", "c", draws=2000, seed=11)
    c = analysis.randomization_inference(d, "y", "arm", "c", draws=2000, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["std_error"], c["std_error"])


def test_ri_p_value_uses_plus_one_convention_and_is_never_zero():
    d = pd.DataFrame({"y": [0.0] * 20 + [100.0] * 20, "arm": ["c"] * 20 + ["t"] * 20})
    res = analysis.randomization_inference(d, "y", "arm", "c", draws=999, seed=0).iloc[0]
    assert res["p_value"] == pytest.approx(1 / 1000)


def test_ri_agrees_with_welch_p_value_in_a_large_sample():
    rng = np.random.default_rng(9)
    n = 2000
    d = pd.DataFrame(
        {
            "arm": np.repeat(["c", "t"], n),
            "y": np.concatenate([rng.normal(size=n), rng.normal(0.08, 1, n)]),
        }
    )
    ri = analysis.randomization_inference(d, "y", "arm", "c", draws=10_000, seed=3).iloc[0]
    welch = analysis.difference_in_means(d, "y", "arm", "c").iloc[0]
    assert abs(ri["p_value"] - welch["p_value"]) < 0.015
    assert ri["std_error"] == pytest.approx(welch["std_error"], rel=0.03)


@pytest.mark.parametrize("method", ["holm", "bh", "bonferroni"])
def test_adjusted_p_values_are_monotone_in_p_and_never_below_raw(method):
    p = np.random.default_rng(1).uniform(size=25) ** 3
    adj = analysis.adjust_pvalues(p, method)
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= -1e-15)
    assert np.all(adj >= p) and np.all(adj <= 1)


def test_unknown_correction_is_rejected_with_the_allowed_names():
    with pytest.raises(
        ValueError, match="correction: expected one of holm, bh, bonferroni, none, got 'fdr'"
    ):
        analysis.adjust_pvalues([0.1], "fdr")


def test_hypergeometric_and_permutation_engines_give_the_same_null_distribution():
    rng = np.random.default_rng(4)
    n = 400
    block_id = np.repeat([0, 1], [150, 250])
    y = rng.integers(1, 6, n).astype(float) + block_id
    treated = np.zeros(n, dtype=bool)
    treated[rng.choice(150, 60, replace=False)] = True
    treated[150 + rng.choice(250, 125, replace=False)] = True
    draws = 20_000
    obs_h, hyper = inference._null_distribution(
        y, treated, block_id, draws, rng, engine="hypergeometric"
    )
    obs_p, perm = inference._null_distribution(
        y, treated, block_id, draws, rng, engine="permutation"
    )
    assert obs_h == pytest.approx(obs_p)
    assert hyper.mean() == pytest.approx(0, abs=0.01) and perm.mean() == pytest.approx(0, abs=0.01)
    assert hyper.std() == pytest.approx(perm.std(), rel=0.03)
    for q in (0.9, 0.95, 0.99):
        assert np.quantile(np.abs(hyper), q) == pytest.approx(
            np.quantile(np.abs(perm), q), rel=0.04
        )


def test_permutation_engine_refuses_work_beyond_max_cells_with_a_reason():
    d = pd.DataFrame({"y": np.linspace(0, 1, 400), "arm": np.resize(["c", "t"], 400)})
    with pytest.raises(ValueError, match="400 units x 10000 draws exceeds the work limit"):
        analysis.randomization_inference(d, "y", "arm", "c", seed=1, max_cells=1e6)
