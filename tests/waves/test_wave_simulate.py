"""`framelab simulate` on a two-wave study: planted decay and differential return, end to end.

How to rehearse a two-wave study from a test (DECISIONS rule 4): publish it, then

    run_simulation(spec, n, effects={"care": 0.6}, wave_effects={"w2": {"care": 0.3}},
                   returns={"care": 0.9, "control": 0.5}, app_config=config)

The bots take wave 1, keep their follow-up links, and come back on the virtual clock
inside wave 2's window; `report_inputs(..., rehearsal=True)` then gives the export with
the wave columns and the plan with its `waves`, which `analysis.run` analyses.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

import analysis
from analysis.report import write_report
from framelab.cli import main
from framelab.db.session import make_engine, make_session_factory
from framelab.services.reporting import report_inputs
from framelab.simulate import run_simulation
from framelab.simulate.waves import parse_returns, parse_wave_effects
from tests.factories import make_study
from tests.waves.helpers import wave_study
from tests.web.conftest import make_app

SPEC = wave_study()
N = 300
PLANTED = {"first": 0.6, "later": 0.3}
RETURNS = {"care": 0.9, "control": 0.5}


@pytest.fixture
def sim_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'sim.sqlite'}"
    make_app(url, studies=(SPEC,)).extensions["framelab.engine"].dispose()
    return url


def _rehearsal(url: str):
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return report_inputs(
                session, SPEC.slug, rehearsal=True, text=False, now=datetime.now(UTC)
            )
    finally:
        engine.dispose()


def test_a_two_wave_rehearsal_plants_decay_and_differential_return(sim_db, tmp_path):
    config = {"TESTING": True, "DATABASE_URL": sim_db, "WTF_CSRF_ENABLED": True}
    summary = run_simulation(
        SPEC,
        N,
        effects={"care": PLANTED["first"]},
        wave_effects={"w2": {"care": PLANTED["later"]}},
        returns=RETURNS,
        seed=7,
        app_config=config,
        dropout=0.0,
    )
    assert summary.completed == N
    assert 0 < summary.returned["w2"] < N
    inputs = _rehearsal(sim_db)
    data = inputs.data
    for column in ("w2_post_support", "w2_post_join_sms", "w2_returned"):
        assert column in data.columns
    assert set(data["rehearsal"]) == {True}
    done = data[data["status"] == "completed"]
    assert summary.returned["w2"] == int(done["w2_returned"].sum())
    rate = done.groupby("arm")["w2_returned"].mean()
    assert rate["care"] == pytest.approx(0.9, abs=0.12)
    assert rate["control"] == pytest.approx(0.5, abs=0.15)
    assert rate["fairness"] == pytest.approx(0.7, abs=0.15)  # the default return
    back = done[done["w2_returned"] == 1]
    assert back["w2_post_support"].notna().all() and back["w2_post_join_sms"].notna().all()
    assert done.loc[done["w2_returned"] == 0, "w2_post_support"].isna().all()
    first = (done["post_support"] - done["pre_support"]).groupby(done["arm"]).mean()
    later = (back["w2_post_support"] - back["pre_support"]).groupby(back["arm"]).mean()
    assert first["care"] - first["control"] == pytest.approx(PLANTED["first"], abs=0.2)
    assert later["care"] - later["control"] == pytest.approx(PLANTED["later"], abs=0.2)
    assert inputs.plan["waves"] == [
        {
            "id": "w2",
            "after_days": 7,
            "items": ["post_support", "post_join_sms"],
            "window_days": 7,
        }
    ]
    # The rehearsal report's analysis has the waves: effects per wave and who came back.
    results = analysis.run(data, inputs.plan)
    effects = [r for r in results["waves"] if r["outcome"] == "post_support"]
    care = next(r for r in effects if r["arm"] == "care")
    assert care["wave"] == "w2" and care["estimate"] == pytest.approx(0.3, abs=0.25)
    returns = {r["arm"]: r for r in results["wave_returns"]}
    assert set(returns) == {a.id for a in SPEC.arms}
    # ... and the rehearsal report shows them: the "Did it last?" section.
    html = write_report(results, tmp_path / "report", data=inputs.data_file()).read_text()
    assert "Did it last?" in html
    # ... and flags the planted differential return (care 90% back, control 50%).
    care_label = next(a.label for a in SPEC.arms if a.id == "care").get("en")
    assert f"Readers of the {care_label} frame returned more often than the control group" in (html)


def test_wave_options_name_the_bad_part():
    assert parse_wave_effects(["w2:care=0.3"], SPEC) == {"w2": {"care": 0.3}}
    with pytest.raises(ValueError, match="WAVE one of w2"):
        parse_wave_effects(["w3:care=0.3"], SPEC)
    with pytest.raises(ValueError, match="P must be a number from 0 to 1"):
        parse_returns(["care=2"], SPEC)
    with pytest.raises(ValueError, match="no follow-up waves"):
        parse_returns(["care=0.5"], make_study())


def test_the_simulate_command_takes_the_wave_options(sim_db, monkeypatch):
    monkeypatch.setenv("FRAMELAB_DATABASE_URL", sim_db)
    result = CliRunner().invoke(
        main,
        [
            "simulate", SPEC.slug, "--n", "12", "--effect", "care=0.6",
            "--wave-effect", "w2:care=0.3", "--return", "care=1", "--return", "control=0",
            "--jobs", "1",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "came back for wave w2" in result.output
    data = _rehearsal(sim_db).data
    done = data[data["status"] == "completed"]
    returned = done.groupby("arm")["w2_returned"].mean()
    assert returned.get("care", 1) == 1 and returned.get("control", 0) == 0
