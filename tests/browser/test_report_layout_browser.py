"""Report figures in real Chromium: no text of a plot overlaps another or leaves its figure.

The subgroup plot is the crowded one: a long moderator label, level labels beside arm
labels, and a suppressed cell whose note takes the place of a point. It is rendered at a
phone's and a laptop's width, in English and in Arabic, and every <text> box of every
figure is measured.
"""

from __future__ import annotations

import pytest

import analysis
from analysis.report import write_report
from tests.conftest import run_axe
from tests.factories import example_plan
from tests.report.simulated import simulated_study

pytestmark = pytest.mark.browser

LONG_LABEL = "how far to the left or right of the political spectrum people place themselves"

# For every inline SVG: the boxes of its visible texts, its own box, and its title.
MEASURE = """
() => [...document.querySelectorAll('svg[role=img]')].map(svg => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')]
    .filter(t => t.textContent.trim() !== '')
    .map(t => { const r = t.getBoundingClientRect();
                return {text: t.textContent.trim(), x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; });
  return {title: svg.querySelector('title').textContent,
          box: {x0: box.left, y0: box.top, x1: box.right, y1: box.bottom}, texts};
})
"""


@pytest.fixture(scope="module")
def crowded_report(tmp_path_factory):
    data = simulated_study(n_per_arm=60, seed=21)
    plan = example_plan(
        ri_draws=200,
        min_cell_size=18,  # some ideology x arm cells fall below it and are suppressed
        labels={"pre_ideology_group": LONG_LABEL},
        value_labels={
            "pre_ideology_group": {
                "left": "Left of centre",
                "centre": "In the political centre",
                "right": "Right of centre",
            }
        },
    )
    results = analysis.run(data, plan)
    assert any(c.get("suppressed") for c in results["subgroups"]), "needs a suppressed cell"
    out = tmp_path_factory.mktemp("crowded")
    return {lang: write_report(results, out / lang, lang=lang) for lang in ("en", "ar")}


def _overlap(a: dict, b: dict) -> float:
    width = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
    height = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
    return max(width, 0) * max(height, 0)


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("width", [360, 1280])
def test_no_text_in_any_figure_overlaps_another_or_leaves_the_figure(
    browser, crowded_report, artifacts_dir, width, lang
):
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(crowded_report[lang].as_uri())
        # a phone never scrolls sideways, in a right-to-left page too
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        figures = page.evaluate(MEASURE)
        assert len(figures) >= 7
        subgroup = [f for f in figures if LONG_LABEL in f["title"] or "subgroups" in f["title"]]
        assert subgroup, [f["title"] for f in figures]
        problems = []
        for figure in figures:
            box, texts = figure["box"], figure["texts"]
            for t in texts:
                inside = (
                    t["x0"] >= box["x0"] - 0.5
                    and t["x1"] <= box["x1"] + 0.5
                    and t["y0"] >= box["y0"] - 0.5
                    and t["y1"] <= box["y1"] + 0.5
                )
                if not inside:
                    problems.append(f"{figure['title']!r}: {t['text']!r} leaves the figure")
            for i, a in enumerate(texts):
                for b in texts[i + 1 :]:
                    smaller = min(
                        (a["x1"] - a["x0"]) * (a["y1"] - a["y0"]),
                        (b["x1"] - b["x0"]) * (b["y1"] - b["y0"]),
                    )
                    if smaller > 0 and _overlap(a, b) > 0.05 * smaller:
                        problems.append(
                            f"{figure['title']!r}: {a['text']!r} overlaps {b['text']!r}"
                        )
        page.screenshot(
            path=str(artifacts_dir / f"report-crowded-{lang}-{width}.png"), full_page=True
        )
        assert problems == [], "\n".join(problems)
    finally:
        page.close()


def test_every_panel_of_a_figure_has_a_labelled_axis(crowded_report):
    html = crowded_report["en"].read_text(encoding="utf-8")
    # forest and subgroup plots: the x axis says what a change is measured in
    assert html.count("Change vs control, points on the 7-point scale") >= 2
    # distributions: every arm's panel says its bars are a share of that arm
    assert html.count("(% of the arm)") >= 4


def test_the_arabic_report_has_no_accessibility_violations(browser, crowded_report, axe_js):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(crowded_report["ar"].as_uri())
        assert run_axe(page, axe_js) == []
    finally:
        page.close()
