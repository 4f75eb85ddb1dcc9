"""The HTML document: self-contained, accessible structure, graceful with missing parts."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from analysis.report import render_html
from tests.report.handmade import handmade_results
from tests.report.htmlcheck import external_references, parse


@pytest.fixture(scope="module")
def html():
    """The report of the hand-made results, rendered once for the module."""
    return render_html(handmade_results())


def test_html_has_no_script_and_no_reference_that_would_load_from_anywhere(html):
    assert "<script" not in html.lower()
    assert external_references(html) == []
    assert "http://" not in html.replace("http://www.w3.org/", "")
    assert "https://" not in html


def test_css_is_inline_in_one_style_element_with_print_rules(html):
    doc = parse(html)
    assert len(doc.find("style")) == 1
    assert doc.find("link") == []
    assert "@media print" in html


def test_campaigner_summary_comes_before_the_appendix(html):
    assert html.index('id="summary"') < html.index('id="effects"') < html.index('id="appendix"')
    assert html.index("The fairness frame raised support") < html.index('id="appendix-h"')


def test_every_svg_is_an_image_with_a_title_and_a_label_and_ids_are_unique(html):
    doc = parse(html)
    svgs = doc.find("svg")
    assert len(svgs) >= 3  # forest plots for two outcomes and a subgroup plot
    for svg in svgs:
        assert svg.get("role") == "img"
        assert svg.get("aria-label")
        assert "width" not in svg and "height" not in svg
    assert len(doc.svg_titles) == len(svgs)
    ids = Counter(attrs["id"] for _, attrs in doc.tags if attrs.get("id"))
    assert [i for i, n in ids.items() if n > 1] == []
    for ref in re.findall(r'(?:url\(#|href="#)([^)"]+)', html):
        assert ids[ref] == 1, ref


def test_forest_plots_mark_confirmatory_solid_and_exploratory_dashed_with_a_worded_legend(html):
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    # these hand-made results carry no plan lock, so nothing may claim pre-registration
    confirmatory = next(
        s for s in svgs if "on support for the ban (main test (not pre-registered))" in s
    )
    exploratory = next(s for s in svgs if "on sign-ups for SMS updates (exploratory)" in s)
    assert ">main test (not pre-registered): " in confirmatory
    assert "(pre-registered)" not in html.replace("(not pre-registered)", "")
    dashed = "stroke-dasharray: 8,4"  # exploratory intervals (the 1,1.65 dots are the zero line)
    assert ">exploratory: " not in confirmatory and dashed not in confirmatory
    assert ">exploratory: " in exploratory and dashed in exploratory


def test_tables_have_captions_scoped_headers_and_a_focusable_scroll_region(html):
    doc = parse(html)
    tables = doc.find("table")
    assert len(tables) >= 4
    assert html.count("<caption>") == len(tables)
    assert all(th.get("scope") in ("col", "row") for th in doc.find("th"))
    regions = [d for d in doc.find("div") if "table-scroll" in (d.get("class") or "")]
    assert len(regions) == len(tables)
    assert all(
        r.get("tabindex") == "0" and r.get("role") == "region" and r.get("aria-label")
        for r in regions
    )


def test_appendix_lists_every_method_table_plan_hash_seed_and_references():
    results = handmade_results()
    results["effects"].append(
        dict(results["effects"][1], method="randomization_inference", p_adjusted=None)
    )
    html = render_html(results)
    assert "Effects: difference in means" in html
    assert "randomization inference" in html
    assert "re-randomizations respecting the blocks, seed 20261125" in html
    assert results["meta"]["plan_hash"] in html
    for ref in (
        "Lin, W. (2013)",
        "MacKinnon, J. G. &amp; White, H. (1985)",
        "Holm, S. (1979)",
        "Benjamini, Y. &amp; Hochberg",
    ):
        assert ref in html
    assert "spec hash" in html and "abc123" in html


def test_missing_result_sections_say_they_are_not_available(html):
    assert "Not available in these results (no &#39;balance&#39; records)." in html
    assert "The participant flow is not available in these results" in html
    assert "Answer distributions are not available in these results." in html


def test_missing_estimate_shows_the_warning_reason_in_the_effects_table(html):
    assert "post_join_sms has no variance in arm loyalty (all 0)" in html  # the appendix
    table = html[html.index("Effect of each frame on sign-ups for SMS updates</caption>") :]
    table = table[: table.index("</table>")]
    assert "Why missing" in table
    assert "every participant in a group gave the same answer" in table


def test_arm_labels_from_the_plan_are_used():
    results = handmade_results()
    results["meta"]["plan"]["arm_labels"]["fairness"] = "Fair play"
    html = render_html(results)
    assert "The Fair play frame raised support for the ban by 0.42" in html


def test_empty_results_still_render_with_explanations():
    html = render_html({})
    assert "These results contain no primary outcome to summarise." in html
    assert "No effect estimates are available in these results." in html
    assert "The results do not include the plan." in html


def test_header_shows_when_the_analysis_ran_in_words_and_the_study_as_default_title():
    results = handmade_results()
    results["meta"]["provenance"]["study"] = "torture-ban"
    html = render_html(results)
    assert "Analysed November 25, 2026, 20:00 UTC." in html
    assert "<title>Results: torture-ban</title>" in html


def test_forest_plot_shows_the_reason_in_place_of_a_missing_estimate(html):
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    sms = next(s for s in svgs if "on sign-ups for SMS updates (exploratory)" in s)
    assert "every participant in a group gave the same answer" in sms
