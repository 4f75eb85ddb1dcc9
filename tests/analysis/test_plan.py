"""Plan parsing and validation: defaults, and errors that name the key."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.plan import check_columns, load_plan, plan_hash

BASE = {"arm": "arm", "control": "control", "outcomes": [{"name": "y"}]}


def make_plan(**overrides):
    return {**BASE, **overrides}


def test_defaults_mark_first_outcome_primary_and_fill_holm_alpha_draws():
    plan = load_plan(make_plan(outcomes=[{"name": "y"}, {"name": "z", "type": "binary"}]))
    assert [o.primary for o in plan.outcomes] == [True, False]
    assert (plan.alpha, plan.correction, plan.ri_draws, plan.min_cell_size) == (
        0.05,
        "holm",
        10_000,
        10,
    )
    assert plan.equivalence_bound == 0.1 and plan.primary_method == "difference_in_means"


def test_flagged_primary_outcomes_define_the_confirmatory_family():
    plan = load_plan(make_plan(outcomes=[{"name": "y"}, {"name": "z", "primary": True}]))
    assert [o.name for o in plan.primary_outcomes] == ["z"]


def test_yaml_text_and_file_give_the_same_plan_and_hash(tmp_path):
    text = "arm: arm\ncontrol: control\noutcomes:\n  - name: y\n    type: continuous\nseed: 5\n"
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    from_text, from_file = load_plan(text), load_plan(path)
    assert from_text == from_file
    assert plan_hash(from_file.raw) == plan_hash(
        {
            "arm": "arm",
            "control": "control",
            "seed": 5,
            "outcomes": [{"name": "y", "type": "continuous"}],
        }
    )


def test_missing_seed_is_derived_from_the_plan_so_runs_are_reproducible():
    assert load_plan(BASE).seed == load_plan(dict(BASE)).seed
    assert load_plan(BASE).seed != load_plan(make_plan(alpha=0.1)).seed


def test_exclude_accepts_the_study_file_flag_list():
    plan = load_plan(make_plan(exclude=["attention_failed", "speeder"]))
    assert plan.exclude == {"attention_failed": (True,), "speeder": (True,)}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"outcomes": []}, "outcomes: required"),
        ({"control": None}, "control: required"),
        ({"correction": "sidak"}, "correction: expected one of holm, bh, bonferroni, none"),
        ({"alpha": 1.5}, "alpha: expected a number between 0 and 0.5"),
        ({"outcomes": [{"name": "y", "type": "count"}]}, r"outcomes\[0\].type: expected one of"),
        (
            {"outcomes": [{"name": "y", "baseline_col": "x"}]},
            r"outcomes\[0\]: unknown key 'baseline_col'",
        ),
        ({"outcomes": [{"name": "y"}, {"name": "y"}]}, "listed only once"),
        ({"ri_draws": 10}, "ri_draws: expected an integer of at least 100"),
        ({"primary_method": "lin"}, "primary_method: 'lin' needs at least one entry in covariates"),
        ({"covariates": "age, sex"}, None),
        ({"covariates": [1, 2]}, "covariates: expected a column name or a list"),
        ({"weights": [1, 1]}, "weights: expected a mapping keyed by arm label"),
        ({"equivalence_units": "percent"}, "equivalence_units: expected 'sd' or 'raw'"),
    ],
)
def test_malformed_plan_raises_value_error_naming_the_key(overrides, message):
    if message is None:  # a single string is one column name, accepted as such
        assert load_plan(make_plan(**overrides)).covariates == ("age, sex",)
        return
    with pytest.raises(ValueError, match=message):
        load_plan(make_plan(**overrides))


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"outcomes": [{"name": "missing_outcome"}]}, "missing_outcome"),
        ({"outcomes": [{"name": "y", "baseline": "pre_y"}]}, "pre_y"),
        ({"covariates": ["age"]}, "age"),
        ({"moderators": ["ideology"]}, "ideology"),
        ({"blocks": "stratum"}, "stratum"),
        ({"exclude": {"speeder": True}}, "speeder"),
        ({"arm": "condition"}, "condition"),
    ],
)
def test_plan_naming_a_missing_column_raises_value_error_naming_it(overrides, column):
    df = pd.DataFrame({"arm": ["control", "t"], "y": [1.0, 2.0]})
    with pytest.raises(ValueError, match=f"'{column}' is not in the data"):
        check_columns(load_plan(make_plan(**overrides)), df)


def test_control_label_absent_from_data_raises_value_error_listing_labels():
    df = pd.DataFrame({"arm": ["placebo", "care"], "y": [1.0, 2.0]})
    with pytest.raises(
        ValueError, match=r"control label 'control' not found \(labels in the data: care, placebo\)"
    ):
        check_columns(load_plan(BASE), df)


def test_empty_table_is_reported_as_such():
    df = pd.DataFrame({"arm": pd.Series([], dtype=str), "y": pd.Series([], dtype=float)})
    with pytest.raises(ValueError, match="data: the table has no rows"):
        check_columns(load_plan(BASE), df)
