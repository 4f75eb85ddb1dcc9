"""`framelab report STUDY --out DIR`: database -> tidy export -> analysis.run -> report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

from framelab.cli import main
from framelab.services.reporting import plan_for_report
from framelab.services.study_versions import set_status
from tests.factories import publish, session_factory_for
from tests.report.walking import walk

START = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
N = 20


def _walk_everyone(factory, n: int) -> str:
    """n participants through the example study's real step machine; support varies by arm."""
    with factory() as session:
        loaded = publish(session)
        walk(session, loaded.spec, n, start=START, support_lift={"fairness": 2})
        return loaded.spec_hash


def test_report_command_writes_the_report_from_the_database_and_prints_its_path(
    database_url, tmp_path
):
    with session_factory_for(database_url) as factory:
        spec_hash = _walk_everyone(factory, N)
        with factory() as session:  # closed by the owner: the final report (DECISIONS rule 2)
            set_status(session, "torture-ban", "closed", now=START)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["report", "torture-ban", "--out", str(out), "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    index = out / "index.html"
    assert result.output.strip() == str(index)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["meta"]["n_input"] == N
    provenance = results["meta"]["provenance"]
    assert provenance["spec_hash"] == spec_hash
    assert provenance["study"] == "torture-ban" and provenance["include_pilot"] is False
    confirmatory = [e for e in results["effects"] if e["family"] == "confirmatory"]
    assert {e["arm"] for e in confirmatory} == {"care", "fairness", "loyalty", "liberty"}
    html = index.read_text(encoding="utf-8")
    assert "Summary for campaigners" in html
    assert spec_hash in html
    assert (out / "data.csv").read_text(encoding="utf-8").count("\n") == N + 1


def test_before_the_target_the_report_is_interim_in_its_names_heading_and_inference(
    database_url, tmp_path
):
    with session_factory_for(database_url) as factory:
        _walk_everyone(factory, N)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["report", "torture-ban", "--out", str(out), "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    index = out / "interim-index.html"
    assert result.output.strip() == str(index)
    assert sorted(p.name for p in out.iterdir()) == [
        "interim-data.csv",
        "interim-index.html",
        "interim-results.json",
    ]
    results = json.loads((out / "interim-results.json").read_text(encoding="utf-8"))
    assert results["meta"]["interim"] is True and results["meta"]["provenance"]["interim"]
    assert "effects" not in results and "sequential" in results
    html = index.read_text(encoding="utf-8")
    assert "<h1>INTERIM: " in html and "p_value" not in html


def test_report_command_names_an_unknown_study(database_url, tmp_path):
    with session_factory_for(database_url):
        result = CliRunner().invoke(
            main,
            ["report", "no-such-study", "--out", str(tmp_path), "--database-url", database_url],
        )
    assert result.exit_code != 0
    assert "no-such-study" in result.output


def test_report_command_refuses_a_study_without_participants(database_url, tmp_path):
    with session_factory_for(database_url) as factory:
        with factory() as session:
            publish(session)
        result = CliRunner().invoke(
            main,
            ["report", "torture-ban", "--out", str(tmp_path / "r"), "--database-url", database_url],
        )
    assert result.exit_code != 0
    assert "torture-ban: no participants to analyse yet" in result.output
    assert not (tmp_path / "r").exists()


def test_include_pilot_lifts_only_the_pilot_exclusion_of_the_plan():
    plan = {"arm": "arm", "exclude": {"attention_failed": True, "pilot": True}}
    assert plan_for_report(plan, include_pilot=False) is plan
    lifted = plan_for_report(plan, include_pilot=True)
    assert lifted["exclude"] == {"attention_failed": True}
    assert plan["exclude"] == {
        "attention_failed": True,
        "pilot": True,
    }  # the study's plan is untouched
