"""The report built from real `analysis.run` output on a simulated study with planted effects.

Planted (tests/report/simulated.py): fairness raises support and sign-ups;
loyalty backfires among participants on the left only; care does nothing.
"""

from __future__ import annotations

import json
import re
from html import escape

import numpy as np
import pytest

import analysis
from analysis.report import campaigner_summary, write_report
from analysis.report.context import ReportContext
from tests.factories import example_plan
from tests.report.htmlcheck import external_references
from tests.report.simulated import simulated_results, simulated_study

NUMBER = re.compile(r"(?<![\w.])[−-]?\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    return write_report(
        simulated_results(), tmp_path_factory.mktemp("sim"), data=simulated_study()
    ).parent


@pytest.fixture(scope="module")
def results(report_dir):
    return json.loads((report_dir / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def summary(results):
    return campaigner_summary(results)


def test_summary_names_the_planted_winner_in_the_headline(summary):
    assert len(summary.headline) == 1
    assert summary.headline[0].startswith("The fairness frame raised support for the ban by ")


def test_summary_names_the_backlash_frame_and_the_subgroup(summary):
    text = "\n".join(summary.backlash)
    assert (
        "Backlash in a subgroup: among participants in the subgroup “left” (ideology group), the loyalty frame lowered support for the ban"
        in text
    )
    assert "= centre" not in text and "= right" not in text
    assert "care" not in text


def test_null_frame_is_reported_as_no_measurable_difference(summary):
    assert any(
        s.startswith("The care frame made no measurable difference to support for the ban")
        for s in summary.findings
    )


def test_headline_numbers_equal_the_confirmatory_effect_in_results_json(summary, results):
    effect = next(
        e
        for e in results["effects"]
        if e["outcome"] == "post_support"
        and e["arm"] == "fairness"
        and e["method"] == "difference_in_means"
    )
    assert effect["family"] == "confirmatory"
    means = {d["arm"]: d["mean"] for d in results["descriptives"] if d["outcome"] == "post_support"}
    expected = (
        f"by {effect['estimate']:.2f} points on the 7-point scale, from an average of "
        f"{means['control']:.2f} in the control group to {means['fairness']:.2f} with this frame "
        f"(95% CI {effect['conf_low']:.2f} to {effect['conf_high']:.2f})"
    )
    assert expected in summary.headline[0]
    frames = sum(1 for e in results["effects"] if e["family"] == "confirmatory")
    assert f"testing {frames} frames" in summary.headline[0]


def _display_forms(field: str, value, outcome) -> set[str]:
    """Every way the report may display a value of `field` (rounding only)."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not np.isfinite(value):
        return set()
    forms = set()
    if field in ("estimate", "conf_low", "conf_high", "bound_raw"):
        for v in (value, abs(value)):
            forms.add(outcome.show(v).replace("−", "-"))
    elif field.startswith("p_") or field == "p_value":
        forms.add(f"{value:.3f}")
        if value < 0.001:
            forms.add("0.001")  # shown as "p < 0.001"
    elif field == "mean":  # a group's observed level beside a change
        forms.add(outcome.level(value).rstrip("%"))
    elif field in ("attrition_rate", "rate"):
        forms.add(f"{100 * value:.0f}")
    elif float(value).is_integer():
        forms.add(f"{int(value):,}")
    return forms


def _allowed_numbers(results, sentence: str) -> set[str]:
    """Numbers a sentence may show: values of the records it talks about, plus plan settings."""
    ctx = ReportContext(results)
    outcomes = [o for o in ctx.outcomes if o.label in sentence] or [ctx.outcomes[0]]
    named_arms = {
        a
        for a in results["meta"]["arms"]
        if re.search(rf"\b{re.escape(ctx.arm_label(a))}\b", sentence)
    }
    if "in the control group" in sentence:  # the observed level beside a change
        named_arms.add(ctx.control)
    levels = set(re.findall(r"subgroup “(\w+)”", sentence))
    allowed = {f"{100 * (1 - ctx.alpha):.0f}"}
    for key in ("n_input", "n_after_exclusions"):
        allowed |= _display_forms("n", results["meta"][key], None)
    for outcome in outcomes:
        allowed |= set(re.findall(r"\d+", outcome.units + " " + outcome.label))
        allowed.add(str(sum(1 for e in results["effects"] if e["family"] == "confirmatory")))
    sections = ("effects", "equivalence", "subgroups", "descriptives", "attrition", "attrition_test",
                "balance_joint", "sample_ratio", "value_match", "heterogeneity_joint")  # fmt: skip
    for key in sections:
        for record in results.get(key) or []:
            if key == "effects" and record["method"] != ctx.primary_method:
                continue
            if "outcome" in record and record["outcome"] not in {o.name for o in outcomes}:
                continue
            if record.get("arm") is not None and record["arm"] not in named_arms:
                continue
            if "level" in record and str(record["level"]) not in levels:
                continue
            outcome = ctx.outcome(record.get("outcome", outcomes[0].name))
            for field, value in record.items():
                allowed |= _display_forms(field, value, outcome)
    return allowed


def test_every_number_in_the_summary_is_a_displayed_value_from_results_json(summary, results):
    checked = 0
    for sentence in summary.text().splitlines():
        allowed = _allowed_numbers(results, sentence)
        for token in NUMBER.findall(sentence):
            number = token.replace("−", "-")
            assert number in allowed, f"{token!r} in {sentence!r} is not a value of results.json"
            checked += 1
    assert checked >= 20


def test_number_check_catches_a_number_that_is_not_in_the_results(summary, results):
    forged = summary.headline[0].replace("(95% CI", "(95% CI 9.99 to", 1)
    allowed = _allowed_numbers(results, forged)
    assert "9.99" not in allowed


def test_report_files_are_written_and_consistent(report_dir, results):
    assert sorted(p.name for p in report_dir.iterdir() if p.name != "report.pdf") == [
        "data.csv",
        "effects.csv",
        "index.html",
        "results.json",
    ]
    effects_csv = (report_dir / "effects.csv").read_text(encoding="utf-8").splitlines()
    assert len(effects_csv) == 1 + len(results["effects"])
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    assert external_references(html) == []
    assert results["meta"]["plan_hash"] in html
    for method in {e["method"] for e in results["effects"]}:
        assert f"Effects estimated by {method}</caption>" in html


def test_tiny_study_renders_and_explains_the_missing_estimates(tmp_path):
    data = simulated_study(n_per_arm=1, seed=3)
    data = data[data["status"] == "completed"].assign(attention_failed=False)
    results = analysis.run(data, example_plan())
    index = write_report(results, tmp_path)
    html = index.read_text(encoding="utf-8")
    reasons = {w["message"] for w in results["warnings"] if w.get("outcome") == "post_support"}
    assert reasons
    # the analyst appendix keeps the analysis' own wording ...
    assert any(escape(r) in html for r in reasons)
    assert "Summary for campaigners" in html
    # ... the campaigner reads one sentence on what is missing and how many more each group needs
    summary = campaigner_summary(results)
    assert summary.headline == [
        "Not enough participants yet to estimate effects on support for the ban: every group "
        "needs at least 2 participants who answered, and the control group (Control) needs 1 "
        "more, the care frame needs 1 more, the fairness frame needs 1 more and the loyalty "
        "frame needs 1 more."
    ]
    assert "arm 'care' has 1 participant(s)" not in summary.text()


def test_outcome_without_variance_renders_with_the_reason(tmp_path):
    data = simulated_study(n_per_arm=30, seed=5)
    data["post_support"] = data["post_support"].where(data["post_support"].isna(), 4.0)
    results = analysis.run(data, example_plan(ri_draws=500))
    warning = next(
        w
        for w in results["warnings"]
        if w["code"] == "no_variance" and w["outcome"] == "post_support"
    )
    summary = campaigner_summary(results)
    assert summary.headline[0] == (
        "No effect on support for the ban could be estimated: every participant gave the same "
        "answer."
    )
    html = write_report(results, tmp_path).read_text(encoding="utf-8")
    assert escape(warning["message"]) in html


def test_a_study_whose_control_has_no_one_yet_renders_a_report_saying_what_is_missing(tmp_path):
    data = simulated_study(n_per_arm=30, seed=5)
    data = data[data["arm"] != "control"]
    plan = example_plan(ri_draws=500, arm_labels={"control": "Placebo", "care": "Care"})
    results = analysis.run(data, plan)  # the plan lists the control: no data yet, not a typo
    assert results["effects"] == []
    summary = campaigner_summary(results)
    assert summary.headline[0] == (
        "Not enough participants yet to estimate effects on support for the ban: every group "
        "needs at least 2 participants who answered, and the control group (Placebo) needs 2 more."
    )
    html = write_report(results, tmp_path).read_text(encoding="utf-8")
    assert "the intervals above" not in html
    assert "participant(s)" not in summary.text()


def test_a_control_label_the_plan_does_not_list_is_still_refused_as_a_typo():
    data = simulated_study(n_per_arm=10, seed=5)
    with pytest.raises(ValueError, match="control label 'contrl' not found"):
        analysis.run(data, example_plan(control="contrl"))
