"""HC2 with Bell-McCaffrey degrees of freedom against clubSandwich (R).

tests/reference/small_sample/small_sample.R runs
``clubSandwich::coef_test(lm(...), vcov = "CR2", cluster = 1:n, test = "Satterthwaite")``
(CR2 with each participant its own cluster is HC2) for Lin, ANCOVA, change-score and
interaction models; the exact call is in the ``call`` column and in each failure message.
Tolerance 1e-6 relative on estimate, std_error, statistic, df, p_value and the interval.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.hc import ols_hc2
from analysis.interactions import interaction_effects
from analysis.small_sample import bell_mccaffrey_df

REF = Path(__file__).resolve().parents[1] / "reference"
SMALL = REF / "small_sample"
STATS = ["estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]


def _read(path: str) -> pd.DataFrame:
    return pd.read_csv(REF / path)


def _effects(name: str) -> pd.DataFrame:
    """Our rows for one case, indexed by the R coefficient name."""
    if name == "framing_immigr_lin":
        covs = ["age", "income", "gender", "educ"]
        got = analysis.lin(_read("data/framing.csv"), "immigr", "cond", "c1", covs)
    elif name == "framing_emo_ancova":
        got = analysis.ancova(_read("data/framing.csv"), "emo", "cond", "c1", "age")
    elif name == "thornton_got_lin":
        got = analysis.lin(
            _read("data/thornton_hiv.csv"), "got", "arm", "control", ["age", "distvct"]
        )
    elif name == "synthetic_post_lin":
        got = analysis.lin(
            _read("data/synthetic.csv"), "post", "arm", "control", ["x1", "x2", "pre"]
        )
    elif name == "synthetic_post_ancova":
        got = analysis.ancova(_read("data/synthetic.csv"), "post", "arm", "control", "pre")
    elif name == "synthetic_post_change_score":
        got = analysis.change_score(_read("data/synthetic.csv"), "post", "arm", "control", "pre")
    elif name == "unbalanced_lin":
        got = analysis.lin(_read("small_sample/unbalanced.csv"), "y", "arm", "control", ["x"])
    elif name == "unbalanced_ancova":
        got = analysis.ancova(_read("small_sample/unbalanced.csv"), "y", "arm", "control", "x")
    else:
        data, control, outcome, moderator, covs = INTERACTIONS[name]
        got = interaction_effects(_read(data), outcome, "arm", control, moderator, covs)
        return got.assign(term="A" + got["term"]).set_index("term")
    return got.assign(term="A" + got["arm"]).set_index("term")


INTERACTIONS = {
    "framing_gender": ("diagnostics/framing.csv", "tone0_eth0", "immigr", "gender", ["age", "income"]),
    "framing_income": ("diagnostics/framing.csv", "tone0_eth0", "immigr", "income", []),
    "framing_educ": ("diagnostics/framing.csv", "tone0_eth0", "immigr", "educ", ["gender"]),
    "jobs_depress1": ("diagnostics/jobs.csv", "control", "depress2", "depress1", ["econ_hard", "age", "sex"]),
}  # fmt: skip
REFERENCE = pd.read_csv(SMALL / "small_sample_ref.csv")
CASES = list(dict.fromkeys(REFERENCE["case"]))


@pytest.mark.parametrize("case", CASES)
def test_hc2_bell_mccaffrey_matches_clubsandwich_cr2_satterthwaite_to_1e6(case):
    ref = REFERENCE[REFERENCE["case"] == case].set_index("term")
    got = _effects(case)
    assert sorted(got.index) == sorted(ref.index)
    for term, row in ref.iterrows():
        assert got.loc[term, "small_sample"] == "bell_mccaffrey"
        for col in STATS:
            assert float(got.loc[term, col]) == pytest.approx(row[col], rel=1e-6, abs=1e-12), (
                f"{col} of {term}: R {row['call']} gives {row[col]}, we give {got.loc[term, col]}"
            )


def test_residual_df_figures_stay_available_and_match_estimatr_settings():
    d = _read("small_sample/unbalanced.csv")
    bm = analysis.lin(d, "y", "arm", "control", ["x"]).iloc[0]
    resid = analysis.lin(d, "y", "arm", "control", ["x"], small_sample="residual").iloc[0]
    # Same estimate and HC2 SE; only the t reference differs.
    assert bm["std_error"] == resid["std_error"]
    assert resid["df"] == resid["df_residual"] == len(d) - 4
    assert bm["df_residual"] == resid["df"]
    assert bm["p_value_residual"] == pytest.approx(resid["p_value"], rel=1e-12)
    assert bm["conf_low_residual"] == pytest.approx(resid["conf_low"], rel=1e-12)
    # 15 vs 60 with the control three times as variable: far fewer than n - k.
    assert bm["df"] < 30 < resid["df"]
    assert bm["conf_high"] - bm["conf_low"] > resid["conf_high"] - resid["conf_low"]


def test_bell_mccaffrey_df_of_a_two_group_regression_has_its_closed_form():
    # Homoskedastic working model, dummy regression: nu = (1/n1 + 1/n0)^2 /
    # (1/(n1^2 (n1 - 1)) + 1/(n0^2 (n0 - 1))) (Imbens & Kolesar 2016, eq. for a binary
    # regressor); equal groups give the pooled n - 2.
    rng = np.random.default_rng(3)
    for n0, n1 in [(15, 60), (7, 7), (3, 40)]:
        X = np.column_stack([np.ones(n0 + n1), np.repeat([0.0, 1.0], [n0, n1])])
        fit = ols_hc2(X, rng.normal(size=n0 + n1), ["(Intercept)", "t"])
        want = (1 / n1 + 1 / n0) ** 2 / (1 / (n1**2 * (n1 - 1)) + 1 / (n0**2 * (n0 - 1)))
        assert bell_mccaffrey_df(fit, "t") == pytest.approx(want, rel=1e-12)


def test_bell_mccaffrey_df_equals_the_n_by_n_matrix_formula():
    # nu = tr(G'G)^2 / tr((G'G)^2), G = (I - H) diag(a_i / sqrt(1 - h_ii)), written out.
    rng = np.random.default_rng(8)
    n = 40
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n), rng.normal(size=n)])
    fit = ols_hc2(X, rng.normal(size=n))
    H = X @ np.linalg.solve(X.T @ X, X.T)
    M = np.eye(n) - H
    for j in range(4):
        a = np.linalg.solve(X.T @ X, X.T)[j]
        G = M @ np.diag(a / np.sqrt(1 - np.diag(H)))
        B = G.T @ G
        assert bell_mccaffrey_df(fit, j) == pytest.approx(
            np.trace(B) ** 2 / np.sum(B * B), rel=1e-10
        )


def test_plan_declares_small_sample_and_rejects_unknown_values():
    plan = analysis.load_plan({"arm": "a", "control": "c", "outcomes": ["y"]})
    assert plan.small_sample == "bell_mccaffrey"
    assert (
        analysis.load_plan(
            {"arm": "a", "control": "c", "outcomes": ["y"], "small_sample": "residual"}
        ).small_sample
        == "residual"
    )
    with pytest.raises(ValueError, match="small_sample: expected one of bell_mccaffrey, residual"):
        analysis.load_plan({"arm": "a", "control": "c", "outcomes": ["y"], "small_sample": "hc3"})
    with pytest.raises(ValueError, match="small_sample: expected one of"):
        analysis.lin(
            _read("small_sample/unbalanced.csv"), "y", "arm", "control", ["x"], small_sample="x"
        )


def test_run_follows_the_plans_small_sample_for_every_hc2_regression():
    d = _read("data/synthetic.csv")
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "post", "baseline": "pre"}],
        "covariates": ["x1"],
        "moderators": ["x1"],
        "ri_draws": 100,
    }
    hc2 = {"lin", "ancova", "change_score"}
    for rule in ("bell_mccaffrey", "residual"):
        res = analysis.run(d, {**plan, "small_sample": rule})
        rows = [e for e in res["effects"] if e["method"] in hc2] + res["heterogeneity"]
        assert len(rows) == 8
        for r in rows:
            assert r["small_sample"] == rule
            assert (r["df"] == r["df_residual"]) is (rule == "residual")
        assert res["meta"]["small_sample"] == rule
    # The Welch difference in means is not an HC2 regression: its df do not change.
    dim = [e for e in res["effects"] if e["method"] == "difference_in_means"]
    assert all(e.get("small_sample") is None for e in dim)
