"""Follow-up waves in the plan and in ``run`` (issue 21): validation, eligibility, sections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.plan import check_columns, load_plan
from analysis.run import run
from analysis.waves import return_rates, share_remaining, wave_effects
from tests.analysis.waves_dgp import RETURN_RATES, two_wave_plan, two_wave_study

BASE = {"arm": "arm", "control": "control", "outcomes": ["support"]}


@pytest.mark.parametrize(
    ("waves", "message"),
    [
        ({"id": "w2"}, r"waves: expected a list"),
        (["w2"], r"waves\[0\]: expected a mapping"),
        ([{"id": "2nd", "after_days": 7, "items": ["support"]}], r"waves\[0\]\.id: .*'2nd'"),
        ([{"id": "w2", "after_days": 7}], r"waves\[0\]\.items: expected a list of distinct"),
        ([{"id": "w2", "after_days": 7, "items": ["a", "a"]}], r"waves\[0\]\.items"),
        ([{"id": "w2", "after_days": 0, "items": ["a"]}], r"waves\[0\]\.after_days: .*got 0"),
        ([{"id": "w2", "after_days": True, "items": ["a"]}], r"after_days: .*True"),
        ([{"id": "w2", "after_days": 7, "items": ["a"], "window_days": 1.5}], r"window_days"),
        (
            [
                {"id": "w2", "after_days": 7, "items": ["a"]},
                {"id": "w2", "after_days": 9, "items": ["a"]},
            ],
            r"waves\[1\]\.id: the wave id 'w2' is used twice",
        ),
        (
            [
                {"id": "w2", "after_days": 7, "items": ["a"]},
                {"id": "w3", "after_days": 5, "items": ["a"]},
            ],
            r"waves\[1\]\.after_days: waves must open one after another",
        ),
    ],
)
def test_malformed_waves_are_refused_naming_the_place(waves, message):
    with pytest.raises(ValueError, match=message):
        load_plan({**BASE, "waves": waves})


def test_a_valid_wave_is_read_and_the_survey_keys_of_a_wave_are_left_alone():
    plan = load_plan(
        {
            **BASE,
            "waves": [
                {
                    "id": "w2",
                    "after_days": 7,
                    "items": ["support", "age"],
                    "window_days": 7,
                    "follow_up": "code",
                }
            ],
        }
    )
    [w] = plan.waves
    assert (w.id, w.after_days, w.items, w.window_days) == ("w2", 7, ("support", "age"), 7)
    assert "waves" not in plan.unknown_keys
    # only the items that are outcomes need a column (age is not analysed at wave 2)
    assert w.columns(o.name for o in plan.outcomes) == ["w2_returned", "w2_support"]
    assert load_plan(BASE).waves == ()


def test_a_plan_with_waves_needs_the_wave_columns():
    plan = load_plan(two_wave_plan())
    data = two_wave_study(30, 30)
    check_columns(plan, data)
    with pytest.raises(ValueError, match=r"w2_returned"):
        check_columns(plan, data.drop(columns="w2_returned"))
    with pytest.raises(ValueError, match=r"w2_support"):
        check_columns(plan, data.drop(columns="w2_support"))


def test_run_adds_the_wave_sections_only_when_the_plan_has_waves():
    data = two_wave_study(150, 150, seed=4)
    results = run(data, two_wave_plan())
    returns = {r["arm"]: r for r in results["wave_returns"]}
    assert set(returns) == set(RETURN_RATES)
    assert returns["control"]["eligible"] == 150 and returns["control"]["difference"] is None
    [effect] = results["waves"]
    assert (effect["wave"], effect["after_days"], effect["outcome"], effect["arm"]) == (
        "w2", 7, "support", "fairness"
    )  # fmt: skip
    assert effect["n_treatment"] == returns["fairness"]["returned"]
    plain = {k: v for k, v in two_wave_plan().items() if k != "waves"}
    assert "waves" not in run(data, plain) and "wave_returns" not in run(data, plain)
    # before the planned sample there is no fixed-sample inference, waves included
    assert "waves" not in run(data, two_wave_plan(), interim=True)


def test_only_participants_who_completed_wave_1_may_return():
    data = two_wave_study(60, 60, seed=5)
    data.loc[:9, "status"] = "assigned"  # left during wave 1: never invited
    data.loc[:9, "w2_returned"] = 0
    results = run(data, two_wave_plan())
    control = next(r for r in results["wave_returns"] if r["arm"] == "control")
    assert control["eligible"] == 50


def test_a_frame_without_returners_is_a_warning_not_a_failure():
    data = two_wave_study(60, 60, seed=6)
    data["arm"] = np.where(np.arange(120) % 3 == 0, "care", data["arm"])
    care = data["arm"] == "care"
    data.loc[care, "w2_returned"] = 0
    data.loc[care, "w2_support"] = np.nan
    results = run(data, two_wave_plan())
    assert {e["arm"] for e in results["waves"]} == {"fairness"}
    [warning] = [w for w in results["warnings"] if w["code"] == "wave_failed"]
    assert warning["arm"] == "care" and "care" in warning["message"]


def test_a_wave_that_asks_no_outcome_again_is_named():
    plan = two_wave_plan(waves=[{"id": "w2", "after_days": 7, "items": ["mood"]}])
    results = run(two_wave_study(40, 40), plan)
    assert results["waves"] == []
    assert any(w["code"] == "wave_without_outcome" for w in results["warnings"])


def test_return_flags_must_be_zero_or_one():
    data = two_wave_study(20, 20)
    data.loc[0, "w2_returned"] = 2
    with pytest.raises(ValueError, match=r"'w2_returned': expected 1 \(returned\) or 0"):
        return_rates(data, "w2_returned", "arm", "control")
    with pytest.raises(ValueError, match=r"expected 1 \(returned\) or 0"):
        wave_effects(data, "support", "w2_support", "arm", "control", returned="w2_returned")


def test_everyone_returning_leaves_the_return_test_undefined_not_significant():
    d = pd.DataFrame({"arm": ["c"] * 5 + ["t"] * 5, "w2_returned": [1] * 10})
    row = return_rates(d, "w2_returned", "arm", "c").iloc[1]
    assert row["difference"] == 0 and row["differential"] is None and np.isnan(row["p_value"])


def test_the_share_is_unstable_exactly_when_the_wave_1_interval_holds_zero():
    assert share_remaining(0.6, 0.3, 0.01, 0.01, 0.004)["bounded"]
    s = share_remaining(0.15, 0.3, 0.01, 0.01, 0.004)  # |0.15| / 0.1 < 1.96
    assert not s["bounded"] and s["conf_low"] is None and s["conf_high"] is None
    # the delta method still gives numbers, which is why the report does not print them
    assert np.isfinite(s["delta_low"]) and np.isfinite(s["delta_high"])


def test_the_methods_section_describes_the_waves_only_when_the_plan_has_them():
    data = two_wave_study(40, 40)
    methods = {m["method"]: m for m in run(data, two_wave_plan())["methods"]}
    assert "Fieller" in methods["follow_up_waves"]["reference"]
    assert "CR2" in methods["follow_up_waves"]["formula"]
    plain = {k: v for k, v in two_wave_plan().items() if k != "waves"}
    assert "follow_up_waves" not in {m["method"] for m in run(data, plain)["methods"]}
