"""Continuous moderators: an interaction with the centred moderator, and subgroups by
declared cut points or tertiles, against R (tests/reference/continuous_moderators/).

A moderator with more than 20 distinct values (the factorial example's slider) used to
end the subgroup section with ``section_failed``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.heterogeneity import subgroup_effects
from analysis.interactions import interaction_effects, interaction_model
from analysis.plan import load_plan

REF = Path(__file__).resolve().parents[1] / "reference" / "continuous_moderators"
R_CALL = "Rscript tests/reference/continuous_moderators/continuous_moderators.R"
STATS = ["estimate", "std_error", "df", "p_value", "conf_low", "conf_high"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "data.csv")


@pytest.mark.parametrize(("grouping", "cuts"), [("tertiles", None), ("cut_points", [25, 50, 75])])
def test_subgroups_of_a_continuous_moderator_match_r(data, grouping, cuts):
    got = subgroup_effects(data, "y", "arm", "control", "slider", cut_points=cuts)
    ref = pd.read_csv(REF / "subgroups.csv").query("grouping == @grouping")
    assert set(got["grouping"]) == {grouping}
    assert got["level"].tolist() == ref["level"].str.strip().tolist(), R_CALL
    assert got["arm"].tolist() == ref["arm"].tolist()
    assert got["reference"].iloc[0] == ref["level"].iloc[0].strip()
    for column in STATS:
        # 1e-6 as for every R check: the lowest allowed numpy/scipy differ from today's by 8e-8.
        np.testing.assert_allclose(got[column], ref[column], rtol=1e-6, err_msg=R_CALL)
    assert got["n_control"].tolist() == ref["n_control"].tolist()
    assert got["n_treatment"].tolist() == ref["n_treatment"].tolist()


def test_the_interaction_uses_the_centred_moderator_as_r(data):
    ref = pd.read_csv(REF / "interactions.csv").set_index("term")
    model = interaction_model(data, "y", "arm", "control", "slider")
    fit = model.fit
    # centred: the frame's own coefficient is its effect at the mean slider
    for arm in ("care", "liberty"):
        j = fit.index(arm)
        assert fit.coef[j] == pytest.approx(ref.loc[f"arm{arm}", "estimate"], rel=1e-9), R_CALL
        assert fit.std_error[j] == pytest.approx(ref.loc[f"arm{arm}", "std_error"], rel=1e-9)
    got = interaction_effects(data, "y", "arm", "control", "slider").set_index("arm")
    for arm in ("care", "liberty"):
        row, r = got.loc[arm], ref.loc[f"arm{arm}:slider_c"]
        assert row["estimate"] == pytest.approx(r["estimate"], rel=1e-9), R_CALL
        assert row["std_error"] == pytest.approx(r["std_error"], rel=1e-9)
        assert row["df_residual"] == r["df"] and row["n"] == r["n"]
        assert row["p_value_residual"] == pytest.approx(r["p_value"], rel=1e-7)
        assert row["conf_low_residual"] == pytest.approx(r["conf_low"], rel=1e-9)


def test_a_run_with_a_slider_moderator_gives_subgroups_not_a_failed_section(data):
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "y", "primary": True}],
        "moderators": ["slider"],
    }
    results = analysis.run(data, plan)
    assert not [w for w in results["warnings"] if w.get("code") == "section_failed"]
    tertiles = {r["level"] for r in results["subgroups"]}
    assert tertiles == {"< 30", "30 to < 69", ">= 69"}
    assert {r["grouping"] for r in results["subgroups"]} == {"tertiles"}
    declared = analysis.run(data, {**plan, "cut_points": {"slider": [50]}})
    assert {r["level"] for r in declared["subgroups"]} == {"< 50", ">= 50"}
    assert len(results["heterogeneity"]) == 2


@pytest.mark.parametrize(
    ("cut_points", "message"),
    [
        ({"slider": [50, 25]}, "cut_points.slider: expected a list of increasing numbers"),
        ({"slider": []}, "cut_points.slider: expected a list of increasing numbers"),
        ({"age": [30]}, "cut_points.age: not a moderator (moderators: slider)"),
        ([30], "cut_points: expected a mapping moderator -> list of numbers"),
    ],
)
def test_bad_cut_points_are_plan_errors_naming_the_moderator(cut_points, message):
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "y"}],
        "moderators": ["slider"],
        "cut_points": cut_points,
    }
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_plan(plan)


def test_cut_points_on_a_categorical_moderator_are_refused(data):
    d = data.assign(group=np.where(data["slider"] > 50, "high", "low"))
    with pytest.raises(ValueError, match=r"cut_points\.group: the moderator is categorical"):
        subgroup_effects(d, "y", "arm", "control", "group", cut_points=[1])
