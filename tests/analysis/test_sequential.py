"""Anytime-valid confidence sequences (analysis.sequential) against R and the closed form.

Reference: tests/reference/sequential/sequential.R (estimatr for the estimates and
standard errors; the boundary of Waudby-Smith et al. 2024 both in closed form and by
uniroot on the Gaussian-mixture martingale; the anytime p as 1 / M(0)), on the seeded
fixture sequential_data.csv (make_data.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq, minimize_scalar

from analysis.monitoring import load_monitoring
from analysis.plan import load_plan
from analysis.run import run
from analysis.sequential import anytime_p_value, confidence_sequence, cs_radius, optimal_rho2

REF = Path(__file__).resolve().parents[1] / "reference" / "sequential"
R_CALL = "Rscript tests/reference/sequential/sequential.R"
ALPHA = 0.05 / 2
TUNE_AT = 400


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "sequential_data.csv")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(REF / "sequential_reference.csv")


@pytest.mark.parametrize("method", ["difference_in_means", "lin"])
def test_confidence_sequences_match_the_r_reference(data, reference, method):
    rho2 = optimal_rho2(TUNE_AT, ALPHA)
    ours = confidence_sequence(
        data,
        "y",
        "arm",
        "control",
        method=method,
        covariates=["x"] if method == "lin" else (),
        alpha=ALPHA,
        rho2=rho2,
        looks=[60, 150, 300, 600],
    )
    ref = reference[reference["method"] == method]
    merged = ref.merge(ours, on=["look_n", "arm"], suffixes=("_r", ""))
    assert len(merged) == 8, R_CALL
    for column in ("n", "estimate", "std_error", "cs_low", "cs_high", "anytime_p"):
        np.testing.assert_allclose(
            merged[column], merged[f"{column}_r"], rtol=1e-7, atol=1e-9, err_msg=R_CALL
        )


def test_the_closed_form_boundary_is_the_level_set_of_the_mixture_martingale():
    # Independent of the module's algebra: solve M(est - r) = 1/alpha numerically, with
    # M(theta) = (n rho^2 + 1)^(-1/2) exp(n^2 rho^2 (est - theta)^2 / (2 sigma^2 (n rho^2 + 1)))
    for n, se, alpha, n_star in [(40, 0.5, 0.05, 400), (1000, 0.06, 0.01, 3000), (5, 2.0, 0.1, 5)]:
        rho2 = optimal_rho2(n_star, alpha)
        sigma2 = n * se**2

        def log_m(r, n=n, rho2=rho2, sigma2=sigma2):
            return -0.5 * math.log(n * rho2 + 1) + n**2 * rho2 * r**2 / (
                2 * sigma2 * (n * rho2 + 1)
            )

        root = brentq(lambda r, a=alpha: log_m(r) - math.log(1 / a), 0, 100 * se, xtol=1e-14)
        assert float(cs_radius(n, se, rho2, alpha)) == pytest.approx(root, rel=1e-10)
        # the anytime p is the alpha at which the sequence's edge reaches zero
        est = 0.8 * root
        p = float(anytime_p_value(n, est, se, rho2))
        assert float(cs_radius(n, se, rho2, p)) == pytest.approx(est, rel=1e-9)
        assert p > alpha  # the sequence at alpha includes zero


def test_the_tuning_makes_the_sequence_nearly_narrowest_at_the_planned_size():
    alpha, n_star = 0.05, 2000
    best = minimize_scalar(
        lambda log_rho2: float(cs_radius(n_star, 1.0, math.exp(log_rho2), alpha)),
        bounds=(-15, 2),
        method="bounded",
    )
    ours = float(cs_radius(n_star, 1.0, optimal_rho2(n_star, alpha), alpha))
    assert ours <= best.fun * 1.01  # the paper's choice is within 1% of the optimum
    assert optimal_rho2(1000, 0.05) == pytest.approx(
        (-2 * math.log(0.05) + math.log(-2 * math.log(0.05) + 1)) / 1000
    )


def test_the_sequence_is_wider_than_the_fixed_sample_interval_at_every_n():
    rho2 = optimal_rho2(1000, 0.05)
    n = np.arange(10, 5000, 10)
    assert np.all(cs_radius(n, 1.0, rho2, 0.05) > 1.96)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"looks": "daily"}, "monitoring.looks: expected one of anytime, got 'daily'"),
        ({"stop_for_efficacy": "yes"}, "monitoring.stop_for_efficacy: expected true or false"),
        ({"stop_for_futility": 0.1}, "monitoring.stop_for_futility: expected a mapping"),
        ({"stop_for_futility": {"below": -1}}, "stop_for_futility.below: expected an effect"),
        ({"tune_at": 1}, "monitoring.tune_at: expected a whole number of at least 2"),
        ({"rho": 0.1, "tune_at": 100}, "give tune_at or rho, not both"),
        ({"every": 50}, "monitoring: unknown key 'every'"),
        ([1], "monitoring: expected a mapping"),
    ],
)
def test_malformed_monitoring_is_refused_naming_the_key(raw, message):
    with pytest.raises(ValueError, match=message):
        load_monitoring(raw)


def _plan(**monitoring):
    return {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "y"}],
        "covariates": ["x"],
        "primary_method": "lin",
        "monitoring": {"looks": "anytime", **monitoring},
    }


def test_run_writes_the_sequential_section_and_only_it_while_interim(data):
    results = run(data, _plan(stop_for_futility={"below": 0.1}, max_n=900))
    assert results["meta"]["interim"] is True
    assert {"effects", "omnibus", "equivalence", "balance"}.isdisjoint(results)
    records = results["sequential"]
    assert [r["arm"] for r in records] == ["care", "fair"]
    care = records[0]
    for key in ("n", "estimate", "cs_low", "cs_high", "anytime_p", "decision"):
        assert key in care
    # tuned to the comparison's share of the target (2 of 3 arms), Bonferroni over frames
    assert care["tune_at"] == 600 and care["level"] == pytest.approx(0.975)
    assert care["rho2"] == pytest.approx(optimal_rho2(600, 0.025))
    # the last drawn look is the current one, and it is the Lin estimate on all rows
    assert care["path"][-1]["look_n"] == 600 and care["path"][-1]["estimate"] == care["estimate"]
    assert care["anytime_p_adjusted"] == pytest.approx(min(1, 2 * care["anytime_p"]))


def test_the_final_run_keeps_the_fixed_sample_sections_and_marks_the_sequence_complete(data):
    results = run(data, _plan(max_n=600))
    assert results["meta"]["interim"] is False
    assert results["effects"] and results["sequential"]
    assert {r["decision"] for r in results["sequential"]} <= {"complete", "efficacy", "harm"}


def test_decisions_follow_the_declared_rules():
    rng = np.random.default_rng(3)
    n = 2000
    arm = np.tile(["control", "strong", "harm", "nothing"], n // 4)
    y = rng.normal(0, 1, n) + np.select([arm == "strong", arm == "harm"], [0.8, -0.8], 0.0)
    d = pd.DataFrame({"arm": arm, "y": y})
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "y"}],
        "monitoring": {"stop_for_futility": {"below": 0.3}, "max_n": 4000},
    }
    decisions = {r["arm"]: r["decision"] for r in run(d, plan)["sequential"]}
    assert decisions == {"strong": "efficacy", "harm": "harm", "nothing": "futility"}
    plan["outcomes"] = [{"name": "y", "desired": "decrease"}]
    decisions = {r["arm"]: r["decision"] for r in run(d, plan)["sequential"]}
    assert decisions["strong"] == "harm" and decisions["harm"] == "efficacy"
    plan["monitoring"] = {"stop_for_efficacy": False, "max_n": 4000}
    assert {r["decision"] for r in run(d, plan)["sequential"]} == {"continue"}


def test_too_few_participants_give_no_interval():
    d = pd.DataFrame({"arm": ["control", "t"] * 6, "y": np.arange(12.0)})
    plan = {"arm": "arm", "control": "control", "outcomes": ["y"], "monitoring": {"max_n": 50}}
    (record,) = run(d, plan)["sequential"]
    assert record["decision"] == "too_few" and record["cs_low"] is None and record["path"] == []


def test_the_plan_carries_its_monitoring():
    plan = load_plan(_plan(tune_at=500))
    assert plan.monitoring.tune_at == 500 and plan.monitoring.stop_for_efficacy is True
    assert "monitoring" not in plan.unknown_keys
