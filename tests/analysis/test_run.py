"""analysis.run: the results document, its families, warnings and errors; the CLI."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.__main__ import main
from tests.factories import example_plan

KEYS = {
    "meta",
    "methods",
    "effects",
    "effect_sizes",
    "omnibus",
    "equivalence",
    "ordinal_thresholds",
    "backlash",
    "reliability",
    "descriptives",
    "distributions",
    "balance",
    "balance_joint",
    "sample_ratio",
    "attrition",
    "attrition_test",
    "flow",
    "heterogeneity",
    "heterogeneity_joint",
    "subgroups",
    "value_match",
    "warnings",
}
EFFECT_FIELDS = [
    "outcome",
    "arm",
    "method",
    "estimate",
    "std_error",
    "statistic",
    "df",
    "p_value",
    "p_adjusted",
    "conf_low",
    "conf_high",
    "n_control",
    "n_treatment",
    "family",
    "outcome_type",
    "alpha",
]


def make_study(n_per_arm: int = 150, seed: int = 1, effects=None) -> pd.DataFrame:
    """A simulated export: 3 arms, blocked, a 7-point outcome with a pre-measure, a binary intent."""
    effects = effects or {"control": 0.0, "care": 0.6, "fairness": 0.0}
    rng = np.random.default_rng(seed)
    arm = np.repeat(list(effects), n_per_arm)
    n = len(arm)
    ideology = rng.choice(["left", "centre", "right"], n)
    pre = np.clip(np.round(4 + rng.normal(0, 1.3, n)), 1, 7)
    latent = 0.6 * pre + 1.6 + np.vectorize(effects.get)(arm) + rng.normal(0, 1, n)
    post = np.clip(np.round(latent), 1, 7)
    join = (rng.random(n) < 0.3 + 0.1 * (arm == "care")).astype(int)
    status = np.where(rng.random(n) < 0.05, "withdrawn", "completed")
    post = np.where(status == "withdrawn", np.nan, post)
    return pd.DataFrame(
        {
            "arm": arm,
            "pre_support": pre,
            "post_support": post,
            "post_join": join,
            "age": rng.integers(18, 80, n),
            "ideology": ideology,
            "status": status,
            "attention_failed": rng.random(n) < 0.04,
        }
    )


# The example plan on this file's columns (age, ideology, post_join), with no alpha or arm labels.
PLAN = example_plan(
    outcomes__0__label="Support for the ban",
    outcomes__0__primary=...,
    outcomes__1={"name": "post_join", "type": "binary"},
    covariates=["age", "pre_support"],
    moderators=["ideology"],
    alpha=...,
    arm_labels=...,
    ri_draws=1000,
    seed=42,
)


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    return make_study()


@pytest.fixture(scope="module")
def results(study) -> dict:
    return analysis.run(study, PLAN, provenance={"spec_hash": "abc123", "seed": 7})


def effects(res: dict) -> pd.DataFrame:
    return pd.DataFrame(res["effects"])


def test_results_have_every_documented_key_and_are_strict_json(results):
    assert set(results) == KEYS
    text = json.dumps(results, allow_nan=False)  # NaN/inf would raise here
    assert json.loads(text)["meta"]["plan_hash"] == results["meta"]["plan_hash"]
    for record in results["effects"]:
        assert all(field in record for field in EFFECT_FIELDS)


def rounded_scale_effect(shift: float, n: int = 2_000_000) -> float:
    """The planted latent shift expressed on the rounded, clipped 1..7 scale (by simulation)."""
    rng = np.random.default_rng(123)
    pre = np.clip(np.round(4 + rng.normal(0, 1.3, n)), 1, 7)
    latent = 0.6 * pre + 1.6 + rng.normal(0, 1, n)
    return float(np.mean(np.clip(np.round(latent + shift), 1, 7) - np.clip(np.round(latent), 1, 7)))


def test_planted_effect_is_recovered_within_its_interval(results):
    e = effects(results).query("method == 'difference_in_means' and outcome == 'post_support'")
    care = e.set_index("arm").loc["care"]
    truth = rounded_scale_effect(0.6)
    assert care["conf_low"] < truth < care["conf_high"] and care["p_value"] < 0.001
    fairness = e.set_index("arm").loc["fairness"]
    assert fairness["conf_low"] < 0 < fairness["conf_high"]


def test_each_outcome_type_gets_its_methods(results):
    methods = effects(results).groupby("outcome")["method"].apply(set).to_dict()
    assert methods["post_support"] == {
        "difference_in_means",
        "lin",
        "ancova",
        "change_score",
        "randomization_inference",
        "mann_whitney",
    }
    assert methods["post_join"] == {
        "difference_in_means",
        "lin",
        "logit",
        "randomization_inference",
    }


def test_confirmatory_family_is_primary_outcome_by_arms_with_holm_adjustment(results):
    e = effects(results)
    conf = e[e["family"] == "confirmatory"]
    assert set(zip(conf["outcome"], conf["arm"], conf["method"], strict=True)) == {
        ("post_support", "care", "difference_in_means"),
        ("post_support", "fairness", "difference_in_means"),
    }
    expected = analysis.adjust_pvalues(conf["p_value"].to_numpy(), "holm")
    np.testing.assert_allclose(conf["p_adjusted"], expected)
    secondary = e[(e["outcome"] == "post_join") & (e["method"] == "logit")]
    assert (secondary["family"] == "exploratory").all()
    np.testing.assert_allclose(
        secondary["p_adjusted"], analysis.adjust_pvalues(secondary["p_value"].to_numpy(), "holm")
    )


def test_run_effects_equal_the_public_functions_on_the_analysed_rows(study, results):
    kept = study[~study["attention_failed"] & (study["status"] != "withdrawn")]
    direct = analysis.lin(kept, "post_support", "arm", "control", ["age", "pre_support"])
    e = effects(results).query("method == 'lin' and outcome == 'post_support'").set_index("arm")
    for _, row in direct.iterrows():
        assert e.loc[row["arm"], "estimate"] == pytest.approx(row["estimate"], rel=1e-12)
        assert e.loc[row["arm"], "std_error"] == pytest.approx(row["std_error"], rel=1e-12)


def test_meta_records_hash_counts_exclusions_seed_versions_and_provenance(study, results):
    meta = results["meta"]
    canonical = json.dumps(PLAN, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert meta["plan_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert meta["plan"] == PLAN
    assert meta["n_input"] == len(study)
    excluded = study["attention_failed"] | (study["status"] == "withdrawn")
    assert meta["n_after_exclusions"] == int((~excluded).sum())
    rules = {r["column"]: r["n_matched"] for r in meta["exclusions"]}
    assert rules == {
        "attention_failed": int(study["attention_failed"].sum()),
        "status": int((study["status"] == "withdrawn").sum()),
    }
    assert (meta["ri_seed"], meta["ri_draws"]) == (42, 1000)
    assert set(meta["software"]) == {
        "python",
        "numpy",
        "pandas",
        "scipy",
        "statsmodels",
        "analysis",
    }
    assert meta["provenance"] == {"spec_hash": "abc123", "seed": 7}


def test_descriptives_and_distributions_match_the_analysed_data(study, results):
    kept = study[~study["attention_failed"] & (study["status"] != "withdrawn")]
    desc = pd.DataFrame(results["descriptives"]).query("outcome == 'post_support'").set_index("arm")
    expected = kept.groupby("arm")["post_support"].agg(["count", "mean", "std", "median"])
    np.testing.assert_allclose(desc.loc[expected.index, "mean"], expected["mean"])
    np.testing.assert_allclose(desc.loc[expected.index, "sd"], expected["std"])
    assert desc.loc[expected.index, "n"].tolist() == expected["count"].tolist()
    dist = pd.DataFrame(results["distributions"]).query("outcome == 'post_support'")
    assert set(dist["value"]) <= set(range(1, 8))
    # counts below the plan's min_cell_size (10 by default) are hidden (analysis.disclosure)
    truth = kept.groupby(["arm", "post_support"]).size()
    for r in dist.itertuples():
        if pd.isna(r.count):
            assert r.suppressed is True and pd.isna(r.share)
        else:
            assert r.count == truth.get((r.arm, r.value), 0) and not 0 < r.count < 10
            assert r.share == pytest.approx(r.count / expected.loc[r.arm, "count"])


def test_flow_counts_assigned_completed_withdrawn_excluded_and_analysed(study, results):
    flow = {(r["stage"], r["arm"]): r["n"] for r in results["flow"]}
    care = study[study["arm"] == "care"]
    assert flow[("assigned", "care")] == len(care)
    assert flow[("completed", "care")] == int((care["status"] == "completed").sum())
    excluded = care["attention_failed"] | (care["status"] == "withdrawn")
    rows = {(r["stage"], r["arm"]): r for r in results["flow"]}
    truths = {
        "withdrawn": int((care["status"] == "withdrawn").sum()),
        "excluded": int(excluded.sum()),
    }
    for stage, truth in truths.items():
        # a count below the minimum cell size (10) is hidden, with another one across arms
        row = rows[(stage, "care")]
        assert row["n"] == truth or (row["n"] is None and row["suppressed"] is True)
        assert row["n"] is None or not 0 < row["n"] < 10
    assert flow[("analysed", "care")] == int((~excluded & care["post_support"].notna()).sum())


def test_methods_state_formulas_references_and_the_family_definition(results):
    by_method = {m["method"]: m for m in results["methods"]}
    assert "Lin (2013)" in by_method["lin"]["reference"]
    assert "Holm (1979)" in by_method["multiple_comparisons"]["formula"]
    assert "attention_failed" in by_method["difference_in_means"]["notes"]
    assert "complete cases" in by_method["difference_in_means"]["notes"]


def test_diagnostics_and_heterogeneity_sections_are_filled(results):
    assert {r["moderator"] for r in results["subgroups"]} == {"ideology"}
    assert len(results["sample_ratio"]) == 3 and results["attrition"]
    assert {r["outcome"] for r in results["heterogeneity_joint"]} == {"post_support", "post_join"}


def test_run_fits_each_interaction_model_once_for_effects_and_joint_test(monkeypatch):
    import analysis.interactions as het

    fitted = []
    real = het.ols_hc2

    def counting(X, y, names=None):
        fitted.append(tuple(names))
        return real(X, y, names)

    monkeypatch.setattr(het, "ols_hc2", counting)
    res = analysis.run(make_study(60), PLAN)
    interaction_fits = [n for n in fitted if any(t.endswith(":ideologyright") for t in n)]
    assert len(interaction_fits) == len(fitted) == 2  # 2 outcomes x 1 moderator
    assert {r["outcome"] for r in res["heterogeneity"]} == {"post_support", "post_join"}
    assert {r["outcome"] for r in res["heterogeneity_joint"]} == {"post_support", "post_join"}


def test_failed_interaction_fit_warns_once_per_section_and_is_attempted_once(monkeypatch):
    import analysis.interactions as het

    calls = []
    real = het.interaction_model

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(het, "interaction_model", counting)
    d = make_study(60).assign(everyone="same")
    plan = {**PLAN, "outcomes": PLAN["outcomes"][:1], "moderators": ["everyone"]}
    res = analysis.run(d, plan)
    assert calls == ["post_support"]
    failed = [w for w in res["warnings"] if w["code"] == "section_failed"]
    assert [w["method"] for w in failed] == ["heterogeneity", "heterogeneity_joint"]
    assert all("moderator 'everyone'" in w["message"] for w in failed)
    assert res["heterogeneity"] == [] and res["heterogeneity_joint"] == []


def test_primary_method_lin_makes_lin_confirmatory():
    res = analysis.run(make_study(60), {**PLAN, "primary_method": "lin", "moderators": []})
    conf = effects(res).query("family == 'confirmatory'")
    assert set(conf["method"]) == {"lin"} and set(conf["outcome"]) == {"post_support"}


def test_tiny_arm_becomes_a_warning_and_the_other_arms_are_still_estimated():
    d = make_study(40)
    d = d[(d["arm"] != "fairness") | (d.index == d.index[d["arm"] == "fairness"][0])]
    res = analysis.run(d, {**PLAN, "moderators": [], "exclude": {}, "status": None})
    codes = {(w["code"], w["outcome"], w["arm"]) for w in res["warnings"]}
    assert ("too_small_arm", "post_support", "fairness") in codes
    e = effects(res)
    assert "fairness" not in set(e["arm"]) and "care" in set(e["arm"])


def test_outcome_without_variance_is_reported_not_estimated():
    d = make_study(30)
    d["post_join"] = 1
    res = analysis.run(d, {**PLAN, "moderators": []})
    assert any(w["code"] == "no_variance" and w["outcome"] == "post_join" for w in res["warnings"])
    assert "post_join" not in set(effects(res)["outcome"])
    assert "post_support" in set(effects(res)["outcome"])


def test_failed_estimator_is_a_warning_with_its_reason():
    d = make_study(30)
    d.loc[d["arm"] == "control", "post_join"] = 0  # separation: logit cannot be estimated
    res = analysis.run(d, {**PLAN, "moderators": []})
    failed = [w for w in res["warnings"] if w["method"] == "logit"]
    assert failed and "separation" in failed[0]["message"]
    assert "logit" not in set(effects(res).query("outcome == 'post_join'")["method"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcomes": [{"name": "post_trust"}]}, "outcome 'post_trust' is not in the data"),
        ({"control": "placebo"}, "control label 'placebo' not found"),
        ({"covariates": ["income"]}, "covariate 'income' is not in the data"),
    ],
)
def test_plan_problems_raise_value_error_naming_the_column(study, change, message):
    with pytest.raises(ValueError, match=message):
        analysis.run(study, {**PLAN, **change})


def test_non_numeric_continuous_outcome_raises_naming_the_column(study):
    d = study.astype({"post_support": object})
    d.loc[0, "post_support"] = "agree"
    with pytest.raises(
        ValueError,
        match="outcome 'post_support': expected numeric values, found non-numeric 'agree'",
    ):
        analysis.run(d, PLAN)


def test_cli_run_writes_the_results_json(tmp_path, study):
    data, plan, out = (
        tmp_path / "data.csv",
        tmp_path / "plan.json",
        tmp_path / "out" / "results.json",
    )
    study.to_csv(data, index=False)
    plan.write_text(json.dumps({**PLAN, "moderators": []}))
    assert main(["run", str(data), "--plan", str(plan), "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["meta"]["n_input"] == len(study)
    assert any(e["family"] == "confirmatory" for e in written["effects"])


def test_cli_reports_a_bad_plan_on_stderr_with_exit_code_2(tmp_path, study, capsys):
    data, plan = tmp_path / "data.csv", tmp_path / "plan.yaml"
    study.to_csv(data, index=False)
    plan.write_text("arm: arm\ncontrol: nobody\noutcomes: [post_support]\n")
    assert main(["run", str(data), "--plan", str(plan), "--out", str(tmp_path / "r.json")]) == 2
    assert "control label 'nobody' not found" in capsys.readouterr().err


def test_the_example_in_docs_analysis_md_runs_and_finds_the_confirmatory_rows(monkeypatch, capsys):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "analysis.md").read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(root)
    namespace: dict = {}
    exec(compile(code, "docs/analysis.md", "exec"), namespace)
    conf = pd.DataFrame(namespace["results"]["effects"]).query("family == 'confirmatory'")
    assert sorted(conf["arm"]) == ["care", "fairness"]
    assert "lin" in capsys.readouterr().out


def test_cli_report_writes_the_html_report_through_write_report(tmp_path, study, capsys):
    data, plan, out = tmp_path / "data.csv", tmp_path / "plan.json", tmp_path / "report"
    study.to_csv(data, index=False)
    plan.write_text(json.dumps({**PLAN, "moderators": []}))
    assert main(["report", str(data), "--plan", str(plan), "--out", str(out)]) == 0
    index = out / "index.html"
    assert capsys.readouterr().out.strip() == str(index)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["meta"]["plan"]["outcomes"][0]["name"] == "post_support"
    assert "Support for the ban" in index.read_text(encoding="utf-8")


def test_arm_whose_block_lost_a_condition_falls_back_to_unblocked_with_a_warning():
    d = make_study(60, seed=3)
    # Block 'right' loses every fairness participant (e.g. attrition in a small stratum).
    d = d[~((d["ideology"] == "right") & (d["arm"] == "fairness"))]
    plan = {**PLAN, "blocks": "ideology", "moderators": []}
    res = analysis.run(d, plan)
    dim = effects(res).query("method == 'difference_in_means' and outcome == 'post_support'")
    design = dict(zip(dim["arm"], dim["design"], strict=True))
    assert design == {"care": "blocked", "fairness": "unblocked_fallback"}
    warned = {(w["code"], w["arm"], w["method"]) for w in res["warnings"]}
    assert ("blocks_ignored", "fairness", "difference_in_means") in warned
    assert ("blocks_ignored", "fairness", "randomization_inference") in warned
    kept = d[~d["attention_failed"] & (d["status"] != "withdrawn")]
    unblocked = analysis.difference_in_means(kept, "post_support", "arm", "control")
    fair = unblocked.set_index("arm").loc["fairness"]
    assert dim.set_index("arm").loc["fairness", "estimate"] == pytest.approx(fair["estimate"])


def test_lin_leaves_out_a_covariate_that_is_constant_in_the_analysed_rows():
    d = make_study(40, seed=8)
    d["country"] = "NZ"
    with_constant = analysis.lin(d, "post_support", "arm", "control", ["age", "country"])
    without = analysis.lin(d, "post_support", "arm", "control", ["age"])
    np.testing.assert_allclose(with_constant["estimate"], without["estimate"])
    np.testing.assert_allclose(with_constant["std_error"], without["std_error"])


def test_degenerate_arms_give_nulls_or_warnings_never_an_exception(recwarn):
    # The control and one arm answer identically (no variance in that comparison).
    d = pd.DataFrame({"arm": ["c"] * 5 + ["t"] * 5 + ["u"] * 5, "y": [3] * 10 + [1, 2, 3, 4, 5]})
    res = analysis.run(
        d,
        {
            "arm": "arm",
            "control": "c",
            "ri_draws": 200,
            "outcomes": [{"name": "y", "type": "ordinal"}],
        },
    )
    json.dumps(res, allow_nan=False)
    dim = effects(res).query("method == 'difference_in_means'").set_index("arm")
    assert dim.loc["t", "estimate"] == 0 and dim.loc["t", "std_error"] == 0
    assert dim.loc["t", "p_value"] is None or np.isnan(dim.loc["t", "p_value"])
    assert dim.loc["u", "estimate"] == pytest.approx(0.0) and dim.loc["u", "std_error"] > 0
    assert not [w for w in recwarn.list if issubclass(w.category, RuntimeWarning)]


def test_unestimable_primary_method_falls_back_to_difference_in_means_with_a_warning():
    d = make_study(3, seed=2)  # 3 per arm: Lin with 2 covariates x 3 arms cannot be fitted
    res = analysis.run(
        d, {**PLAN, "primary_method": "lin", "moderators": [], "exclude": {}, "status": None}
    )
    conf = effects(res).query("family == 'confirmatory'")
    assert set(conf["method"]) == {"difference_in_means"}
    assert any(w["code"] == "primary_method_fallback" for w in res["warnings"])
