"""The example studies are complete, fair between arms, and fit on a phone."""

from __future__ import annotations

import re

import pytest

from framelab.domain.study import Study, load_study_file
from tests.factories import EXAMPLES

ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
LATIN_LETTER = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def torture() -> Study:
    return load_study_file(EXAMPLES / "torture-ban.yaml")


def words(markdown: str) -> int:
    return len(markdown.replace("**", "").replace("*", "").split())


def test_torture_ban_has_a_placebo_control_and_the_four_value_frames(torture):
    assert torture.languages == ["en", "es", "fr", "ar"]
    assert torture.control_arm.frame is not None and torture.control_arm.frame.values == []
    assert {a.id: a.frame.values for a in torture.frame_arms} == {
        "care": ["care"],
        "fairness": ["equality"],
        "loyalty": ["loyalty"],
        "liberty": ["liberty"],
    }


@pytest.mark.parametrize("lang", ["en", "es", "fr", "ar"])
def test_frames_and_placebo_are_within_twenty_percent_of_each_others_length(torture, lang):
    lengths = {a.id: words(torture.text(a.frame.body, lang)) for a in torture.arms}
    for (a, la), (b, lb) in [(x, y) for x in lengths.items() for y in lengths.items() if x < y]:
        assert abs(la - lb) <= 0.2 * max(la, lb), f"{lang}: {a}={la} words, {b}={lb} words"


def test_arabic_texts_are_written_in_arabic_script(torture):
    for arm in torture.arms:
        body = torture.text(arm.frame.body, "ar")
        assert len(ARABIC_LETTER.findall(body)) > 10 * len(LATIN_LETTER.findall(body))
    assert ARABIC_LETTER.search(torture.text(torture.item("support").text, "ar"))


def test_translations_differ_from_english(torture):
    for lang in ("es", "fr", "ar"):
        for arm in torture.arms:
            assert torture.text(arm.frame.body, lang) != torture.text(arm.frame.body, "en")


def test_pre_page_fits_a_phone_and_post_page_is_short(torture):
    assert len(torture.items_for("pre")) <= 12
    assert len(torture.items_for("post")) <= 6


def test_torture_ban_measures_each_framed_value_with_a_two_item_scale(torture):
    scales = {s.value: s.items for s in torture.scales}
    assert scales == {
        "care": ["care_1", "care_2"],
        "equality": ["equality_1", "equality_2"],
        "loyalty": ["loyalty_1", "loyalty_2"],
        "liberty": ["liberty_1", "liberty_2"],
    }
    for items in scales.values():
        for item_id in items:
            item = torture.item(item_id)
            assert (item.type, item.points, item.phase) == ("likert", 5, ["pre"])


def test_torture_ban_outcomes_design_and_plan(torture):
    support = torture.item("support")
    assert (support.points, support.phase, support.role) == (7, ["pre", "post"], "outcome")
    assert torture.item("join_sms").type == "binary"
    assert torture.item("donate").type == "slider"
    assert torture.item("comment").required is False
    attention = torture.item("attn_instructed")
    assert attention.role == "attention_check"
    assert attention.labels.get("en")[attention.correct - 1] == "Somewhat disagree"
    for lang in torture.languages:
        label = attention.labels.get(lang)[attention.correct - 1]
        assert label in torture.text(attention.text, lang)
    design = torture.design
    assert (design.scheme, design.block_by, design.block_size) == ("blocked", "ideology", 10)
    plan = torture.analysis
    assert (plan.primary, plan.secondary, plan.correction) == (
        ["support"],
        ["join_sms", "donate"],
        "holm",
    )
    assert plan.exclude == ["attention_failed"]
    assert torture.quality.speeder_seconds == 60 and torture.target_n == 2000
    assert "cc=" + torture.completion.code in torture.completion.redirect_url


def test_debrief_names_every_frame_and_says_no_one_was_signed_up(torture):
    debrief = torture.text(torture.debrief, "en")
    for phrase in ("harm", "equal treatment", "honour", "state power", "libraries"):
        assert phrase in debrief
    assert "did **not** sign you up" in debrief


def test_factorial_example_crosses_value_and_messenger():
    study = load_study_file(EXAMPLES / "refugee-welcome-factorial.yaml")
    cells = {(a.factors["value"], a.factors["messenger"]) for a in study.frame_arms}
    assert cells == {(v, m) for v in ("care", "loyalty") for m in ("refugee", "neighbour")}
    assert study.languages == ["en"]
