"""Issue 19 acceptance on the demo study: bots recognise their frame's value with a set
probability, and the rehearsal report's manipulation-check section shows it.

Care bots recognise their frame (the default 0.6), liberty bots never do
(`recognition={"liberty": 0}`): the report shows care recognised more often than the
control with an interval above 0, and its summary flags the liberty frame.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from click.testing import CliRunner

from framelab.cli import main
from framelab.domain.study import load_study_file
from framelab.simulate import parse_recognition, run_simulation
from tests.factories import EXAMPLE
from tests.web.conftest import make_app

SPEC = load_study_file(EXAMPLE)
N = 200  # about 40 analysed per arm: care's 60-point gap is ~6 standard errors


def test_the_demo_report_shows_which_frames_came_across(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'sim.sqlite'}"
    make_app(url, studies=(SPEC,)).extensions["framelab.engine"].dispose()
    config = {"TESTING": True, "DATABASE_URL": url}
    summary = run_simulation(
        SPEC,
        N,
        effects={"care": 0.5},
        recognition=parse_recognition(["liberty=0"], SPEC),
        seed=19,
        app_config=config,
    )
    assert summary.completed > N * 0.85
    monkeypatch.setenv("FRAMELAB_DATABASE_URL", url)
    monkeypatch.setenv("FRAMELAB_ENV", "testing")
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", SPEC.slug, "--rehearsal", "--out", str(out)])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = {
        (r["arm"], r["comparison"]): r
        for r in results["manipulation_checks"]
        if r["check"] == "post_manip_value"
    }
    care = rows[("care", "control")]
    assert care["conf_low"] > 0 and care["recognised"], care
    assert care["target"] == "Preventing harm and suffering"
    liberty = rows[("liberty", "control")]
    assert not liberty["recognised"], liberty
    assert results["manipulation_omnibus"][0]["p_value"] < 0.05
    page = unescape(re.sub(r"<[^>]+>", " ", (out / "index.html").read_text(encoding="utf-8")))
    page = re.sub(r"\s+", " ", page)
    assert re.search(
        r"The Liberty \(state power\) frame was not recognised as being about “Limiting "
        r"government power over individuals” more often than the control text: \d+% vs \d+%",
        page,
    ), page[:3000]
    assert re.search(r"The Care \(harm\) frame was recognised as being about", page)
    assert "Manipulation checks" in page


def test_recognition_options_name_the_bad_part():
    assert parse_recognition(["care=0.9"], SPEC) == {"care": 0.9}
    with pytest.raises(ValueError, match="ARM one of"):
        parse_recognition(["kindness=0.3"], SPEC)
    with pytest.raises(ValueError, match="from 0 to 1"):
        parse_recognition(["care=2"], SPEC)
