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
