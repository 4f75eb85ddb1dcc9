"""The report's "Did it last?" section (issue 21): shown only for plans with waves, every
number a value of the results' ``waves``/``wave_returns`` records, the differential return
flagged in plain words, the share withheld when the wave-1 change could be nothing, yes/no
outcomes in percentage points and every shipped language translated.
"""

from __future__ import annotations

import re
from html import unescape

import numpy as np
import pytest

from analysis.report.i18n import LANGUAGES
from analysis.report.render import render_html
from analysis.run import run
from tests.analysis.waves_dgp import two_wave_plan, two_wave_study
from tests.report.handmade import handmade_results
from tests.report.htmlcheck import parse


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _section(html: str) -> str:
    start = html.index('<section id="lasting"')
    return html[start : html.index("</section>", start)]


@pytest.fixture(scope="module")
def results() -> dict:
    return run(two_wave_study(300, 300, seed=21), two_wave_plan())


def test_the_section_appears_only_when_the_plan_has_waves(results):
    assert "Did it last?" in render_html(results)
    plain = handmade_results()
    assert "waves" not in plain["meta"]["plan"]
    html = render_html(plain)
    assert 'id="lasting"' not in html and "Did it last?" not in html


def test_the_report_flags_the_frame_whose_readers_returned_less_often(results):
    fairness = next(r for r in results["wave_returns"] if r["arm"] == "fairness")
    control = next(r for r in results["wave_returns"] if r["arm"] == "control")
    assert fairness["differential"] and fairness["return_rate"] < control["return_rate"]
    text = _text(_section(render_html(results)))
    rate, base = round(100 * fairness["return_rate"]), round(100 * control["return_rate"])
    assert (
        f"Readers of the Fairness frame returned less often than the control group "
        f"({rate}% vs {base}%): the later estimates for this frame may be biased."
    ) in text


def test_a_frame_returning_as_often_as_the_control_is_not_flagged(results):
    same = {
        **results,
        "wave_returns": [{**r, "differential": False} for r in results["wave_returns"]],
    }
    assert "returned less often" not in render_html(same)
    more = [
        {**r, "differential": True, "difference": 0.2, "return_rate": 0.8}
        if r["arm"] == "fairness"
        else r
        for r in results["wave_returns"]
    ]
    assert "returned more often than the control group (80% vs" in render_html(
        {**results, "wave_returns": more}
    )


def test_every_number_is_a_value_of_the_results(results):
    [row] = results["waves"]
    whole = next(
        e
        for e in results["effects"]
        if e["method"] == "difference_in_means" and e["arm"] == "fairness"
    )
    page = render_html(results)
    html = _section(page)
    text = _text(html)
    assert "Support for the policy, at least 7 days later" in text
    cells = [c for c in re.findall(r"<td[^>]*>(.*?)</td>", html)]
    assert (
        cells[0] == f"{whole['estimate']:.2f} ({whole['conf_low']:.2f} to {whole['conf_high']:.2f})"
    )
    assert cells[1] == (
        f"{row['first_estimate']:.2f} ({row['first_conf_low']:.2f} to {row['first_conf_high']:.2f})"
    )
    assert cells[2] == f"{row['estimate']:.2f} ({row['conf_low']:.2f} to {row['conf_high']:.2f})"
    share = (
        f"{100 * row['share']:.0f}% ({100 * row['share_conf_low']:.0f}% to "
        f"{100 * row['share_conf_high']:.0f}%)"
    )
    assert cells[3] == share
    assert f"That is {100 * row['share']:.0f}% of the change right after reading" in text
    # the appendix lists the records themselves, delta-method interval included
    assert 'id="a-waves"' in page and "share delta low" in page


def test_an_unstable_share_is_not_printed(results):
    [row] = results["waves"]
    unstable = {
        **results,
        "waves": [{**row, "first_conf_low": -0.1, "share_stable": False, "share": 7.25}],
    }
    section = _section(render_html(unstable))
    text = _text(section)
    assert "too uncertain to say what share of it lasted (95% CI −0.10 to" in text
    assert "725%" not in text and "That is" not in text
    assert re.findall(r"<td[^>]*>(.*?)</td>", section)[3] == "too uncertain"


def test_yes_no_outcomes_are_in_percentage_points_and_the_desired_direction_is_said():
    data = two_wave_study(200, 200, seed=8)
    data["support"] = (data["support"] > 0.3).astype(int)
    data["w2_support"] = np.where(data["w2_returned"] == 1, (data["w2_support"] > 0.3), np.nan)
    plan = two_wave_plan(
        outcomes=[{"name": "support", "type": "binary", "label": "sign-ups", "desired": "decrease"}]
    )
    results = run(data, plan)
    [row] = results["waves"]
    text = _text(_section(render_html(results)))
    amount = f"{100 * abs(row['estimate']):.1f} percentage points"
    assert amount in text
    assert "lower is what the campaign wants" in text


def test_a_wave_without_estimates_says_so(results):
    empty = {**results, "waves": []}
    assert "The follow-up estimates are not available in these results" in _text(
        _section(render_html(empty))
    )


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_the_section_is_translated(results, lang):
    html = render_html(results, lang=lang)
    section = _section(html)
    text = _text(section)
    for english in ("Did it last?", "came back", "Readers of", "days later", "Share remaining"):
        assert english not in text, (lang, english)
    assert parse(section).find("table")  # the table is there in every language


def test_a_change_that_turned_the_other_way_is_called_so(results):
    [row] = results["waves"]
    turned = {
        **results,
        "waves": [{**row, "share": -0.4, "share_conf_low": -0.9, "share_conf_high": 0.1}],
    }
    text = _text(_section(render_html(turned)))
    assert "The change had turned the other way: −40% of the change right after reading" in text
    assert "(95% CI −90% to 10%)" in text and "That is" not in text
