"""Factorial contrasts (analysis.factorial) against estimatr::lm_robust (HC2).

Reference: tests/reference/factorial/factorial_reference.R: the interaction from
``lm_robust(welcome ~ value * messenger)`` on the factorial cells, the main effects
from the same model in centred (+-1/2) coding, each cell vs control from
``lm_robust(welcome ~ arm)``, and level-vs-control main effects as linear
combinations of that model's coefficients: estimatr's residual degrees of freedom, so
our ``*_residual`` columns. The default Bell-McCaffrey degrees of freedom against
``clubSandwich::coef_test`` / ``linear_contrast`` (CR2, each participant its own
cluster, Satterthwaite): tests/reference/factorial/factorial_bm_reference.R.
Tolerance 1e-6 relative.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import analysis
from analysis.factorial import factorial_effects

REF = Path(__file__).resolve().parents[1] / "reference" / "factorial"
FACTORS = {"factor_value": ["care", "loyalty"], "factor_messenger": ["refugee", "neighbour"]}
COLUMNS = ["estimate", "std_error", "df", "p_value", "conf_low", "conf_high"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "factorial_data.csv")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(REF / "factorial_ref.csv", keep_default_na=False)


def _close(row: pd.Series, expected: pd.Series, what: str) -> None:
    """Against lm_robust: its residual df, p-value and interval are our *_residual ones."""
    for column in COLUMNS:
        ours = column if column in ("estimate", "std_error") else f"{column}_residual"
        assert row[ours] == pytest.approx(float(expected[column]), rel=1e-6), (what, column)


def test_main_effects_and_interaction_match_lm_robust(data, ref):
    effects, _ = factorial_effects(data, "welcome", "arm", "control", FACTORS)
    for factor, level in (("factor_value", "loyalty"), ("factor_messenger", "neighbour")):
        ours = effects[(effects.term == "main_effect") & (effects.factor == factor)].iloc[0]
        expected = ref[(ref.term == "main_effect") & (ref.factor == factor)].iloc[0]
        assert ours.level == level
        _close(ours, expected, f"lm_robust(welcome ~ vc * mc): {factor}")
    ours = effects[effects.term == "interaction"].iloc[0]
    _close(ours, ref[ref.term == "interaction"].iloc[0], "valueloyalty:messengerneighbour")


def test_each_cell_vs_control_matches_lm_robust(data, ref):
    effects, cells = factorial_effects(data, "welcome", "arm", "control", FACTORS)
    for _, expected in ref[ref.term == "cell_vs_control"].iterrows():
        value, messenger = expected.level.split("_")
        ours = effects[
            (effects.term == "cell_vs_control")
            & (effects.level == value)
            & (effects.level_2 == messenger)
        ].iloc[0]
        _close(ours, expected, f"lm_robust(welcome ~ arm): arm{expected.level}")
    assert len(cells) == 5 and cells.iloc[-1]["cell"] == "control"


def test_main_effects_vs_control_when_the_study_includes_the_control(data, ref):
    effects, _ = factorial_effects(
        data, "welcome", "arm", "control", FACTORS, control_in_main_effects=True
    )
    main = effects[effects.term == "main_effect"]
    assert list(main.level) == ["care", "loyalty", "refugee", "neighbour"]
    assert set(main.comparison) == {"control"}
    for _, expected in ref[ref.term == "main_effect_vs_control"].iterrows():
        _close(main[main.level == expected.level].iloc[0], expected, f"c'b for {expected.level}")


def test_run_adds_the_factorial_sections_from_the_plan(data):
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "welcome"}],
        "factors": FACTORS,
        "control_in_main_effects": False,
    }
    res = analysis.run(data, plan)
    terms = {r["term"] for r in res["factorial"]}
    assert terms == {"main_effect", "interaction", "cell_vs_control"}
    assert {r["cell"] for r in res["factorial_cells"]} >= {"care x refugee", "control"}
    assert not [w for w in res["warnings"] if w.get("code") == "unknown_plan_key"]


def test_an_undeclared_level_is_an_error_naming_it(data):
    bad = data.copy()
    bad.loc[bad.arm == "care_refugee", "factor_value"] = "kindness"
    with pytest.raises(ValueError, match="'kindness'"):
        factorial_effects(bad, "welcome", "arm", "control", FACTORS)


def test_bell_mccaffrey_df_by_default_match_clubsandwich(data):
    ref = pd.read_csv(REF / "factorial_bm_ref.csv")
    effects, _ = factorial_effects(data, "welcome", "arm", "control", FACTORS)
    vs_control, _ = factorial_effects(
        data, "welcome", "arm", "control", FACTORS, control_in_main_effects=True
    )
    for _, expected in ref.iterrows():
        if expected.term == "main_effect_vs_control":
            main = vs_control[vs_control.term == "main_effect"]
            ours = main[main.level == expected.level].iloc[0]
        elif expected.term == "cell_vs_control":
            value, messenger = expected.level.split("_")
            cells = effects[effects.term == "cell_vs_control"]
            ours = cells[(cells.level == value) & (cells.level_2 == messenger)].iloc[0]
        else:
            ours = effects[
                (effects.term == expected.term) & (effects.level == expected.level)
            ].iloc[0]
        for column in ("estimate", "std_error", "df", "p_value"):
            assert ours[column] == pytest.approx(float(expected[column]), rel=1e-6), (
                f"coef_test(CR2, Satterthwaite): {expected.term} {expected.level}",
                column,
            )
    residual, _ = factorial_effects(
        data, "welcome", "arm", "control", FACTORS, small_sample="residual"
    )
    assert (residual["df"] == residual["df_residual"]).all()
    with pytest.raises(ValueError, match="small_sample"):
        factorial_effects(data, "welcome", "arm", "control", FACTORS, small_sample="kenward")
