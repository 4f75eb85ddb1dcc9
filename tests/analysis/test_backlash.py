"""Backlash probabilities (analysis.backlash): R's pnorm, calibration, direction, defaults.

tests/reference/backlash/backlash.R computes the difference in means with estimatr
(overall and within each level of a moderator) and the probabilities with ``pnorm``
under the flat and the skeptical prior; the call is in each row's ``call`` column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis
from analysis.backlash import backlash_probabilities

REF = Path(__file__).resolve().parents[1] / "reference"
PROBS = ["p_backlash", "p_backlash_delta", "p_backlash_prior", "p_backlash_delta_prior"]


def _plan(desired: str, **extra) -> dict:
    return {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "post", "desired": desired}],
        "moderators": ["x2"],
        "min_cell_size": 5,
        "ri_draws": 100,
        "seed": 1,
        **extra,
    }


@pytest.mark.parametrize("desired", ["increase", "decrease"])
def test_backlash_probabilities_match_r_pnorm_per_arm_and_subgroup(desired):
    ref = pd.read_csv(REF / "backlash" / "backlash_ref.csv").query("desired == @desired")
    data = pd.read_csv(REF / "data" / "synthetic.csv")
    plan = _plan(desired, equivalence_units="raw", backlash_delta=0.2, backlash_prior_sd=0.5)
    got = pd.DataFrame(analysis.run(data, plan)["backlash"])
    assert len(got) == len(ref) == 8
    for _, row in ref.iterrows():
        level = None if pd.isna(row["level"]) else row["level"]
        in_level = got["level"].isna() if level is None else got["level"] == level
        match = got[(got["arm"] == row["arm"]) & in_level]
        assert len(match) == 1, (row["arm"], level)
        mine = match.iloc[0]
        assert mine["desired"] == desired and mine["delta"] == 0.2 and mine["prior_sd"] == 0.5
        for col in ["estimate", "std_error", *PROBS]:
            assert mine[col] == pytest.approx(row[col], rel=1e-9, abs=1e-15), (
                f"{col}: R {row['call']} gives {row[col]}, we give {mine[col]}"
            )


@pytest.mark.slow
def test_p_backlash_is_uniform_when_the_true_effect_is_zero():
    # Calibration: a frame with no effect gets P(effect < 0) ~ U(0, 1) across replications
    # (flat prior), so "a 1 in 8 chance" happens 1 time in 8. 2,000 simulated studies,
    # 100 per arm, unequal SDs; the Kolmogorov-Smirnov statistic must be below its 1%
    # critical value (exact, scipy.stats.kstwo: 0.0363 for n = 2,000).
    rng = np.random.default_rng(2019)
    reps, n = 2000, 100
    arm = np.repeat(["control", "care"], n)
    est, se = np.empty(reps), np.empty(reps)
    for i in range(reps):
        y = np.concatenate([rng.normal(0, 1.0, n), rng.normal(0, 1.5, n)])
        row = analysis.difference_in_means(
            pd.DataFrame({"arm": arm, "y": y}), "y", "arm", "control"
        )
        est[i], se[i] = row["estimate"].iloc[0], row["std_error"].iloc[0]
    p = backlash_probabilities(est, se)["p_backlash"]
    critical = stats.kstwo.ppf(0.99, reps)
    ks = stats.kstest(p, "uniform").statistic
    assert ks < critical, (ks, critical)
    # The check can fail: with a true effect of 0.25 (in the campaign's favour) the same
    # probabilities pile up near 0.
    shifted = backlash_probabilities(est + 0.25, se)["p_backlash"]
    assert stats.kstest(shifted, "uniform").statistic > critical


def test_direction_follows_the_desired_change():
    up = backlash_probabilities(0.3, 0.2, delta=0.1)
    down = backlash_probabilities(0.3, 0.2, delta=0.1, desired="decrease")
    assert up["p_backlash"] == pytest.approx(stats.norm.cdf(-1.5))
    assert down["p_backlash"] == pytest.approx(1 - stats.norm.cdf(-1.5))
    # decrease wanted: backlash is a rise; beyond delta = a rise of more than 0.1
    assert down["p_backlash_delta"] == pytest.approx(stats.norm.cdf((0.3 - 0.1) / 0.2))
    # A skeptical prior pulls the estimate towards 0: P(backlash) moves towards 1/2.
    prior = backlash_probabilities(0.3, 0.2, prior_sd=0.1)
    assert up["p_backlash"] < prior["p_backlash"] < 0.5
    with pytest.raises(ValueError, match="desired: expected increase or decrease"):
        backlash_probabilities(0.3, 0.2, desired="up")
    with pytest.raises(ValueError, match="prior_sd: expected a positive number"):
        backlash_probabilities(0.3, 0.2, prior_sd=0.0)


def test_delta_defaults_to_the_plans_equivalence_bound_in_raw_units():
    data = pd.read_csv(REF / "data" / "synthetic.csv")
    res = analysis.run(data, _plan("increase", equivalence_bound=0.15))
    eq = {r["arm"]: r for r in res["equivalence"]}
    rows = [r for r in res["backlash"] if r["level"] is None]
    assert {r["arm"] for r in rows} == {"care", "fairness"}
    for r in rows:
        assert r["delta"] == pytest.approx(eq[r["arm"]]["bound_raw"], rel=1e-12)
        assert r["prior_sd"] is None and r["p_backlash_prior"] is None
        assert r["one_in"] == round(1 / r["p_backlash"])
    # Plan values in SDs are converted with the same pooled SD.
    res = analysis.run(data, _plan("increase", equivalence_bound=0.15, backlash_delta=0.3))
    for r in (r for r in res["backlash"] if r["level"] is None):
        assert r["delta"] == pytest.approx(2 * eq[r["arm"]]["bound_raw"], rel=1e-12)


def test_backlash_uses_the_confirmatory_estimate_and_skips_suppressed_subgroups():
    data = pd.read_csv(REF / "data" / "synthetic.csv")
    plan = _plan("increase", covariates=["x1"], primary_method="lin", min_cell_size=1000)
    res = analysis.run(data, plan)
    lin = {e["arm"]: e for e in res["effects"] if e["method"] == "lin"}
    rows = res["backlash"]
    assert {r["method"] for r in rows} == {"lin"}  # every subgroup cell suppressed
    for r in rows:
        assert r["estimate"] == lin[r["arm"]]["estimate"]


def test_one_in_is_left_out_when_backlash_is_more_likely_than_not():
    data = pd.read_csv(REF / "data" / "synthetic.csv")
    rows = analysis.run(data, _plan("decrease"))["backlash"]
    care = next(r for r in rows if r["arm"] == "care" and r["level"] is None)
    assert care["p_backlash"] > 0.5 and care["one_in"] is None


def test_an_interim_run_has_no_backlash_section():
    data = pd.read_csv(REF / "data" / "synthetic.csv")
    res = analysis.run(data, _plan("increase"), interim=True)
    assert "backlash" not in res and "effects" not in res
