"""Proportional-odds and logit models with covariates, and the ordinal thresholds, against R.

tests/reference/glm_covariates/glm_covariates.R fits ``ordinal::clm(factor(y) ~ arm +
covariates)`` and ``glm(y ~ arm + covariates, family = binomial)`` on the published
framing experiment and the synthetic study (numeric and text covariates); its output,
glm_covariates_ref.csv, holds every coefficient and threshold with the R call. Tolerance
1e-6 relative on estimate, std_error, statistic, p_value and the Wald interval.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.ordinal import ordinal_model

REF = Path(__file__).resolve().parents[1] / "reference"
TABLE = pd.read_csv(REF / "glm_covariates" / "glm_covariates_ref.csv")
STATS = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
CASES = {
    "framing_immigr": ("framing", "immigr", "cond", "c1", ["age", "income", "gender", "educ"]),
    "synthetic_support": ("synthetic", "support", "arm", "control", ["x1", "x2", "pre"]),
    "framing_cong_mesg": (
        "framing",
        "cong_mesg",
        "cond",
        "c1",
        ["age", "income", "gender", "educ"],
    ),
    "synthetic_join": ("synthetic", "join", "arm", "control", ["x1", "x2", "pre"]),
}


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "data" / f"{name}.csv")


def _assert_rows(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert sorted(got.index) == sorted(ref.index)
    for term, row in ref.iterrows():
        for col in STATS:
            assert float(got.loc[term, col]) == pytest.approx(row[col], rel=1e-6, abs=1e-10), (
                f"{col} of {term}: R {row['call']} gives {row[col]}, we give {got.loc[term, col]}"
            )


@pytest.mark.parametrize("case", ["framing_immigr", "synthetic_support"])
def test_ordinal_logit_with_covariates_matches_clm_estimates_ses_and_thresholds(case):
    name, y, arm, control, covs = CASES[case]
    ref = TABLE[TABLE["case"] == case].set_index("term")
    model = ordinal_model(_data(name), y, arm, control, covariates=covs)
    effects = model.effects().assign(term=lambda e: "arm" + e["arm"]).set_index("term")
    arms = ref[ref.index.str.startswith("arm")]
    _assert_rows(effects, arms)
    assert set(effects["covariates"]) == {", ".join(covs)}
    assert effects["n_control"].iloc[0] + effects["n_treatment"].sum() == ref["n"].iloc[0]
    thresholds = model.thresholds().set_index("threshold")
    _assert_rows(thresholds, ref[ref["kind"] == "threshold"])
    assert (thresholds["n"] == ref["n"].iloc[0]).all()
    # The covariate coefficients too (same names as R's model.matrix).
    K1 = len(thresholds)
    se = model.std_error
    for term, row in ref[
        (ref["kind"] == "coefficient") & ~ref.index.str.startswith("arm")
    ].iterrows():
        j = model.names.index(term)
        assert model.params[K1 + j] == pytest.approx(row["estimate"], rel=1e-6), term
        assert se[K1 + j] == pytest.approx(row["std_error"], rel=1e-6), term
    # ordinal_logit is the same model's effects table.
    pd.testing.assert_frame_equal(
        analysis.ordinal_logit(_data(name), y, arm, control, covariates=covs),
        model.effects(),
    )


@pytest.mark.parametrize("case", ["framing_cong_mesg", "synthetic_join"])
def test_logit_with_covariates_matches_glm(case):
    name, y, arm, control, covs = CASES[case]
    ref = TABLE[(TABLE["case"] == case) & TABLE["term"].str.startswith("arm")].set_index("term")
    got = analysis.logit(_data(name), y, arm, control, covariates=covs)
    _assert_rows(got.assign(term="arm" + got["arm"]).set_index("term"), ref)


def _plan(outcome: dict, covariates: list[str]) -> dict:
    return {
        "arm": "arm", "control": "control", "outcomes": [outcome], "covariates": covariates,
        "ri_draws": 200, "seed": 1,
    }  # fmt: skip


def test_run_passes_the_plans_covariates_and_reports_the_thresholds():
    d = _data("synthetic")
    covs = ["x1", "x2", "pre"]
    res = analysis.run(d, _plan({"name": "support", "type": "ordinal"}, covs))
    ref = TABLE[TABLE["case"] == "synthetic_support"].set_index("term")
    got = pd.DataFrame(res["effects"]).query("method == 'ordinal_logit'")
    assert set(got["covariates"]) == {"x1, x2, pre"}
    _assert_rows(
        got.assign(term="arm" + got["arm"]).set_index("term"), ref.loc[["armcare", "armfairness"]]
    )
    thresholds = pd.DataFrame(res["ordinal_thresholds"]).set_index("threshold")
    assert list(thresholds.index) == ["1|2", "2|3", "3|4", "4|5", "5|6", "6|7"]
    _assert_rows(thresholds, ref[ref["kind"] == "threshold"])
    res = analysis.run(d, _plan({"name": "join", "type": "binary"}, covs))
    got = pd.DataFrame(res["effects"]).query("method == 'logit'")
    ref = TABLE[TABLE["case"] == "synthetic_join"].set_index("term")
    _assert_rows(
        got.assign(term="arm" + got["arm"]).set_index("term"), ref.loc[["armcare", "armfairness"]]
    )


def test_run_falls_back_to_the_arm_only_model_when_a_covariate_separates_the_answers():
    rng = np.random.default_rng(4)
    n = 120
    d = pd.DataFrame({"arm": np.tile(["control", "care"], n // 2), "x": rng.normal(size=n)})
    d["y"] = (d["x"] > 0).astype(int)  # x sorts the answers perfectly
    res = analysis.run(d, _plan({"name": "y", "type": "binary"}, ["x"]))
    logit = [e for e in res["effects"] if e["method"] == "logit"]
    assert len(logit) == 1 and logit[0]["covariates"] == ""
    direct = analysis.logit(d, "y", "arm", "control")
    assert logit[0]["estimate"] == pytest.approx(float(direct["estimate"].iloc[0]), rel=1e-12)
    warning = [w for w in res["warnings"] if w["code"] == "covariates_dropped"]
    assert (
        len(warning) == 1 and "covariate 'x' sorts the answers perfectly" in warning[0]["message"]
    )
