"""analysis.heterogeneity, .interactions and .value_matching against R (tests/reference/heterogeneity/heterogeneity_reference.R).

Data: the Brader, Valentino & Suhay (2008) framing experiment and JOBS II
(tests/reference/diagnostics/), and a synthetic moral-reframing study.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.heterogeneity import subgroup_effects
from analysis.interactions import (
    interaction_effects,
    interaction_joint_test,
    interaction_model,
)
from analysis.value_matching import value_match

ROOT = Path(__file__).resolve().parent.parent / "reference"
REF = ROOT / "heterogeneity"
RTOL = 1e-6
STATS = ["estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]
DATA = {
    "framing": ("tone0_eth0", ROOT / "diagnostics" / "framing.csv"),
    "jobs": ("control", ROOT / "diagnostics" / "jobs.csv"),
}
# model id -> (dataset, outcome, moderator, covariates), as the R formulas in the script
MODELS = {
    "framing_gender": ("framing", "immigr", "gender", ["age", "income"]),
    "framing_income": ("framing", "immigr", "income", []),
    "framing_educ": ("framing", "immigr", "educ", ["gender"]),
    "jobs_depress1": ("jobs", "depress2", "depress1", ["econ_hard", "age", "sex"]),
}


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA[name][1])


def _close(got: pd.DataFrame, ref: pd.DataFrame, columns: list[str]) -> None:
    for col in columns:
        np.testing.assert_allclose(
            got[col].to_numpy(float), ref[col].to_numpy(float), rtol=RTOL, err_msg=col
        )


@pytest.mark.parametrize(
    ("dataset", "outcome", "moderator"),
    [
        ("framing", "immigr", "educ"),
        ("framing", "immigr", "gender"),
        ("jobs", "depress2", "marital"),
    ],
)
def test_subgroup_effects_match_difference_in_means_within_each_level(dataset, outcome, moderator):
    # R: tidy(difference_in_means(y ~ arm, data = subset(level), condition1 = control, condition2 = a))
    control = DATA[dataset][0]
    got = subgroup_effects(_data(dataset), outcome, "arm", control, moderator, min_cell_size=10)
    ref = _csv_query("subgroups_ref.csv", dataset, moderator)
    assert list(got["level"]) == list(ref["level"])
    assert list(got["arm"]) == list(ref["arm"])
    small = (ref["n_control"] < 10) | (ref["n_treatment"] < 10)
    assert got["suppressed"].tolist() == small.tolist()
    _close(got[~small.to_numpy()], ref[~small], STATS)
    assert got.loc[small.to_numpy(), STATS].isna().all().all()


def _csv_query(name: str, dataset: str, moderator: str) -> pd.DataFrame:
    ref = pd.read_csv(REF / name)
    return ref[(ref["dataset"] == dataset) & (ref["moderator"] == moderator)].reset_index(drop=True)


def test_small_subgroup_cells_are_suppressed_with_their_counts_hidden():
    # In the framing data, 'less than high school' has fewer than 10 people in some arms.
    got = subgroup_effects(_data("framing"), "immigr", "arm", "tone0_eth0", "educ")
    ref = _csv_query("subgroups_ref.csv", "framing", "educ")
    hidden = got[got["level"] == "less than high school"]
    assert hidden["suppressed"].all()
    raw = ref[ref["level"] == "less than high school"]
    for got_n, ref_n in zip(hidden["n_treatment"], raw["n_treatment"], strict=True):
        assert (got_n is pd.NA) if ref_n < 10 else got_n == ref_n
    # min_cell_size=0 turns suppression off (cells with at least 2 per arm are estimated).
    shown = subgroup_effects(
        _data("framing"), "immigr", "arm", "tone0_eth0", "educ", min_cell_size=0
    )
    assert not shown["suppressed"].any()


@pytest.mark.parametrize("model", list(MODELS))
def test_interaction_effects_match_lm_robust_hc2(model):
    # R: tidy(lm_robust(y ~ arm * moderator + covariates, se_type = "HC2")), the ":" terms
    # (estimatr's residual df; the default Bell-McCaffrey df: test_small_sample_reference)
    dataset, outcome, moderator, covs = MODELS[model]
    got = interaction_effects(
        _data(dataset), outcome, "arm", DATA[dataset][0], moderator, covs, small_sample="residual"
    )
    ref = pd.read_csv(REF / "interactions_ref.csv").query("model == @model")
    ref = ref.assign(term=ref["term"].str.removeprefix("arm"))
    # R lists the terms moderator-major; ours are grouped by arm.
    got = got.sort_values("term").reset_index(drop=True)
    ref = ref.sort_values("term").reset_index(drop=True)
    assert list(got["term"]) == list(ref["term"])
    assert set(got["arm"]) == {"tone0_eth1", "tone1_eth0", "tone1_eth1"} or dataset == "jobs"
    _close(got, ref, STATS)
    assert (got["n"] == ref["n"]).all()


@pytest.mark.parametrize("model", list(MODELS))
def test_interaction_joint_test_matches_car_linear_hypothesis_hc2(model):
    # R: linearHypothesis(lm(y ~ arm * moderator + covs), ":" terms,
    #                     vcov. = vcovHC(fit, type = "HC2"), test = "Chisq" / "F")
    dataset, outcome, moderator, covs = MODELS[model]
    got = interaction_joint_test(_data(dataset), outcome, "arm", DATA[dataset][0], moderator, covs)
    ref = pd.read_csv(REF / "interaction_joint_ref.csv").query("model == @model")
    ref = ref.reset_index(drop=True)
    _close(
        got, ref, ["statistic", "df", "p_value", "f_statistic", "df_num", "df_denom", "f_p_value"]
    )


@pytest.mark.parametrize("model", list(MODELS))
def test_interaction_model_gives_both_tables_of_the_public_functions(model):
    dataset, outcome, moderator, covs = MODELS[model]
    d, control = _data(dataset), DATA[dataset][0]
    fitted = interaction_model(d, outcome, "arm", control, moderator, covs)
    pd.testing.assert_frame_equal(
        fitted.effects(0.1),
        interaction_effects(d, outcome, "arm", control, moderator, covs, alpha=0.1),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        fitted.joint_test(),
        interaction_joint_test(d, outcome, "arm", control, moderator, covs),
        check_exact=True,
    )


def _value_data() -> pd.DataFrame:
    return pd.read_csv(REF / "value_match_data.csv")


TAGS = {"care": "care_v", "fairness": "fairness_v", "loyalty": "loyalty_v"}


def test_value_match_per_arm_and_pooled_match_lm_robust():
    # R per arm: lm_robust(support ~ T * v, se_type = "HC2") on arm + control, v centred;
    # pooled: lm_robust(support ~ 0 + factor(s) + factor(s):T + factor(s):v + I(T * v),
    #                   data = stacked, clusters = id, se_type = "stata")
    got = value_match(_value_data(), "support", "arm", "control", TAGS)
    ref = pd.read_csv(REF / "value_match_ref.csv")
    assert list(got["arm"]) == list(ref["arm"])
    assert list(got["method"]) == ["arm_interaction"] * 3 + ["pooled"]
    _close(got, ref, STATS)


def test_value_match_counts_complete_cases_and_distinct_control_participants():
    d = _value_data()
    got = value_match(d, "support", "arm", "control", TAGS).set_index("arm")
    care = d[d["arm"].isin(["care", "control"])].dropna(subset=["support", "care_v"])
    assert got.loc["care", "n_treatment"] == (care["arm"] == "care").sum()
    assert got.loc["care", "n_control"] == (care["arm"] == "control").sum()
    ctrl = d[(d["arm"] == "control") & d["support"].notna()]
    assert got.loc["pooled", "n_control"] == len(ctrl)  # any control with one complete score
    assert got.loc["pooled", "n_treatment"] == got["n_treatment"].iloc[:3].sum()


def test_value_match_standardize_rescales_to_per_sd_of_the_value_score():
    d = _value_data()
    raw = value_match(d, "support", "arm", "control", {"care": "care_v"})
    std = value_match(d, "support", "arm", "control", {"care": "care_v"}, standardize=True)
    pair = d[d["arm"].isin(["care", "control"])].dropna(subset=["support", "care_v"])
    sd = pair["care_v"].std()
    assert std["estimate"].iloc[0] == pytest.approx(raw["estimate"].iloc[0] * sd, rel=1e-10)
    assert std["p_value"].iloc[0] == pytest.approx(raw["p_value"].iloc[0], rel=1e-10)


def test_value_match_recovers_a_planted_matched_value_interaction():
    rng = np.random.default_rng(12)
    n = 4000
    d = pd.DataFrame({"arm": rng.choice(["control", "care", "liberty"], n)})
    d["care_v"], d["liberty_v"] = rng.normal(size=n), rng.normal(size=n)
    own = np.where(
        d["arm"] == "care", d["care_v"], np.where(d["arm"] == "liberty", d["liberty_v"], 0)
    )
    d["y"] = 0.4 * own + rng.normal(size=n)
    got = value_match(d, "y", "arm", "control", {"care": "care_v", "liberty": "liberty_v"})
    assert np.all(np.abs(got["estimate"] - 0.4) < 3 * got["std_error"])
    assert np.all(got["p_value"] < 1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda d: subgroup_effects(d, "immigr", "arm", "tone0_eth0", "ideology"),
            "'ideology' is not in the data",
        ),
        (
            # a numeric one is split into tertiles instead (test_continuous_moderators.py)
            lambda d: subgroup_effects(
                d.assign(age=d["age"].astype(str)), "immigr", "arm", "tone0_eth0", "age"
            ),
            "moderator 'age': expected a categorical moderator with at most 20 levels",
        ),
        (
            lambda d: subgroup_effects(d, "anx", "arm", "tone0_eth0", "gender"),
            "outcome 'anx': expected numeric values, found non-numeric",
        ),
        (
            lambda d: interaction_effects(d, "immigr", "arm", "placebo", "gender"),
            "control label 'placebo' not found",
        ),
        (
            lambda d: interaction_effects(d, "immigr", "arm", "tone0_eth0", "gender", ["gender"]),
            "covariates: the moderator 'gender' must not also be a covariate",
        ),
        (
            lambda d: value_match(d, "immigr", "arm", "tone0_eth0", {"care": "emo"}),
            "arm_values: arm 'care' is not a frame arm in column 'arm'",
        ),
        (
            lambda d: value_match(d, "immigr", "arm", "tone0_eth0", {"tone1_eth1": "care_v"}),
            "value-score column 'care_v' is not in the data",
        ),
    ],
)
def test_bad_input_raises_value_error_naming_the_column(call, message):
    with pytest.raises(ValueError, match=message):
        call(_data("framing"))


def test_interaction_with_a_constant_moderator_is_rejected_with_its_name():
    d = _data("framing").assign(everyone=1.0)
    with pytest.raises(ValueError, match="moderator 'everyone': cannot estimate interactions"):
        interaction_effects(d, "immigr", "arm", "tone0_eth0", "everyone")


@pytest.mark.parametrize("dtype", ["str", "string", "category", "object"])
def test_missing_moderator_values_are_dropped_for_every_text_dtype(dtype):
    d = _data("framing")
    d["educ"] = d["educ"].where(d.index % 7 != 0).astype(dtype)
    kept = d[d["educ"].notna()]
    sub = subgroup_effects(d, "immigr", "arm", "tone0_eth0", "educ", min_cell_size=0)
    assert (sub["n_control"] + sub["n_treatment"]).sum() == len(kept) + 2 * (
        kept["arm"] == "tone0_eth0"
    ).sum()
    inter = interaction_effects(d, "immigr", "arm", "tone0_eth0", "educ")
    assert inter["n"].iloc[0] == len(kept)


def test_value_match_with_a_constant_value_score_names_the_column():
    d = _value_data().assign(flat=3.0)
    with pytest.raises(ValueError, match="value-score column 'flat': arm 'care': design matrix"):
        value_match(d, "support", "arm", "control", {"care": "flat"})


def test_pooled_value_match_rejects_at_nominal_rate_without_interaction_in_small_samples():
    # Calibration: 20 per arm, unequal variances, real main effects, no matched-value effect.
    reps, hits = 200, 0
    tags = {"care": "care_v", "fairness": "fairness_v", "loyalty": "loyalty_v"}
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        d = pd.DataFrame({"arm": np.repeat(["control", "care", "fairness", "loyalty"], 20)})
        for column in tags.values():
            d[column] = rng.normal(size=80)
        noise = np.where(d["arm"] == "control", 1.0, 2.0)
        d["y"] = 0.3 * (d["arm"] != "control") + 0.5 * d["care_v"] + noise * rng.normal(size=80)
        hits += value_match(d, "y", "arm", "control", tags)["p_value"].iloc[-1] < 0.05
    mc = np.sqrt(0.05 * 0.95 / reps)
    assert abs(hits / reps - 0.05) < 3 * mc
