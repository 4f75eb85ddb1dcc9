"""`framelab simulate`: bots through the real pages; the export shows the planted effects."""

from __future__ import annotations

import os
import time

import pytest
from click.testing import CliRunner

from framelab.cli import main
from framelab.services.export import export_tidy
from framelab.simulate import parse_effects, parse_moderator, run_simulation
from tests.factories import make_study
from tests.web.conftest import make_app

SPEC = make_study()
# The acceptance run: 2,000 bots (about 70 s on an idle 2-core machine, in two processes).
# FRAMELAB_SIM_QUICK=1 runs 300 with the same checks, for quick local iterations.
FULL = os.environ.get("FRAMELAB_SIM_QUICK") != "1"
N = 2000 if FULL else 300
# About 3 standard errors of an arm's mean change at each size.
TOLERANCE = 0.2 if FULL else 0.3
EFFECTS = {"care": 1.0, "fairness": 0.5, "loyalty": -0.6}


@pytest.fixture
def sim_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'sim.sqlite'}"
    app = make_app(url)
    app.extensions["framelab.engine"].dispose()
    return url


def test_simulated_participants_show_the_planted_effects_in_the_export(sim_db):
    config = {"TESTING": True, "DATABASE_URL": sim_db, "WTF_CSRF_ENABLED": True}
    began = time.perf_counter()
    summary = run_simulation(
        SPEC, N, effects=EFFECTS, seed=11, app_config=config, jobs=2 if FULL else 1
    )
    seconds = time.perf_counter() - began
    print(f"{N} bots in {seconds:.1f} s ({seconds / N * 1000:.0f} ms per bot)")
    assert summary.started == N
    assert summary.completed + summary.dropped_out == N
    assert 0 < summary.dropped_out < N * 0.12

    from framelab.db.session import make_engine, make_session_factory

    engine = make_engine(sim_db)
    with make_session_factory(engine)() as session:
        data = export_tidy(session, SPEC.slug, rehearsal=True)
    engine.dispose()
    assert len(data) == N
    done = data[data["status"] == "completed"]
    assert len(done) == summary.completed
    change = (done["post_support"] - done["pre_support"]).groupby(done["arm"]).mean()
    effects = change - change["control"]
    print("planted", EFFECTS, "measured", effects.round(2).to_dict())
    for arm, planted in EFFECTS.items():
        assert effects[arm] == pytest.approx(planted, abs=TOLERANCE), (arm, effects.to_dict())
    assert abs(effects["liberty"]) < TOLERANCE
    # Virtual time: bots read the message for tens of seconds and are not all speeders.
    assert done["message_seconds"].median() > 10
    assert done["speeder"].mean() < 0.5
    assert 0 < done["attention_failed"].mean() < 0.1


def test_parallel_bots_all_finish_without_a_progress_callback(sim_db):
    config = {"TESTING": True, "DATABASE_URL": sim_db}
    summary = run_simulation(SPEC, 30, effects={}, seed=5, app_config=config, jobs=2)
    assert summary.started == 30 and summary.completed + summary.dropped_out == 30


def test_effect_and_moderator_options_name_the_bad_part():
    with pytest.raises(ValueError, match="ARM one of control, care"):
        parse_effects(["kindness=0.3"], SPEC)
    with pytest.raises(ValueError, match="DELTA must be a number"):
        parse_effects(["care=big"], SPEC)
    assert parse_moderator("ideology:1:care=0.4", SPEC).delta == 0.4
    with pytest.raises(ValueError, match="ITEM must be a pre item"):
        parse_moderator("donate:1:care=0.4", SPEC)


def test_simulate_command_runs_bots_with_a_progress_bar_and_a_summary(sim_db, monkeypatch):
    monkeypatch.setenv("FRAMELAB_DATABASE_URL", sim_db)
    monkeypatch.setenv("FRAMELAB_ENV", "testing")
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            SPEC.slug,
            "--n",
            "12",
            "--seed",
            "3",
            "--effect",
            "care=0.5",
            "--dropout",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "12 started, 12 completed, 0 dropped out" in result.output
    bad = CliRunner().invoke(main, ["simulate", SPEC.slug, "--n", "2", "--effect", "nope=1"])
    assert bad.exit_code != 0 and "ARM one of" in bad.output
