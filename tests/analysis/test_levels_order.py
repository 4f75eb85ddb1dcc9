"""Declared level order: the plan's ``levels`` fixes the order and the reference level.

Reference values: tests/reference/heterogeneity/levels_order_reference.R (R 4.2,
sandwich 3.0-2) fits ``lm(support ~ arm * factor(moderator, levels = declared))`` with
``sandwich::vcovHC(type = "HC2")`` on the synthetic study it writes to
levels_order_data.csv. Declared orders: ideology liberal, moderate, conservative
(alphabetical order would make "conservative" the reference), education 3, 1, 2,
region south, north, west.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis._data import covariate_matrix, factor
from analysis.diagnostics import balance, balance_joint
from analysis.heterogeneity import subgroup_effects
from analysis.interactions import (
    interaction_effects,
    interaction_joint_test,
    interaction_model,
)
from analysis.regression import ancova, lin

REF = Path(__file__).resolve().parents[1] / "reference" / "heterogeneity"
R_CALL = (
    "Rscript tests/reference/heterogeneity/levels_order_reference.R: "
    "lm(support ~ arm * factor(moderator, levels = declared)), sandwich::vcovHC(type = 'HC2')"
)
IDEOLOGY = ["liberal", "moderate", "conservative"]
LEVELS = {"ideology": IDEOLOGY, "education": [3, 1, 2], "region": ["south", "north", "west"]}
STATS = ["estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    return pd.read_csv(REF / "levels_order_data.csv")


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name)


def _plan(**extra) -> dict:
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "support", "primary": True}],
        "moderators": ["ideology", "education"],
        "covariates": ["region"],
    }
    return {**plan, **extra}


def _by_hand_interaction(d: pd.DataFrame, moderator: str, arm: str, level, reference) -> float:
    """Closed form without covariates: the difference of two subgroup differences in means."""
    d = d.dropna(subset=["support"])
    means = d.groupby([moderator, "arm"])["support"].mean()
    return float(
        (means[(level, arm)] - means[(level, "control")])
        - (means[(reference, arm)] - means[(reference, "control")])
    )


# --- the factor itself ---------------------------------------------------------------


def test_declared_order_sets_the_reference_where_sorting_would_pick_conservative(study):
    assert factor(study, "ideology").levels == ["conservative", "liberal", "moderate"]
    declared = factor(study, "ideology", LEVELS)
    assert declared.levels == IDEOLOGY
    assert declared.reference == "liberal"
    assert declared.declared
    codes = declared.codes
    assert np.array_equal(codes == 0, (study["ideology"] == "liberal").to_numpy())


def test_numeric_declared_order_matches_numbers_written_as_numbers_or_text(study):
    f = factor(study, "education", LEVELS)
    assert f.levels == [3, 1, 2] and f.reference == 3
    as_text = study.assign(education=study["education"].astype(str))
    g = factor(as_text, "education", LEVELS)
    assert g.levels == [3, 1, 2] and np.array_equal(g.codes, f.codes)
    h = factor(study, "education", {"education": ["3", "1", "2"]})
    assert h.levels == ["3", "1", "2"] and np.array_equal(h.codes, f.codes)


def test_declared_levels_absent_from_the_data_are_skipped_and_keep_their_place(study):
    f = factor(study, "ideology", {"ideology": ["far_left", "liberal", "moderate", "conservative"]})
    assert f.levels == IDEOLOGY and f.reference == "liberal"
    g = factor(study, "ideology", {"ideology": ["moderate", "nobody", "liberal", "conservative"]})
    assert g.levels == ["moderate", "liberal", "conservative"]


def test_undeclared_numbers_sort_numerically_and_text_in_code_point_order():
    d = pd.DataFrame(
        {"n": pd.Series([10, 9, 2, None, 10], dtype=object), "t": ["b", "B", "a", "A", None]}
    )
    assert factor(d, "n").levels == [2, 9, 10]
    assert factor(d, "t").levels == ["A", "B", "a", "b"]
    _, names = covariate_matrix(d, ["n"])
    assert names == ["n9", "n10"]


def test_a_pandas_categorical_keeps_its_categories_order_everywhere():
    d = pd.DataFrame({"g": pd.Categorical(["b", "a", "c", "b"], categories=["c", "b", "a"])})
    assert factor(d, "g").levels == ["c", "b", "a"]
    assert covariate_matrix(d, ["g"])[1] == ["gb", "ga"]


def test_an_undeclared_value_raises_naming_the_column_the_value_and_the_declaration(study):
    bad = study.copy()
    bad.loc[[0, 5], "ideology"] = "libertarian"
    with pytest.raises(ValueError) as err:
        factor(bad, "ideology", LEVELS)
    message = str(err.value)
    assert "'ideology'" in message and "'libertarian'" in message
    assert "'liberal', 'moderate', 'conservative'" in message
    assert "in 2 row(s)" in message
    with pytest.raises(ValueError, match="value 4, which is not a declared level"):
        factor(study.assign(education=study["education"].replace(2, 4)), "education", LEVELS)


# --- heterogeneity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "moderator", "covariates", "reference"),
    [
        ("ideology", "ideology", (), "liberal"),
        ("education", "education", (), 3),
        ("ideology_region", "ideology", ("region",), "liberal"),
    ],
)
def test_interactions_use_the_first_declared_level_as_reference_like_r(
    study, model, moderator, covariates, reference
):
    got = interaction_effects(
        study,
        "support",
        "arm",
        "control",
        moderator,
        covariates,
        levels=LEVELS,
        small_sample="residual",  # lm_robust's n - k
    ).set_index("term")
    ref = _ref("levels_order_interactions.csv").query("model == @model").set_index("term")
    assert sorted(got.index) == sorted(ref.index), R_CALL
    got = got.loc[ref.index]
    for col in STATS:
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-9, atol=1e-12, err_msg=R_CALL)
    assert (got["n"] == ref["n"]).all()
    assert set(got["reference"]) == {reference}
    # Each term names the level it contrasts with the reference, e.g. "care:education1".
    assert all(
        t.endswith(f":{moderator}{lv}") for t, lv in zip(got.index, got["level"], strict=True)
    )
    assert set(got["level"]) == set(LEVELS[moderator][1:])


def test_interaction_with_declared_reference_is_the_difference_of_subgroup_differences(study):
    got = interaction_effects(study, "support", "arm", "control", "ideology", levels=LEVELS)
    assert got["term"].tolist() == [
        "care:ideologymoderate",
        "care:ideologyconservative",
        "fairness:ideologymoderate",
        "fairness:ideologyconservative",
    ]
    for row in got.itertuples():
        by_hand = _by_hand_interaction(study, "ideology", row.arm, row.level, "liberal")
        assert row.estimate == pytest.approx(by_hand, rel=1e-10)
    # Sorted (no declaration) would compare with conservative instead: other numbers.
    sorted_ = interaction_effects(study, "support", "arm", "control", "ideology")
    assert set(sorted_["reference"]) == {"conservative"}
    assert "care:ideologyliberal" in sorted_["term"].tolist()
    care_moderate = sorted_.set_index("term").loc["care:ideologymoderate", "estimate"]
    by_hand = _by_hand_interaction(study, "ideology", "care", "moderate", "conservative")
    assert care_moderate == pytest.approx(by_hand, rel=1e-10)
    declared = got.set_index("term").loc["care:ideologymoderate", "estimate"]
    assert abs(care_moderate - declared) > 0.3


def test_the_joint_test_matches_r_and_does_not_depend_on_the_reference(study):
    ref = _ref("levels_order_joint.csv").set_index("model")
    for model, moderator, covariates in [
        ("ideology", "ideology", ()),
        ("education", "education", ()),
        ("ideology_region", "ideology", ("region",)),
    ]:
        got = interaction_joint_test(
            study, "support", "arm", "control", moderator, covariates, levels=LEVELS
        ).iloc[0]
        for col in ["statistic", "df", "p_value", "f_statistic", "df_num", "df_denom", "f_p_value"]:
            assert got[col] == pytest.approx(ref.loc[model, col], rel=1e-9), R_CALL
    undeclared = interaction_joint_test(study, "support", "arm", "control", "ideology")
    assert undeclared["statistic"].iloc[0] == pytest.approx(ref.loc["ideology", "statistic"])


def test_a_numeric_moderator_with_declared_levels_is_categorical_in_that_order(study):
    model = interaction_model(study, "support", "arm", "control", "education", levels=LEVELS)
    assert model.reference == 3
    assert model.term_levels == (1, 2, 1, 2)
    assert [t for _, t in model.pairs] == [
        "care:education1",
        "care:education2",
        "fairness:education1",
        "fairness:education2",
    ]
    # Undeclared, the same column is a numeric moderator: one slope per arm.
    numeric = interaction_model(study, "support", "arm", "control", "education")
    assert numeric.reference is None and [t for _, t in numeric.pairs] == [
        "care:education",
        "fairness:education",
    ]


def test_subgroups_list_levels_in_declared_order_with_the_reference(study):
    ref = _ref("levels_order_subgroups.csv")
    for moderator in ("ideology", "education"):
        got = subgroup_effects(study, "support", "arm", "control", moderator, levels=LEVELS)
        assert got["level"].tolist() == [
            lv for lv in LEVELS[moderator] for _ in ("care", "fairness")
        ]
        assert set(got["reference"]) == {LEVELS[moderator][0]}
        mine = ref[ref["moderator"] == moderator]
        np.testing.assert_allclose(got["estimate"], mine["estimate"], rtol=1e-10, err_msg=R_CALL)
    undeclared = subgroup_effects(study, "support", "arm", "control", "ideology")
    assert undeclared["level"].tolist()[::2] == ["conservative", "liberal", "moderate"]


def test_subgroups_raise_on_an_undeclared_moderator_value(study):
    bad = study.assign(ideology=study["ideology"].replace("moderate", "centrist"))
    with pytest.raises(ValueError, match="'centrist', which is not a declared level"):
        subgroup_effects(bad, "support", "arm", "control", "ideology", levels=LEVELS)
    with pytest.raises(ValueError, match=r"levels\.ideology: column 'ideology'"):
        interaction_model(bad, "support", "arm", "control", "ideology", levels=LEVELS)


# --- covariates: balance and estimators ------------------------------------------------


def test_balance_lists_levels_in_declared_order_and_names_the_reference(study):
    got = balance(study, "arm", "control", ["region", "ideology", "education"], levels=LEVELS)
    care = got[got["arm"] == "care"]
    assert care["covariate"].tolist() == [
        "region=south", "region=north", "region=west",
        "ideology=liberal", "ideology=moderate", "ideology=conservative",
        "education=3", "education=1", "education=2",
    ]  # fmt: skip
    assert care["level"].tolist() == [*LEVELS["region"], *IDEOLOGY, 3, 1, 2]
    assert care["reference"].tolist() == ["south"] * 3 + ["liberal"] * 3 + [3] * 3
    share = (study.loc[study["arm"] == "care", "ideology"] == "moderate").mean()
    assert care.set_index("covariate").loc["ideology=moderate", "mean_arm"] == pytest.approx(share)
    sorted_ = balance(study, "arm", "control", ["ideology", "education"])
    assert sorted_[sorted_["arm"] == "care"]["covariate"].tolist() == [
        "ideology=conservative", "ideology=liberal", "ideology=moderate", "education",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="'east', which is not a declared level"):
        balance(study.replace({"region": {"west": "east"}}), "arm", "control", ["region"],
                levels=LEVELS)  # fmt: skip


def test_balance_joint_test_is_the_same_whatever_the_reference(study):
    declared = balance_joint(study, "arm", "control", ["ideology", "region"], levels=LEVELS)
    sorted_ = balance_joint(study, "arm", "control", ["ideology", "region"])
    np.testing.assert_allclose(declared["statistic"], sorted_["statistic"], rtol=1e-9)
    # Declaring education's levels makes it categorical: two dummies instead of one slope.
    assert balance_joint(study, "arm", "control", ["education"], levels=LEVELS)["df"].tolist() == [
        2.0,
        2.0,
    ]


def test_covariate_dummies_drop_the_first_declared_level(study):
    _, names = covariate_matrix(study, ["ideology", "education", "region"], LEVELS)
    assert names == [
        "ideologymoderate", "ideologyconservative", "education1", "education2",
        "regionnorth", "regionwest",
    ]  # fmt: skip


def test_lin_and_ancova_effects_do_not_depend_on_the_covariate_reference(study):
    d = study.dropna(subset=["support"]).assign(pre=lambda x: x["support"].rank())
    a = lin(d, "support", "arm", "control", ["region", "ideology"], levels=LEVELS)
    b = lin(d, "support", "arm", "control", ["region", "ideology"])
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-9)
    np.testing.assert_allclose(a["std_error"], b["std_error"], rtol=1e-9)
    # A numeric covariate with declared levels is categorical: the same as its text form.
    c = lin(d, "support", "arm", "control", ["education"], levels=LEVELS)
    text = lin(d.assign(education=d["education"].astype(str)), "support", "arm", "control",
               ["education"])  # fmt: skip
    numeric = lin(d, "support", "arm", "control", ["education"])
    np.testing.assert_allclose(c["estimate"], text["estimate"], rtol=1e-9)
    assert not np.allclose(c["estimate"], numeric["estimate"], rtol=1e-6)
    with pytest.raises(ValueError, match=r"levels\.region"):
        ancova(d.replace({"region": {"west": "east"}}), "support", "arm", "control", "pre",
               covariates=["region"], levels=LEVELS)  # fmt: skip


# --- through run(df, plan) -------------------------------------------------------------


def test_run_follows_the_plans_declared_levels(study):
    res = analysis.run(study, _plan(levels=LEVELS))
    assert not [w for w in res["warnings"] if w["code"] == "section_failed"]
    het = [r for r in res["heterogeneity"] if r["moderator"] == "ideology"]
    assert {r["reference"] for r in het} == {"liberal"}
    ref = _ref("levels_order_interactions.csv").query("model == 'ideology'").set_index("term")
    for r in het:
        assert r["estimate"] == pytest.approx(ref.loc[r["term"], "estimate"], rel=1e-9), R_CALL
        assert r["std_error"] == pytest.approx(ref.loc[r["term"], "std_error"], rel=1e-9), R_CALL
    edu = [r for r in res["heterogeneity"] if r["moderator"] == "education"]
    assert {r["reference"] for r in edu} == {3} and [r["level"] for r in edu] == [1, 2, 1, 2]
    subgroups = [r["level"] for r in res["subgroups"] if r["moderator"] == "ideology"]
    assert list(dict.fromkeys(subgroups)) == IDEOLOGY
    assert list(
        dict.fromkeys(r["level"] for r in res["subgroups"] if r["moderator"] == "education")
    ) == [3, 1, 2]
    assert [r["covariate"] for r in res["balance"] if r["arm"] == "care"] == [
        "region=south", "region=north", "region=west",
    ]  # fmt: skip


def test_run_without_levels_keeps_sorted_order_and_the_same_effects(study):
    declared = analysis.run(study, _plan(levels=LEVELS))
    plain = analysis.run(study, _plan())
    het = [r for r in plain["heterogeneity"] if r["moderator"] == "ideology"]
    assert {r["reference"] for r in het} == {"conservative"}
    edu = [r for r in plain["heterogeneity"] if r["moderator"] == "education"]
    assert [r["term"] for r in edu] == ["care:education", "fairness:education"]
    # Average effects (difference in means, Lin) do not depend on the level order.
    key = lambda e: (e["method"], e["arm"])  # noqa: E731
    for a, b in zip(
        sorted(declared["effects"], key=key), sorted(plain["effects"], key=key), strict=True
    ):
        assert key(a) == key(b)
        assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-9)


def test_run_reports_an_undeclared_value_by_name_and_still_computes_the_rest(study):
    bad = study.assign(ideology=study["ideology"].replace("moderate", "centrist"))
    res = analysis.run(bad, _plan(levels=LEVELS))
    failed = [w["message"] for w in res["warnings"] if w["code"] == "section_failed"]
    assert failed and all("'centrist'" in m and "'liberal', 'moderate'" in m for m in failed)
    assert {w.split(" not computed")[0] for w in failed} == {
        "subgroups",
        "heterogeneity",
        "heterogeneity_joint",
    }
    assert res["effects"] and res["balance"]
    assert [r["moderator"] for r in res["heterogeneity"]] == ["education"] * 4


def test_run_codes_a_declared_numeric_covariate_as_categorical_in_lin(study):
    plan = _plan(covariates=["education"], moderators=[], levels=LEVELS)
    res = analysis.run(study, plan)
    got = {e["arm"]: e["estimate"] for e in res["effects"] if e["method"] == "lin"}
    expected = lin(study, "support", "arm", "control", ["education"], levels=LEVELS)
    numeric = lin(study, "support", "arm", "control", ["education"])
    for row, slope in zip(expected.itertuples(), numeric.itertuples(), strict=True):
        assert got[row.arm] == pytest.approx(row.estimate, rel=1e-12)
        assert got[row.arm] != pytest.approx(slope.estimate, rel=1e-6)
    assert [r["covariate"] for r in res["balance"] if r["arm"] == "care"] == [
        "education=3",
        "education=1",
        "education=2",
    ]
