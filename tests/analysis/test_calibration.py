"""Calibration by simulation: under no effect each test rejects ~5% of the time at
alpha = .05 and 95% intervals cover the true effect ~95% of the time, in small
samples (20 per arm) and with unequal variances.

Monte-Carlo error: with R replications the rejection rate has SE sqrt(.05 * .95 / R);
we accept anything within 3 SE (and coverage likewise around .95). Seeds are fixed,
so the test is deterministic; the bounds are what a correct method passes with
probability ~0.997 for any seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.hc import ols_hc2
from analysis.small_sample import hc2_inference

ALPHA = 0.05


def within_mc_error(rate: float, target: float, reps: int) -> bool:
    se = np.sqrt(target * (1 - target) / reps)
    return abs(rate - target) <= 3 * se


def two_arm(rng: np.random.Generator, n: int, sd_t: float, sd_c: float, **extra) -> pd.DataFrame:
    y = np.concatenate([rng.normal(0, sd_c, n), rng.normal(0, sd_t, n)])
    return pd.DataFrame({"arm": np.repeat(["c", "t"], n), "y": y, **extra})


def simulate(make, estimate, reps: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    reject = cover = 0
    for _ in range(reps):
        row = estimate(make(rng)).iloc[0]
        reject += row["p_value"] < ALPHA
        cover += bool(row["conf_low"] <= 0 <= row["conf_high"]) if "conf_low" in row else 0
    return reject / reps, cover / reps


CASES = {
    "welch_20_per_arm_sd_1_vs_3": (
        lambda rng: two_arm(rng, 20, 3.0, 1.0),
        lambda d: analysis.difference_in_means(d, "y", "arm", "c"),
        1000,
    ),
    "blocked_4_blocks_unequal_variances": (
        lambda rng: pd.DataFrame(
            {
                "arm": np.tile(np.repeat(["c", "t"], 5), 4),
                "b": np.repeat(["a", "b", "c", "d"], 10),
                "y": np.repeat([0.0, 2.0, 4.0, 6.0], 10)
                + rng.normal(0, 1, 40) * np.tile(np.repeat([1.0, 2.5], 5), 4),
            }
        ),
        lambda d: analysis.difference_in_means(d, "y", "arm", "c", blocks="b"),
        1000,
    ),
    "lin_hc2_20_per_arm_heteroskedastic": (
        lambda rng: (
            lambda x: two_arm(rng, 20, 2.0, 1.0, x=x).assign(y=lambda d: d["y"] + 0.8 * x)
        )(rng.normal(size=40)),
        lambda d: analysis.lin(d, "y", "arm", "c", ["x"]),
        800,
    ),
    "logit_50_per_arm": (
        lambda rng: pd.DataFrame(
            {"arm": np.repeat(["c", "t"], 50), "y": (rng.random(100) < 0.35).astype(float)}
        ),
        lambda d: analysis.logit(d, "y", "arm", "c"),
        600,
    ),
    "ordinal_logit_40_per_arm": (
        lambda rng: pd.DataFrame(
            {
                "arm": np.repeat(["c", "t"], 40),
                "y": rng.choice([1, 2, 3, 4, 5], 80, p=[0.1, 0.2, 0.3, 0.25, 0.15]),
            }
        ),
        lambda d: analysis.ordinal_logit(d, "y", "arm", "c"),
        400,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_null_rejection_rate_is_5_percent_and_coverage_95_percent(case):
    make, estimate, reps = CASES[case]
    reject, cover = simulate(make, estimate, reps, seed=sum(map(ord, case)))
    assert within_mc_error(reject, ALPHA, reps), f"{case}: rejection rate {reject:.3f}"
    assert within_mc_error(cover, 1 - ALPHA, reps), f"{case}: coverage {cover:.3f}"


@pytest.mark.slow
def test_randomization_inference_and_mann_whitney_reject_5_percent_under_the_null():
    rng = np.random.default_rng(2024)
    reps = 500
    ri_reject = mw_reject = 0
    for _ in range(reps):
        d = pd.DataFrame({"arm": np.repeat(["c", "t"], 20), "y": rng.exponential(1.0, 40)})
        ri = analysis.randomization_inference(
            d, "y", "arm", "c", draws=400, seed=int(rng.integers(2**31))
        )
        ri_reject += ri["p_value"].iloc[0] < ALPHA
        mw_reject += analysis.mann_whitney(d, "y", "arm", "c")["p_value"].iloc[0] < ALPHA
    assert within_mc_error(ri_reject / reps, ALPHA, reps), ri_reject / reps
    assert within_mc_error(mw_reject / reps, ALPHA, reps), mw_reject / reps


def test_calibration_check_detects_a_miscalibrated_test():
    # Guard against a vacuous check: a naive z test with the pooled-variance SE and
    # very unequal arm sizes and variances must fail the same bounds.
    rng = np.random.default_rng(0)
    reps, reject = 1500, 0
    for _ in range(reps):
        yc, yt = rng.normal(0, 1, 60), rng.normal(0, 4, 15)
        sp = np.sqrt(((59 * yc.var(ddof=1)) + 14 * yt.var(ddof=1)) / 73)
        z = (yt.mean() - yc.mean()) / (sp * np.sqrt(1 / 60 + 1 / 15))
        reject += abs(z) > 1.96
    assert not within_mc_error(reject / reps, ALPHA, reps)


# --- small, unbalanced arms (issue 19): 15 control vs 60 treated, control SD 3x --------

N_C, N_T = 15, 60


def _unbalanced_lin_design(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lin's design (1, D, x - mean, D (x - mean)) and y under no effect."""
    x = rng.normal(size=N_C + N_T)
    treated = np.repeat([0.0, 1.0], [N_C, N_T])
    y = 0.5 * x + np.concatenate([rng.normal(0, 3, N_C), rng.normal(0, 1, N_T)])
    xc = x - x.mean()
    return np.column_stack([np.ones_like(x), treated, xc, treated * xc]), y


def test_lin_fast_path_of_the_calibration_is_analysis_lin():
    # The calibration below calls the HC2 core directly (no pandas, 4,000 fits in
    # seconds); this checks it gives exactly what analysis.lin reports.
    rng = np.random.default_rng(1)
    for _ in range(5):
        X, y = _unbalanced_lin_design(rng)
        d = pd.DataFrame({"arm": np.where(X[:, 1] == 1, "t", "c"), "x": X[:, 2], "y": y})
        row = analysis.lin(d, "y", "arm", "c", ["x"]).iloc[0]
        fast = hc2_inference(ols_hc2(X, y), 1, ALPHA, "bell_mccaffrey")
        for key in ("estimate", "std_error", "df", "p_value", "conf_low", "conf_high"):
            assert fast[key] == pytest.approx(row[key], rel=1e-9), key
        assert fast["p_value_residual"] == pytest.approx(row["p_value_residual"], rel=1e-9)


@pytest.mark.slow
def test_lin_hc2_with_bell_mccaffrey_df_keeps_5_percent_with_small_unbalanced_arms():
    # Issue 19: with residual df (estimatr's default) Lin rejects ~7.4% here and its 95%
    # interval covers ~92.6%; Bell-McCaffrey df must stay within [4, 6]% and [94, 96]%.
    # 4,000 runs: Monte-Carlo SE 0.34 points. (20,000 runs, another seed: BM rejects
    # 5.5%, covers 94.5%; residual df rejects 6.9%.)
    rng = np.random.default_rng(19)
    reps = 4000
    reject = {"bell_mccaffrey": 0, "residual": 0}
    cover = dict.fromkeys(reject, 0)
    for _ in range(reps):
        X, y = _unbalanced_lin_design(rng)
        fit = ols_hc2(X, y)
        for rule in reject:
            r = hc2_inference(fit, 1, ALPHA, rule)
            reject[rule] += r["p_value"] < ALPHA
            cover[rule] += r["conf_low"] <= 0 <= r["conf_high"]
    rate = {k: v / reps for k, v in reject.items()}
    coverage = {k: v / reps for k, v in cover.items()}
    assert 0.040 <= rate["bell_mccaffrey"] <= 0.060, rate
    assert 0.94 <= coverage["bell_mccaffrey"] <= 0.96, coverage
    # The check can fail: the residual df that the issue measured miscalibrated does.
    assert rate["residual"] > 0.065 and coverage["residual"] < 0.935, (rate, coverage)
