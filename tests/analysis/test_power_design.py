"""Power for the exact design (analysis.power_design) against pwr::pwr.t.test.

For two arms, unblocked, no covariate and no attrition, the simulated power of the
difference in means must agree with R's ``pwr.t.test`` (tests/reference/power_design)
within Monte-Carlo error (3.5 standard errors of the simulated proportion; the Welch
test the simulation uses and the pooled t test differ by far less at these sizes), and
the N found for 80% and 90% within 4% of R's (the fit's own error at 4,000 draws per
grid point is about 1-2%).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.power_design import covariate_r2, design_power, needed_n
from analysis.power_sim import simulate_power

REF = pd.read_csv(
    Path(__file__).resolve().parents[1] / "reference" / "power_design" / "pwr_ref.csv"
)
SIMS = 4000


@pytest.mark.parametrize("case", REF.to_dict("records"), ids=lambda c: c["call"])
def test_two_arm_simulation_agrees_with_pwr_t_test(case):
    out = design_power(
        ["control", "frame"],
        None,
        {"frame": case["d"]},
        n_total=2 * case["n_per_arm"],
        n_sims=SIMS,
        seed=19,
    )
    frame = out["frames"][0]
    se = math.sqrt(case["power"] * (1 - case["power"]) / SIMS)
    assert abs(frame["power"] - case["power"]) < 3.5 * se, (case["call"], frame["power"])
    assert frame["n_80"] == pytest.approx(2 * case["n80_per_arm"], rel=0.04), case["call"]
    assert frame["n_90"] == pytest.approx(2 * case["n90_per_arm"], rel=0.04), case["call"]
    # the instant analytic figure is pwr.t.test's
    assert frame["analytic_power"] == pytest.approx(case["power"], abs=1e-6)


def test_the_probit_fit_recovers_a_known_power_curve():
    n = np.array([80.0, 160.0, 320.0, 640.0])
    p = 1 - np.exp(-n / 300)  # not probit-linear: the fit interpolates
    assert needed_n(n, p, 100_000, 0.5) == pytest.approx(300 * math.log(2), rel=0.05)
    assert math.isnan(needed_n(n, [0.05, 0.05, 0.05, 0.05], 1000, 0.8))


def test_strata_shares_set_the_block_sizes_and_progress_counts_every_study():
    seen: list[int] = []
    res = simulate_power(
        ["control", "a"],
        n_total=100,
        effect_sizes={"a": 0.5},
        block_shares=[0.6, 0.2, 0.2],
        n_sims=300,
        seed=3,
        progress=seen.append,
    )
    assert sum(seen) == 300 and res["n_assigned"].iloc[0] == 50
    with pytest.raises(ValueError, match="at least 2 participants per block"):
        simulate_power(["control", "a"], n_total=20, block_shares=[0.9, 0.1], n_sims=10)


def test_blocking_on_a_prognostic_pre_measure_adds_power():
    common = {"n_total": 400, "n_sims": 2000, "seed": 5, "covariate_r2": 0.5}
    plain = design_power(["control", "a"], None, {"a": 0.25}, find_n=False, **common)
    blocked = design_power(
        ["control", "a"], None, {"a": 0.25}, block_shares=[0.3, 0.4, 0.3], find_n=False, **common
    )
    assert blocked["frames"][0]["power"] > plain["frames"][0]["power"] + 0.1


def test_covariate_r2_is_the_ols_r2_within_the_control_group():
    rng = np.random.default_rng(8)
    n = 400
    x = rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], size=n)
    arm = np.where(np.arange(n) < 200, "control", "frame")
    y = 0.8 * x + (group == "b") * 0.5 + rng.normal(size=n) + (arm == "frame") * 3.0
    d = pd.DataFrame({"y": y, "x": x, "g": group, "arm": arm})
    control = d[d.arm == "control"]
    design = np.column_stack([np.ones(200), control.x, control.g == "b", control.g == "c"]).astype(
        float
    )
    fitted = design @ np.linalg.lstsq(design, control.y, rcond=None)[0]
    expected = 1 - ((control.y - fitted) ** 2).sum() / ((control.y - control.y.mean()) ** 2).sum()
    got = covariate_r2(d, "y", ["x", "g"], arm="arm", control="control")
    assert got == pytest.approx(expected, rel=1e-9)
    # without the arm, the frame's shift counts as unexplained variance
    assert covariate_r2(d, "y", ["x", "g"]) < got
    with pytest.raises(ValueError, match="'z' is not in the data"):
        covariate_r2(d, "y", ["z"])
