"""Pipeline: bots through the real survey flow -> tidy export -> analysis_plan -> analysis.run.

The planted effects must come back inside their intervals. This is the one analysis
test that uses framelab (the package itself never imports it).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import analysis
from framelab.db.session import make_engine, make_session_factory
from framelab.services.export import export_tidy
from framelab.services.export_plan import analysis_plan
from framelab.simulate import run_simulation
from tests.factories import make_study
from tests.web.conftest import make_app

SPEC = make_study()
N = 100
# Planted shifts on the 7-point support item (bots' latent scale, then rounded/clipped).
EFFECTS = {"care": 1.5, "loyalty": -1.0}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('pipeline') / 'sim.sqlite'}"
    make_app(url).extensions["framelab.engine"].dispose()
    config = {"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False}
    run_simulation(SPEC, N, effects=EFFECTS, seed=5, app_config=config, dropout=0.05)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        data = export_tidy(session, SPEC.slug, rehearsal=True)
    engine.dispose()
    plan = {**analysis_plan(SPEC), "ri_draws": 2000}
    return data, plan, analysis.run(data, plan, provenance={"spec_hash": SPEC.content_hash()})


@pytest.mark.slow
def test_planted_effects_lie_inside_their_intervals_and_null_arms_cover_zero(pipeline):
    _, _, results = pipeline
    effects = pd.DataFrame(results["effects"])
    ancova = effects.query("outcome == 'post_support' and method == 'ancova'").set_index("arm")
    for arm, planted in EFFECTS.items():
        row = ancova.loc[arm]
        assert row["conf_low"] < planted < row["conf_high"], (arm, row.to_dict())
        assert row["p_value"] < 0.05
    for arm in ("fairness", "liberty"):
        assert ancova.loc[arm, "conf_low"] < 0 < ancova.loc[arm, "conf_high"]
    confirmatory = effects.query("family == 'confirmatory'")
    assert set(confirmatory["arm"]) == {"care", "fairness", "loyalty", "liberty"}
    assert set(confirmatory["method"]) == {"difference_in_means"}


@pytest.mark.slow
def test_export_plan_contract_counts_and_json(pipeline):
    data, plan, results = pipeline
    json.dumps(results, allow_nan=False)
    meta = results["meta"]
    assert meta["n_input"] == len(data) == N
    excluded = data["attention_failed"] | data["pilot"] | (data["status"] == "withdrawn")
    assert meta["n_after_exclusions"] == int((~excluded).sum())
    assert meta["provenance"]["spec_hash"] == SPEC.content_hash()
    assert not [w for w in results["warnings"] if w["code"] == "unknown_plan_key"]
    flow = {(r["stage"], r["arm"]): r["n"] for r in results["flow"]}
    assert (
        sum(n for (stage, _), n in flow.items() if stage == "assigned") == data["arm"].notna().sum()
    )
    assert {r["moderator"] for r in results["subgroups"]} <= set(plan["moderators"])
    assert results["sample_ratio"] and results["balance"]


@pytest.mark.slow
def test_real_path_declares_small_sample_and_reports_reliability_backlash_and_thresholds(
    pipeline, tmp_path
):
    # Issue 19 on the real path: the exported plan declares the df rule and the scales;
    # the results carry the Bell-McCaffrey HC2 rows, each scale's reliability, backlash
    # per arm and subgroup, and the final report shows the backlash section.
    from analysis.report import write_report

    _, plan, results = pipeline
    assert plan["small_sample"] == "bell_mccaffrey" == results["meta"]["small_sample"]
    assert set(plan["scales"]) == {r["scale"] for r in results["reliability"]} | {
        w["outcome"] for w in results["warnings"] if w["method"] == "reliability"
    }
    for r in results["reliability"]:
        assert r["n_items"] == len(plan["scales"][r["scale"]]) == 2
        assert r["low"] is (min(r["cronbach_alpha"], r["omega_total"]) < 0.6)
    hc2 = [e for e in results["effects"] if e["method"] in ("lin", "ancova", "change_score")]
    assert hc2 and all(e["small_sample"] == "bell_mccaffrey" for e in hc2)
    # (Lin with every covariate on 100 bots leaves a unit with leverage 1: no HC2 at all.)
    defined = [e for e in hc2 if e["std_error"] is not None]
    assert {e["method"] for e in defined} >= {"ancova", "change_score"}
    assert all(e["df"] < e["df_residual"] for e in defined)
    arms = {e["arm"] for e in results["effects"]}
    overall = [b for b in results["backlash"] if b["moderator"] is None]
    assert {(b["outcome"], b["arm"]) for b in overall} == {
        (o["name"], a) for o in plan["outcomes"] for a in arms
    }
    # one row per subgroup cell that is shown (100 bots: every cell is below min_cell_size)
    shown = {
        (c["outcome"], c["arm"], c["moderator"], c["level"])
        for c in results["subgroups"]
        if not c["suppressed"]
    }
    assert shown == {
        (b["outcome"], b["arm"], b["moderator"], b["level"])
        for b in results["backlash"]
        if b["moderator"] is not None
    }
    # the planted loyalty backlash on support (-1 on the latent scale, ~20 bots per arm)
    loyalty = next(b for b in overall if b["arm"] == "loyalty" and b["outcome"] == "post_support")
    assert loyalty["p_backlash"] > 0.9 and loyalty["one_in"] is None
    html = write_report(results, tmp_path).read_text(encoding="utf-8")
    assert '<section id="backlash"' in html and 'id="a-reliability"' in html
