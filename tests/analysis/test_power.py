"""analysis.power against R's pwr 1.3.0 (tests/reference/power/pwr_reference.R) and by simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.power import mde, n_per_arm, power, power_summary
from analysis.power_binary import cohens_h, n_per_arm_proportions, power_proportions
from analysis.power_sim import simulate_power

REF = Path(__file__).resolve().parent.parent / "reference" / "power"
RTOL = 1e-6
ALT = {"two.sided": "two-sided", "greater": "greater"}


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name)


def test_power_matches_pwr_t_test_over_grid_of_d_n_alpha_and_alternative():
    # R: pwr.t.test(n = n, d = d, sig.level = alpha, alternative = alternative)$power
    ref = _ref("t_power.csv")
    got = [power(r.d, r.n, alpha=r.alpha, alternative=ALT[r.alternative]) for r in ref.itertuples()]
    assert len(ref) == 150
    np.testing.assert_allclose(got, ref["power"], rtol=RTOL)


def test_power_with_unequal_control_matches_pwr_t2n_test():
    # R: pwr.t2n.test(n1 = n1, n2 = n2, d = d, sig.level = alpha)$power
    ref = _ref("t2n_power.csv")
    got = [power(r.d, r.n1, alpha=r.alpha, allocation_ratio=r.n2 / r.n1) for r in ref.itertuples()]
    np.testing.assert_allclose(got, ref["power"], rtol=RTOL)


def test_n_per_arm_exact_root_matches_pwr_and_rounds_up():
    # R: uniroot(function(n) pwr.t.test(n = n, d = d, sig.level = alpha)$power - power,
    #            c(2 + 1e-10, 1e9), tol = 1e-12)$root   (and its ceiling)
    ref = _ref("t_n.csv")
    exact = [n_per_arm(r.d, r.alpha, r.power, integer=False) for r in ref.itertuples()]
    np.testing.assert_allclose(exact, ref["n_exact"], rtol=RTOL)
    # pwr.t.test(d =, power =)$n itself is only solved to uniroot's default tolerance.
    np.testing.assert_allclose(exact, ref["n_pwr"], rtol=1e-4)
    assert [n_per_arm(r.d, r.alpha, r.power) for r in ref.itertuples()] == list(ref["n_ceiling"])


def test_mde_matches_pwr_t_test_solved_for_d():
    # R: uniroot(function(d) pwr.t.test(n = n, d = d, sig.level = alpha)$power - power,
    #            c(1e-7, 10), tol = 1e-13)$root
    ref = _ref("t_mde.csv")
    got = [mde(r.n, r.alpha, r.power) for r in ref.itertuples()]
    np.testing.assert_allclose(got, ref["d_exact"], rtol=RTOL)


def test_proportions_match_pwr_2p_test_power_and_sample_size():
    # R: h = ES.h(p1, p2); pwr.2p.test(h = h, n = n, sig.level = alpha)$power
    ref = _ref("p2_power.csv")
    h = [cohens_h(r.p1, r.p2) for r in ref.itertuples()]
    np.testing.assert_allclose(h, ref["h"], rtol=RTOL)
    got = [power_proportions(hh, r.n, r.alpha) for hh, r in zip(h, ref.itertuples(), strict=True)]
    np.testing.assert_allclose(got, ref["power"], rtol=RTOL)
    n = [
        n_per_arm_proportions(hh, r.alpha, integer=False)
        for hh, r in zip(h, ref.itertuples(), strict=True)
    ]
    np.testing.assert_allclose(n, ref["n_exact"], rtol=RTOL)


def test_three_points_near_half_needs_about_4400_per_arm():
    # USERS.md: "detecting 3 percentage points takes about 4,400 people per arm".
    assert n_per_arm_proportions(cohens_h(0.53, 0.50)) == 4356


@pytest.mark.parametrize("correction", ["holm", "bonferroni", "bh"])
def test_corrections_power_each_comparison_at_alpha_over_frame_arms(correction):
    # arms=5 counts the control: 4 comparisons, each at 0.05 / 4 = 0.0125.
    # R: pwr.t.test(n = 200, d = 0.35, sig.level = 0.0125)$power
    ref = _ref("t_power.csv")
    row = ref[
        (ref.d == 0.35) & (ref.n == 200) & (ref.alpha == 0.0125) & (ref.alternative == "two.sided")
    ]
    got = power(0.35, 200, alpha=0.05, arms=5, correction=correction)
    assert got == pytest.approx(float(row["power"].iloc[0]), rel=RTOL)
    assert power(0.35, 200, alpha=0.05, arms=5, correction="none") > got
    assert n_per_arm(0.2, arms=5, correction=correction) == n_per_arm(0.2, alpha=0.0125)


def test_n_per_arm_reaches_target_power_and_one_fewer_does_not():
    n = n_per_arm(0.15, power=0.9, arms=4, correction="holm", allocation_ratio=1.5)
    assert power(0.15, n, arms=4, correction="holm", allocation_ratio=1.5) >= 0.9
    assert power(0.15, n - 1, arms=4, correction="holm", allocation_ratio=1.5) < 0.9


def test_mde_inverts_power_for_one_sided_alternatives():
    d = mde(300, alternative="greater")
    assert power(d, 300, alternative="greater") == pytest.approx(0.8, abs=1e-10)
    assert mde(300, alternative="less") == pytest.approx(-d, rel=1e-10)


def test_power_summary_levels_and_verdict_against_typical_persuasion_effects():
    adequate = power_summary(2000)
    assert adequate["level"] == "adequate" and adequate["mde_d"] < 0.1
    marginal = power_summary(600)
    assert marginal["level"] == "marginal"
    assert 0.1 < marginal["mde_d"] < 0.2
    assert "1,571 per arm" in marginal["verdict"]  # n for d = 0.1, as pwr's ceiling above
    under = power_summary(400, arms=5, correction="holm")
    assert under["level"] == "underpowered"
    assert under["alpha_per_comparison"] == 0.0125
    assert under["mde_d"] == pytest.approx(mde(400, 0.0125), rel=1e-12)
    assert under["n_per_arm_d_0_2"] == n_per_arm(0.2, alpha=0.0125)
    assert "4 frame-vs-control comparisons" in under["verdict"]
    assert "four times the sample" in under["verdict"]
    bigger_control = power_summary(400, arms=5, correction="holm", allocation_ratio=2.0)
    assert bigger_control["mde_d"] == pytest.approx(mde(400, 0.0125, allocation_ratio=2.0))
    assert bigger_control["mde_d"] < under["mde_d"]
    # 3 points near 50% at 80% power needs ~4,356 per arm (see above), so that N's MDE is ~3 points.
    assert power_summary(4356)["mde_percentage_points"] == pytest.approx(3.0, abs=0.01)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: power(0.2, 100, alpha=1.5), "alpha"),
        (lambda: power(0.2, 100, arms=1), "arms"),
        (lambda: power(0.2, 100, correction="sidak"), "correction"),
        (lambda: power(0.2, 100, alternative="two.sided"), "alternative"),
        (lambda: power(0.2, 1), "n_per_arm"),
        (lambda: n_per_arm(0.0), "effect_size"),
        (lambda: n_per_arm(0.2, allocation_ratio=0), "allocation_ratio"),
        (lambda: n_per_arm(0.2, power=1.0), "power"),
        (lambda: cohens_h(1.2, 0.5), "p_treatment"),
        (lambda: simulate_power(2, effect_sizes={"care": 0.2}), "effect_sizes"),
        (lambda: simulate_power(2, method="ols"), "method"),
        (lambda: simulate_power(3, n_total=100, blocks=20), "blocks"),
        (lambda: simulate_power(2, allocation={"x": 1}), "allocation"),
        (lambda: simulate_power(2, [20, 1], n_total=40, blocks=2), "allocation: each arm needs"),
        (lambda: simulate_power(2, attrition=1.0), "attrition"),
        (lambda: simulate_power(2, outcome="ordinal"), "outcome"),
        (lambda: simulate_power(2, outcome="binary", p_control=0.0), "p_control"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(call, field):
    with pytest.raises(ValueError, match=field):
        call()


SOLVERS = [(n_per_arm, "effect_size", 0.2), (n_per_arm_proportions, "h", 0.06)]
BAD_SOLVER_ARGUMENTS = [
    ({"power": 1.5}, "power"),
    ({"power": 0.0}, "power"),
    ({"power": 1.0}, "power"),
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": 1.2}, "alpha"),
    ({"arms": 1}, "arms"),
    ({"arms": 2.5}, "arms"),
    ({"correction": "sidak"}, "correction"),
    ({"alternative": "two.sided"}, "alternative"),
    ({"allocation_ratio": 0}, "allocation_ratio"),
    ({"allocation_ratio": -1.0}, "allocation_ratio"),
]


@pytest.mark.parametrize(("kwargs", "field"), BAD_SOLVER_ARGUMENTS)
@pytest.mark.parametrize(("solver", "effect_name", "effect"), SOLVERS)
def test_both_sample_size_solvers_reject_each_bad_argument_by_name(
    solver, effect_name, effect, kwargs, field
):
    with pytest.raises(ValueError, match=f"^{field}: "):
        solver(effect, **kwargs)


@pytest.mark.parametrize(
    ("effect", "kwargs", "message"),
    [
        (0.0, {}, "non-zero effect"),
        (float("nan"), {}, "non-zero effect"),
        (-0.2, {"alternative": "greater"}, "tested direction"),
        (0.2, {"alternative": "less"}, "negative effect"),
    ],
)
@pytest.mark.parametrize(("solver", "effect_name", "_"), SOLVERS)
def test_both_sample_size_solvers_reject_an_effect_they_cannot_detect(
    solver, effect_name, _, effect, kwargs, message
):
    with pytest.raises(ValueError, match=f"^{effect_name}: .*{message}"):
        solver(effect, **kwargs)


def test_equal_or_impossible_proportions_are_refused_by_name():
    with pytest.raises(ValueError, match=r"^h: "):
        n_per_arm_proportions(cohens_h(0.5, 0.5))
    with pytest.raises(ValueError, match=r"^p_control: "):
        cohens_h(0.5, -0.1)
    with pytest.raises(ValueError, match=r"^p_treatment: "):
        cohens_h(1.5, 0.5)


def test_one_sided_proportions_solve_in_the_tested_direction():
    # R: pwr.2p.test(h = 0.2, power = 0.8, alternative = "greater")$n
    # = 2 ((qnorm(0.95) + qnorm(0.8)) / 0.2)^2 = 309.1279 (one tail: the formula is exact)
    n = n_per_arm_proportions(0.2, alternative="greater", integer=False)
    assert n == pytest.approx(309.1279, abs=1e-3)
    assert n_per_arm_proportions(-0.2, alternative="less", integer=False) == pytest.approx(n)


def test_simulated_power_matches_analytic_power_within_monte_carlo_error():
    res = simulate_power(2, n_total=128, effect_sizes={"arm1": 0.5}, n_sims=4000, seed=11)
    expected = power(0.5, 64)  # 0.8015, pwr.t.test(n = 64, d = 0.5)$power
    row = res.iloc[0]
    assert row["n_assigned"] == 64
    assert abs(row["power"] - expected) < 3.5 * np.sqrt(expected * (1 - expected) / 4000)
    assert row["mean_estimate"] == pytest.approx(0.5, abs=0.02)


def test_simulated_rejection_rate_under_no_effect_is_alpha_for_each_arm():
    res = simulate_power(4, n_total=300, n_sims=4000, seed=3, allocation=[2, 1, 1, 1])
    assert list(res["n_assigned"]) == [60, 60, 60]
    mc = 3.5 * np.sqrt(0.05 * 0.95 / 4000)
    assert np.all(np.abs(res["power"] - 0.05) < mc)


def test_holm_family_lowers_simulated_power_to_the_bonferroni_bound_or_above():
    kw = {"n_total": 500, "effect_sizes": {"arm1": 0.35}, "n_sims": 3000, "seed": 5}
    holm = simulate_power(5, correction="holm", **kw)["power"].iloc[0]
    bound = power(0.35, 100, arms=5, correction="holm")  # Bonferroni alpha, a lower bound
    none = power(0.35, 100)
    mc = 3.5 * np.sqrt(bound * (1 - bound) / 3000)
    assert bound - mc < holm < none


def test_lin_adjustment_gains_power_as_covariate_r2_predicts():
    # Lin's estimator removes the covariate's share of variance: d_eff = d / sqrt(1 - r2).
    res = simulate_power(
        2,
        n_total=200,
        effect_sizes={"arm1": 0.3},
        covariate_r2=0.5,
        method="lin",
        n_sims=3000,
        seed=7,
    )
    expected = power(0.3 / np.sqrt(0.5), 100)
    assert abs(res["power"].iloc[0] - expected) < 3.5 * np.sqrt(expected * (1 - expected) / 3000)
    plain = simulate_power(
        2, n_total=200, effect_sizes={"arm1": 0.3}, covariate_r2=0.5, n_sims=3000, seed=7
    )
    assert plain["power"].iloc[0] < res["power"].iloc[0] - 0.15


def test_blocking_on_the_prognostic_covariate_gains_power_and_attrition_loses_it():
    kw = {
        "n_total": 400,
        "effect_sizes": {"arm1": 0.25},
        "covariate_r2": 0.6,
        "n_sims": 2000,
        "seed": 9,
    }
    unblocked = simulate_power(2, **kw)["power"].iloc[0]
    blocked = simulate_power(2, blocks=8, **kw)["power"].iloc[0]
    assert blocked > unblocked + 0.15
    lossy = simulate_power(2, attrition=0.3, **kw)
    assert lossy["n_analysed"].iloc[0] == pytest.approx(140.0)
    expected = power(0.25, 140)
    assert abs(lossy["power"].iloc[0] - expected) < 3.5 * np.sqrt(expected * (1 - expected) / 2000)


def test_binary_simulation_matches_pwr_2p_power_within_monte_carlo_error():
    h = cohens_h(0.6, 0.5)
    res = simulate_power(
        2, n_total=800, effect_sizes={"arm1": h}, outcome="binary", n_sims=2000, seed=21
    )
    expected = power_proportions(h, 400)  # pwr.2p.test(h = ES.h(0.6, 0.5), n = 400)$power
    row = res.iloc[0]
    assert abs(row["power"] - expected) < 3.5 * np.sqrt(expected * (1 - expected) / 2000)
    assert row["mean_estimate"] == pytest.approx(0.1, abs=0.005)  # difference in proportions


def test_binary_simulation_rejects_impossible_proportions():
    with pytest.raises(ValueError, match=r"Cohen's h beyond what p_control=0\.9 allows"):
        simulate_power(2, effect_sizes={"arm1": 1.0}, outcome="binary", p_control=0.9)


def test_simulation_is_reproducible_with_a_seed():
    a = simulate_power(3, n_total=90, effect_sizes={"arm2": 0.4}, n_sims=200, seed=1, blocks=3)
    b = simulate_power(3, n_total=90, effect_sizes={"arm2": 0.4}, n_sims=200, seed=1, blocks=3)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == [
        "arm", "effect_size", "n_assigned", "n_analysed", "power",
        "mc_std_error", "mean_estimate", "mean_std_error", "method", "n_sims",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # R: p.adjust(c(0.01, 0.04, 0.03, 0.005), m); p.adjust(c(0.5, 0.2, 0.9, 0.01), m)
        ("holm", [[0.03, 0.06, 0.06, 0.02], [1.0, 0.6, 1.0, 0.04]]),
        ("bh", [[0.02, 0.04, 0.04, 0.02], [2 / 3, 0.4, 0.9, 0.04]]),
        ("bonferroni", [[0.04, 0.16, 0.12, 0.02], [1.0, 0.8, 1.0, 0.04]]),
    ],
)
def test_simulation_adjusts_each_study_row_as_r_p_adjust(method, expected):
    from analysis.power_sim import _adjust

    p = np.array([[0.01, 0.04, 0.03, 0.005], [0.5, 0.2, 0.9, 0.01]])
    np.testing.assert_allclose(_adjust(p, method), expected, rtol=1e-12)
