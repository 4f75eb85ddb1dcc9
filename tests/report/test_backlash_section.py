"""The report's backlash section and the appendix parts for reliability and thresholds.

The report computes nothing: every chance shown is a value of the results'
``backlash`` records (checked against R in tests/analysis/test_backlash.py).
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.report.render import render_html

DATA = Path(__file__).resolve().parents[1] / "reference" / "data" / "synthetic.csv"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}"')
    return html[start : html.index("</section>", start)]


def _results(desired: str = "increase", **extra) -> dict:
    d = pd.read_csv(DATA)
    rng = np.random.default_rng(0)
    trait = rng.normal(size=len(d))
    for j in range(3):
        d[f"care_{j}"] = np.round(trait + rng.normal(0, 0.7, len(d)))
    d["loose_1"], d["loose_2"] = rng.normal(size=len(d)), rng.normal(size=len(d))
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [
            {"name": "post", "label": "support for the ban", "range": [1, 7], "desired": desired},
            {"name": "join", "type": "binary", "label": "joining"},
            {"name": "support", "type": "ordinal", "label": "support (1-7)"},
        ],
        "moderators": ["x2"],
        "labels": {"x2": "political leaning"},
        "scales": {"care_values": ["care_0", "care_1", "care_2"], "loose": ["loose_1", "loose_2"]},
        "ri_draws": 100,
        "seed": 1,
        **extra,
    }
    return analysis.run(d, plan)


@pytest.fixture(scope="module")
def results():
    return _results(backlash_prior_sd=0.5)


def test_the_backlash_section_says_each_chance_of_the_results_per_frame_and_subgroup(results):
    text = _text(_section(render_html(results), "backlash"))
    rows = [r for r in results["backlash"] if r["outcome"] == "post"]
    assert len(rows) == 8  # 2 frames x (everyone + 3 subgroups)
    for r in rows:
        who = (
            ""
            if r["moderator"] is None
            else f" among participants in the subgroup “{r['level']}” (political leaning)"
        )
        frame = f"the {r['arm']} frame"
        if r["p_backlash"] < 0.01:
            assert (
                f"Less than a 1 in 100 chance that {frame} lowers support for the ban{who}." in text
            )
        elif r["one_in"] is not None:
            assert (
                f"About a 1 in {r['one_in']} chance that {frame} lowers support for the ban{who}."
                in text
            )
        else:
            pct = f"{round(100 * r['p_backlash'])}%"
            assert (
                f"A {pct} chance that {frame} lowers support for the ban{who}: more likely than not."
                in text
            )
    # yes/no outcomes in percentage points; the table has the skeptical prior's column
    assert "percentage points:" in text
    assert "With the skeptical prior" in text
    html = render_html(results)
    assert '<a href="#backlash">Backlash</a>' in html


def test_a_wanted_decrease_makes_a_rise_the_backlash():
    text = _text(_section(render_html(_results("decrease")), "backlash"))
    assert "How likely is it that a frame raised support for the ban?" in text
    assert "chance that the care frame raises support for the ban" in text


def test_the_backlash_section_is_translated(results):
    text = _text(_section(render_html(results, lang="fr"), "backlash"))
    assert "Quelle est la probabilité d’un effet inverse ?" in text
    assert "chance sur" in text and "How likely" not in text


def test_an_interim_report_shows_no_backlash():
    d = pd.read_csv(DATA)
    res = analysis.run(d, {"arm": "arm", "control": "control", "outcomes": ["post"]}, interim=True)
    html = render_html(res)
    assert "backlash" not in res and 'id="backlash"' not in html


def test_the_appendix_shows_reliability_with_a_warning_below_0_6_and_the_thresholds(results):
    html = render_html(results)
    reliability = _text(_section(html, "a-reliability"))
    low = {r["scale"]: r["low"] for r in results["reliability"]}
    assert low == {"care_values": False, "loose": True}
    assert "Warning: loose has alpha or omega below 0.6" in reliability
    care = next(r for r in results["reliability"] if r["scale"] == "care_values")
    # Cronbach's alpha is a column of its own (a field named "alpha" would be dropped
    # as the plan's significance level)
    assert "scale items n n items cronbach alpha std alpha" in reliability
    assert (
        f"{care['cronbach_alpha']:.3f}" in reliability
        and f"{care['omega_total']:.3f}" in reliability
    )
    thresholds = _text(_section(html, "a-ordinal-thresholds"))
    assert all(t in thresholds for t in ["1|2", "6|7"])
    assert "Backlash probabilities" in _text(_section(html, "a-backlash"))
