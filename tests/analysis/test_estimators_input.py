"""Bad input to the estimators raises ValueError naming the column and what was expected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis

ESTIMATORS = [
    analysis.difference_in_means,
    analysis.effect_sizes,
    analysis.mann_whitney,
    analysis.omnibus,
    analysis.ordinal_logit,
    analysis.randomization_inference,
]


def make_data(n: int = 12, **columns) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    base = {
        "arm": np.resize(["control", "care", "fairness"], n),
        "y": rng.integers(1, 8, n).astype(float),
    }
    return pd.DataFrame({**base, **columns})


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda f: f.__name__)
def test_missing_outcome_column_is_named(estimator):
    with pytest.raises(ValueError, match="outcome 'support' is not in the data"):
        estimator(make_data(), "support", "arm", "control")


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda f: f.__name__)
def test_control_label_not_in_data_is_named_with_the_labels_present(estimator):
    with pytest.raises(
        ValueError,
        match=r"control label 'placebo' not found \(labels in the data: care, control, fairness\)",
    ):
        estimator(make_data(), "y", "arm", "placebo")


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda f: f.__name__)
def test_arm_with_no_outcome_values_is_named(estimator):
    d = make_data()
    d.loc[d["arm"] == "care", "y"] = np.nan
    with pytest.raises(
        ValueError, match="outcome 'y': arm 'care' has no participant with a non-missing value"
    ):
        estimator(d, "y", "arm", "control")


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda f: f.__name__)
def test_non_numeric_outcome_values_are_named_with_an_example(estimator):
    d = make_data().astype({"y": object})
    d.loc[3, "y"] = "strongly agree"
    with pytest.raises(
        ValueError, match="outcome 'y': expected numeric values, found non-numeric 'strongly agree'"
    ):
        estimator(d, "y", "arm", "control")


def test_missing_covariate_and_baseline_columns_are_named():
    with pytest.raises(ValueError, match="'age' is not in the data"):
        analysis.lin(make_data(), "y", "arm", "control", ["age"])
    with pytest.raises(ValueError, match="'pre_y' is not in the data"):
        analysis.ancova(make_data(), "y", "arm", "control", "pre_y")


def test_logit_rejects_a_non_binary_outcome():
    with pytest.raises(ValueError, match="outcome 'y': expected 0/1 values"):
        analysis.logit(make_data(), "y", "arm", "control")


def test_logit_reports_separation_instead_of_an_infinite_odds_ratio():
    d = make_data(join=[0, 1, 1] * 4)  # the control arm never joins
    with pytest.raises(ValueError, match="every participant in arm 'control' has the value 0"):
        analysis.logit(d, "join", "arm", "control")


def test_blocked_difference_needs_both_conditions_in_every_block():
    d = make_data(n=12, block=["a"] * 6 + ["b"] * 6)
    d.loc[(d["block"] == "b") & (d["arm"] == "care"), "arm"] = "fairness"
    with pytest.raises(ValueError, match="blocks 'block': block 'b' lacks units in arm 'care'"):
        analysis.difference_in_means(d, "y", "arm", "control", blocks="block")


def test_complete_cases_drop_rows_missing_any_used_column():
    d = make_data(n=30, x=np.arange(30.0))
    d.loc[[0, 1], "x"] = np.nan
    d.loc[[5], "y"] = np.nan
    res = analysis.lin(d, "y", "arm", "control", ["x"])
    assert int(res["n_control"].iloc[0] + res["n_treatment"].sum()) == 27


def test_difference_in_means_equals_hand_computed_welch_values():
    d = pd.DataFrame({"arm": ["c"] * 4 + ["t"] * 3, "y": [1.0, 2.0, 3.0, 6.0, 4.0, 8.0, 9.0]})
    row = analysis.difference_in_means(d, "y", "arm", "c").iloc[0]
    v_t, v_c = np.var([4, 8, 9], ddof=1) / 3, np.var([1, 2, 3, 6], ddof=1) / 4
    assert row["estimate"] == pytest.approx(7.0 - 3.0)
    assert row["std_error"] == pytest.approx(np.sqrt(v_t + v_c))
    assert row["df"] == pytest.approx((v_t + v_c) ** 2 / (v_t**2 / 2 + v_c**2 / 3))


def test_ols_hc2_rejects_collinear_columns_by_name():
    X = np.column_stack([np.ones(6), np.arange(6.0), 2 * np.arange(6.0)])
    with pytest.raises(ValueError, match="rank deficient; collinear or constant columns: z"):
        analysis.ols_hc2(X, np.arange(6.0), ["(Intercept)", "x", "z"])


def test_equivalence_declares_equivalence_only_when_the_90_interval_is_inside_the_bound():
    rng = np.random.default_rng(3)
    n = 4000
    d = pd.DataFrame({"arm": np.repeat(["c", "t"], n), "y": rng.normal(size=2 * n)})
    res = analysis.equivalence(d, "y", "arm", "c", bound=0.2).iloc[0]
    assert (
        res["equivalent"]
        and -res["bound_raw"] < res["conf_low"] < res["conf_high"] < res["bound_raw"]
    )
    res_narrow = analysis.equivalence(d, "y", "arm", "c", bound=0.01).iloc[0]
    assert not res_narrow["equivalent"] and res_narrow["p_value"] > 0.05


def test_ordinal_logit_explains_separated_categories_instead_of_a_linear_algebra_error():
    d = pd.DataFrame({"arm": ["c"] * 30 + ["t"] * 30, "y": [1] * 26 + [2] * 4 + [2] * 4 + [3] * 26})
    with pytest.raises(ValueError, match="proportional-odds model has no finite estimate"):
        analysis.ordinal_logit(d, "y", "arm", "c")
