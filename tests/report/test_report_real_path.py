"""Reports built through the real path: study -> pages -> database -> export -> analysis -> report.

Last round's report tests passed on hand-built results while every real yes/no outcome
read wrong; these tests walk participants through the example study's step machine,
export what the database holds, run the study's own plan and read the rendered HTML.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

import analysis
from analysis.report import campaigner_summary, render_html
from framelab.services.export import export_tidy
from framelab.services.export_plan import analysis_plan
from framelab.services.reporting import report_inputs
from framelab.services.study_versions import set_status
from tests.factories import make_study, publish, session_factory_for, study_data
from tests.report.walking import walk

START = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
LOCKED = START - timedelta(days=1)


def _text(html: str) -> str:
    """The visible text of a report, tags removed, entities decoded, spaces folded."""
    body = re.sub(r"<style.*?</style>|<title>.*?</title>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def _summary_html(html: str) -> str:
    return html[html.index('<section id="summary"') : html.index('<section id="effects"')]


@pytest.fixture(scope="module")
def walked(module_database_url):
    """The example study, locked before anyone arrived, with 150 participants.

    Walked once per database for the whole module: the tests only read what it returns.
    """
    with session_factory_for(module_database_url) as factory:
        with factory() as session:
            loaded = publish(session, now=LOCKED)
            walk(
                session,
                loaded.spec,
                150,
                support_lift={"fairness": 2},
                sms_rate={"care": 0.85, "control": 0.2},
                donate={"care": 70, "control": 40},
            )
            inputs = _final_inputs(session, loaded.slug)
        yield inputs


def _final_inputs(session, slug: str):
    """The report inputs after the owner's confirmed close: the final report, not interim."""
    set_status(session, slug, "closed", now=START + timedelta(days=2))
    return report_inputs(session, slug, now=START + timedelta(days=2))


def _results(inputs):
    return analysis.run(inputs.data, inputs.plan, provenance=inputs.provenance)


def test_every_outcome_type_reads_in_its_own_unit_with_the_study_label(walked):
    results = _results(walked)
    text = _text(_summary_html(render_html(results)))
    # yes/no: percentage points, beside the control's and the frame's share
    assert re.search(
        r"raised sign-ups to the SMS urgent-action network by \d+\.\d percentage points, "
        r"from \d+% in the control group to \d+% with this frame",
        text,
    ), text
    assert "proportion answering yes" not in text
    # 7-point Likert: points on its scale; slider: points on 0-100
    assert "points on the 1–7 scale" in text
    assert re.search(
        r"the stated likelihood of donating by \d+\.\d\d points on the 0–100 scale", text
    )
    # labels, never column ids
    for column_id in ("join sms", "post_join_sms", "post_support", "post_donate", "pre_ideology"):
        assert column_id not in text
    assert "Fairness (equal before the law)" in text


def test_binary_effect_sentence_matches_the_estimate_and_the_observed_shares(walked):
    results = _results(walked)
    care = next(
        e
        for e in results["effects"]
        if e["outcome"] == "post_join_sms"
        and e["arm"] == "care"
        and e["method"] == "difference_in_means"
    )
    shares = {
        d["arm"]: d["mean"] for d in results["descriptives"] if d["outcome"] == "post_join_sms"
    }
    text = campaigner_summary(results).text()
    expected = (
        f"raised sign-ups to the SMS urgent-action network by {100 * care['estimate']:.1f} "
        f"percentage points, from {100 * shares['control']:.0f}% in the control group to "
        f"{100 * shares['care']:.0f}% with this frame (95% CI {100 * care['conf_low']:.1f} to "
        f"{100 * care['conf_high']:.1f}"
    )
    assert expected in text


def test_a_locked_studys_report_prints_the_lock_hash_and_time_and_says_pre_registered(walked):
    results = _results(walked)
    html = render_html(results)
    lock = walked.provenance["lock"]
    assert lock["matches"] is True and results["meta"]["analysed_before_lock"] == 0
    statement = re.search(r'<p class="plan-status" id="plan-status">(.*?)</p>', html).group(1)
    assert statement.startswith(
        "Pre-registered: the analysis plan was locked on November 24, 2026, 20:00 UTC"
    )
    assert f"(plan hash {lock['plan_hash'][:12]})" in statement
    assert "confirmatory (pre-registered)" in html
    assert "not pre-registered" not in _text(html).lower()


def test_participants_before_the_lock_make_the_report_say_not_pre_registered(database_url):
    with session_factory_for(database_url) as factory, factory() as session:
        loaded = publish(session, now=START + timedelta(minutes=30))  # after 30 arrivals
        walk(session, loaded.spec, 60, support_lift={"fairness": 2})
        inputs = _final_inputs(session, loaded.slug)
    results = _results(inputs)
    assert results["meta"]["analysed_before_lock"] == 30
    html = render_html(results)
    statement = re.search(r'id="plan-status">(.*?)</p>', html).group(1)
    assert statement.startswith(
        "Not pre-registered: the plan was locked on November 25, 2026, 20:30 UTC"
    )
    assert "but 30 of the analysed participants took part before that" in statement
    assert "confirmatory (pre-registered)" not in html
    assert "(pre-registered)" not in html


def test_an_analysis_of_a_csv_without_a_lock_is_labelled_not_pre_registered_everywhere(
    walked, tmp_path
):
    csv = tmp_path / "data.csv"
    walked.data.to_csv(csv, index=False)
    plan = {k: v for k, v in walked.plan.items()}
    results = analysis.run(csv, plan)  # no provenance: nobody vouches for a lock
    html = render_html(results)
    statement = re.search(r'id="plan-status">(.*?)</p>', html).group(1)
    assert statement.startswith("Not pre-registered: this analysis plan (hash ")
    assert results["meta"]["plan_hash"][:12] in statement
    assert "pre-registered)" not in html.replace("(not pre-registered)", "")
    # headings, plot legends and table family labels
    assert "The analysis plan (not pre-registered)" in html
    figures = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert any("main test (not pre-registered)" in f for f in figures)
    assert re.search(r'<td class="[^"]*">main test \(not pre-registered\)</td>', html)


def test_a_desired_decrease_that_happens_is_good_news_not_backlash(database_url):
    data = study_data()
    for item in data["items"]:
        if item["id"] == "support":
            item["desired"] = "decrease"
            item["label"] = {lang: "worry about the ban" for lang in data["languages"]}
    spec = make_study(**data)
    with session_factory_for(database_url) as factory, factory() as session:
        loaded = publish(session, spec, now=LOCKED)
        walk(session, loaded.spec, 150, support_lift={"loyalty": -3})
        inputs = _final_inputs(session, loaded.slug)
    results = _results(inputs)
    summary = campaigner_summary(results)
    assert summary.headline[0].startswith(
        "The Loyalty (national honour) frame lowered worry about the ban by"
    )
    assert not any("Loyalty" in s for s in summary.backlash)
    html = render_html(results)
    assert "Do not use this frame" not in html


def test_the_report_renders_in_arabic_right_to_left_with_the_studys_arabic_labels(walked):
    results = _results(walked)
    html = render_html(results, lang="ar")
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    text = _text(_summary_html(html))
    assert "الانضمام إلى شبكة التحرك العاجل عبر الرسائل النصية" in text  # the study's label
    assert "نقطة مئوية" in text or "نقاط مئوية" in text  # percentage points
    assert "Summary for campaigners" not in html
    for english in ("raised", "lowered", "percentage points", "control group"):
        assert english not in text


def test_the_plan_gives_labels_levels_and_direction_from_the_study_in_every_language():
    plan = analysis_plan(make_study())
    sms = next(o for o in plan["outcomes"] if o["name"] == "post_join_sms")
    assert sms["label"]["es"] == "las inscripciones a la red de acción urgente por SMS"
    assert sms["desired"] == "increase" and "range" not in sms
    support = next(o for o in plan["outcomes"] if o["name"] == "post_support")
    assert support["range"] == [1, 7]
    assert "pre_ideology" not in plan["levels"]  # a Likert covariate stays one slope
    assert plan["levels"]["pre_age_group"] == [1, 2, 3, 4]  # its options, in the order declared
    assert plan["value_labels"]["pre_ideology"]["1"]["es"] == "Muy a la izquierda"
    assert plan["labels"]["pre_ideology"]["fr"] == "opinions politiques"
    assert plan["arm_labels"]["care"]["ar"] == "الرعاية (الأذى)"


def test_an_unlabelled_question_is_named_by_its_own_question_not_its_id():
    data = study_data()
    for item in data["items"]:
        item.pop("label", None)
    plan = analysis_plan(make_study(**data))
    sms = next(o for o in plan["outcomes"] if o["name"] == "post_join_sms")
    assert sms["label"]["en"] == "“Would you like to join?”"


def test_export_marks_who_started_after_the_plan_lock(database_url):
    with session_factory_for(database_url) as factory, factory() as session:
        loaded = publish(session, now=START + timedelta(minutes=5))
        walk(session, loaded.spec, 10)
        data = export_tidy(session, loaded.slug)
    assert data["after_lock"].tolist() == [False] * 5 + [True] * 5


def test_results_records_carry_labels_as_text_in_the_studys_language(walked):
    results = _results(walked)
    sms = next(e for e in results["effects"] if e["outcome"] == "post_join_sms")
    assert sms["outcome_label"] == "sign-ups to the SMS urgent-action network"
    care = next(e for e in results["effects"] if e["arm"] == "care")
    assert care["arm_label"] == "Care (harm)"
