"""Identities between estimators, checked on generated data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import analysis

sizes = st.tuples(st.integers(2, 25), st.integers(2, 25), st.integers(2, 25))
# Lin with one covariate fits 6 coefficients: at least 4 per arm leaves residual df.
lin_sizes = st.tuples(st.integers(4, 25), st.integers(4, 25), st.integers(4, 25))


def make(seed: int, n: tuple[int, int, int], scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat(["control", "a", "b"], n)
    sd = np.repeat([1.0, 2.5, 0.5], n)
    return pd.DataFrame({"arm": arm, "y": scale * rng.normal(0, sd), "x": rng.normal(size=sum(n))})


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=sizes)
def test_welch_difference_equals_hc2_ols_on_the_pair(seed, n):
    # The Neyman/Welch variance is exactly HC2 for a regression on a treatment dummy.
    d = make(seed, n)
    dim = analysis.difference_in_means(d, "y", "arm", "control").set_index("arm")
    for arm in ("a", "b"):
        pair = d[d["arm"].isin(["control", arm])]
        X = np.column_stack([np.ones(len(pair)), (pair["arm"] == arm).to_numpy(float)])
        fit = analysis.ols_hc2(X, pair["y"].to_numpy(), ["(Intercept)", "t"])
        assert dim.loc[arm, "estimate"] == pytest.approx(fit.coef[1], rel=1e-9, abs=1e-12)
        assert dim.loc[arm, "std_error"] == pytest.approx(fit.std_error[1], rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=lin_sizes, shift=st.floats(-50, 50), scale=st.floats(0.1, 10))
def test_estimates_are_equivariant_to_shifting_and_scaling_the_outcome(seed, n, shift, scale):
    d = make(seed, n)
    moved = d.assign(y=d["y"] * scale + shift)
    for fn in (analysis.difference_in_means, lambda df, *a: analysis.lin(df, *a, ["x"])):
        base, other = fn(d, "y", "arm", "control"), fn(moved, "y", "arm", "control")
        np.testing.assert_allclose(
            other["estimate"], scale * base["estimate"], rtol=1e-7, atol=1e-9
        )
        np.testing.assert_allclose(other["p_value"], base["p_value"], rtol=1e-6, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=sizes)
def test_change_score_equals_difference_in_mean_changes(seed, n):
    d = make(seed, n).assign(pre=lambda f: f["x"] + 3)
    cs = analysis.change_score(d, "y", "arm", "control", "pre").set_index("arm")
    change = (d["y"] - d["pre"]).groupby(d["arm"]).mean()
    for arm in ("a", "b"):
        assert cs.loc[arm, "estimate"] == pytest.approx(change[arm] - change["control"], abs=1e-10)


@settings(max_examples=30, deadline=None)
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_is_between_raw_and_bonferroni_and_bh_never_exceeds_holm(p):
    p = np.array(p)
    holm, bh = analysis.adjust_pvalues(p, "holm"), analysis.adjust_pvalues(p, "bh")
    bonf = analysis.adjust_pvalues(p, "bonferroni")
    assert np.all(p <= holm + 1e-15) and np.all(holm <= bonf + 1e-15)
    assert np.all(bh <= holm + 1e-15)
