"""The eligibility screener, quotas and panel outcomes as a study states them (issue 21)."""

from __future__ import annotations

import pytest

from framelab.domain.panel import hand_back, outcome_for
from framelab.domain.screening import quota_cell, quota_cells, screens_out
from framelab.domain.steps import (
    TERMINAL_STEPS,
    items_for_step,
    preview_page,
    read_submission,
    steps_for,
)
from framelab.domain.study import StudyError, load_study
from tests.factories import small_study, small_study_data

PROLIFIC = "https://app.prolific.com/submissions/complete?cc="
SCREENER = {
    "items": ["ideology", "attn"],
    "screen_out": {
        "any": [
            {"item": "ideology", "in": [3]},
            {"all": [{"item": "ideology", "not_in": [1, 2, 3]}, {"item": "attn", "in": [1]}]},
        ]
    },
}


def _screened(**overrides):
    return small_study(screener=SCREENER, **overrides)


def _errors(**overrides) -> list[tuple[str, str]]:
    with pytest.raises(StudyError) as caught:
        small_study(**overrides)
    return caught.value.errors


def test_a_study_without_the_new_sections_keeps_its_hash_and_its_steps():
    plain = small_study()
    assert "screener" not in plain.canonical_json() and "quota" not in plain.canonical_json()
    assert "panel" not in plain.canonical_json()
    assert steps_for(plain)[:2] == ["consent", "pre"]


def test_the_screener_page_comes_after_consent_and_its_items_leave_the_pre_page():
    spec = small_study(screener={"items": ["ideology", "attn"]})
    assert steps_for(spec)[:3] == ["consent", "screener", "pre"]
    assert [i.id for i in items_for_step(spec, "screener")] == ["ideology", "attn"]
    assert "ideology" not in [i.id for i in items_for_step(spec, "pre")]


@pytest.mark.parametrize(
    ("answers", "out"),
    [
        ({"ideology": 3, "attn": 2}, True),  # any: the first rule
        ({"ideology": 4, "attn": 1}, True),  # any: all of the second
        ({"ideology": 4, "attn": 2}, False),
        ({"ideology": 1, "attn": 1}, False),
        ({}, False),  # nothing answered matches neither in nor not_in
    ],
)
def test_rules_combine_with_all_and_any(answers, out):
    spec = small_study(screener=SCREENER)
    assert screens_out(spec, answers) is out


def test_a_rule_round_trips_through_yaml_with_its_keywords():
    spec = small_study(screener=SCREENER)
    text = spec.to_yaml()
    assert "in:" in text and "not_in:" in text and "in_:" not in text and "any:" in text
    assert load_study(text).content_hash() == spec.content_hash()


@pytest.mark.parametrize(
    ("screener", "where", "says"),
    [
        ({"items": ["nope"]}, "screener.items[0]", "'nope' is not an item"),
        ({"items": ["support", "support"]}, "screener.items[1]", "listed twice"),
        ({"items": ["join_sms"]}, "screener.items[0]", "post item"),
        ({"items": ["comment"]}, "screener.items[0]", "post item"),
        (
            {"items": ["ideology"], "screen_out": {"item": "care_1", "in": [1]}},
            "screener.screen_out.item",
            "not asked on the screener page",
        ),
        (
            {"items": ["ideology"], "screen_out": {"item": "ghost", "in": [1]}},
            "screener.screen_out.item",
            "'ghost' is not an item",
        ),
        (
            {"items": ["ideology"], "screen_out": {"all": [{"item": "ideology", "in": [9]}]}},
            "screener.screen_out.all[0].in[0]",
            "9 is not an answer of 'ideology' (its values: 1, 2, 3, 4, 5)",
        ),
        (
            {"items": ["ideology"], "screen_out": {"item": "ideology", "in": [1], "not_in": [2]}},
            "screener.screen_out",
            "expected one of",
        ),
        ({"items": ["ideology"], "screen_out": {"any": []}}, "screener.screen_out", "at least one"),
        ({"items": ["ideology"], "screen_out": {"item": "ideology", "is": [1]}}, "screener", "is"),
        ({"items": []}, "screener.items", "at least one item"),
    ],
)
def test_screener_mistakes_are_named_where_they_are(screener, where, says):
    errors = _errors(screener=screener)
    assert any(loc.startswith(where) and says in msg for loc, msg in errors), errors


def test_an_optional_or_free_text_screener_item_is_refused():
    errors = _errors(screener={"items": ["ideology"]}, items__0__required=False)
    assert (
        "screener.items[0]",
        "'ideology' is optional; every screener question needs an answer",
    ) in errors


def test_quota_cells_are_strata_labels_of_the_blocking_item_or_stored_values():
    spec = small_study(quota={"ideology": {"left": 2, "right": 3}, "attn": {1: 5}})
    assert spec.quota == {"ideology": {"left": 2, "right": 3}, "attn": {"1": 5}}
    assert quota_cell(spec, "ideology", 2) == "left" and quota_cell(spec, "ideology", 3) == "centre"
    assert quota_cells(spec, {"ideology": 5, "attn": 1}) == (("ideology", "right"), ("attn", "1"))
    # The centre has no limit: no cell to check.
    assert quota_cells(spec, {"ideology": 3}) == ()


@pytest.mark.parametrize(
    ("quota", "where", "says"),
    [
        (
            {"ideology": {"middle": 3}},
            "quota.ideology.middle",
            "strata of the design: left, centre, right",
        ),
        ({"attn": {"7": 3}}, "quota.attn.7", "its values: 1, 2"),
        ({"ghost": {"1": 3}}, "quota.ghost", "'ghost' is not an item"),
        ({"join_sms": {"1": 3}}, "quota.join_sms", "post item"),
        ({"ideology": {"left": 0}}, "quota.ideology.left", "expected a limit from 1"),
        ({"ideology": {}}, "quota.ideology", "at least one cell"),
        ({"ideology": {"left": True}}, "quota.ideology.left", "valid integer"),
    ],
)
def test_quota_mistakes_are_named_where_they_are(quota, where, says):
    errors = _errors(quota=quota)
    assert any(loc == where and says in msg for loc, msg in errors), errors


def _panel(**outcomes):
    return {"name": "prolific", "outcomes": outcomes}


def test_each_page_hands_back_its_outcome_code():
    spec = small_study(
        screener=SCREENER,
        quota={"ideology": {"left": 2}},
        panel=_panel(
            completed={"code": "C1", "redirect": PROLIFIC + "C1"},
            screened_out={"code": "C2"},
            over_quota={"redirect": PROLIFIC + "C3"},
            consent_refused={"code": "C4"},
            attention_failed={"code": "C5"},
        ),
    )
    assert hand_back(spec, outcome_for(spec, "debrief")) == ("C1", PROLIFIC + "C1")
    assert hand_back(spec, outcome_for(spec, "debrief", attention_failed=True)) == ("C5", None)
    assert hand_back(spec, outcome_for(spec, "ineligible")) == ("C2", None)
    assert hand_back(spec, outcome_for(spec, "over_quota")) == (None, PROLIFIC + "C3")
    assert hand_back(spec, outcome_for(spec, "screened_out")) == ("C4", None)
    assert hand_back(spec, outcome_for(spec, "pre")) == (None, None)
    page = preview_page(spec, "ineligible", language="en")
    assert (page.completion_code, page.outcome) == ("C2", "screened_out")


def test_the_older_completion_section_is_the_completed_outcome():
    spec = small_study(completion={"code": "OLD1"})
    assert hand_back(spec, "completed") == ("OLD1", None)
    assert hand_back(spec, "consent_refused") == (None, None)


@pytest.mark.parametrize(
    ("overrides", "where", "says"),
    [
        (
            {"panel": _panel(screened_out={"code": "X"})},
            "panel.outcomes.screened_out",
            "screens nobody out",
        ),
        ({"panel": _panel(over_quota={"code": "X"})}, "panel.outcomes.over_quota", "no quota"),
        (
            {"panel": _panel(completed={"code": "C1", "redirect": PROLIFIC + "C2"})},
            "panel.outcomes.completed.redirect",
            "cc=C2 differs from the code C1",
        ),
        (
            {"panel": _panel(completed={"code": "C1"}), "completion": {"code": "C1"}},
            "completion",
            "not both",
        ),
        (
            {"panel": _panel(completed={"redirect": "javascript:alert(1)"})},
            "panel.outcomes.completed.redirect",
            "http(s) URL",
        ),
        (
            {"panel": _panel(completed={"code": "a b"})},
            "panel.outcomes.completed.code",
            "letters, digits",
        ),
        ({"panel": _panel(completed={})}, "panel.outcomes.completed", "a code, a redirect"),
        ({"panel": {"name": "qualtrics", "outcomes": {}}}, "panel.name", "prolific"),
    ],
)
def test_panel_mistakes_are_named_where_they_are(overrides, where, says):
    errors = _errors(**overrides)
    assert any(loc.startswith(where) and says in msg for loc, msg in errors), errors


def test_the_attention_failed_outcome_needs_an_attention_check():
    data = small_study_data(panel=_panel(attention_failed={"code": "C5"}))
    data["items"] = [i for i in data["items"] if i["id"] != "attn"]
    with pytest.raises(StudyError) as caught:
        load_study(__import__("json").dumps(data))
    assert (
        "panel.outcomes.attention_failed",
        "never shown: the study has no attention_check item",
    ) in caught.value.errors


class _Row:
    step = "screener"
    arm = None
    started_at = None


def test_a_screened_out_submission_is_terminal_and_never_assigns_or_stores():
    spec = _screened()
    sub = read_submission(spec, _Row(), "screener", {"ideology": "3", "attn": "2"}, now=None)
    assert sub.result.step == "ineligible" and "ineligible" in TERMINAL_STEPS
    assert sub.changes == {"status": "screened_out", "step": "ineligible"}
    assert sub.answers is None and not sub.assign and not sub.quota_cells
    passed = read_submission(spec, _Row(), "screener", {"ideology": "1", "attn": "2"}, now=None)
    assert passed.result.step == "pre" and passed.answers == {"ideology": 1, "attn": 2}


def test_the_page_that_answers_a_quota_item_names_its_cells():
    spec = _screened(quota={"ideology": {"left": 2}})
    sub = read_submission(spec, _Row(), "screener", {"ideology": "2", "attn": "2"}, now=None)
    assert sub.quota_cells == (("ideology", "left"),)
    assert (
        read_submission(
            spec, _Row(), "screener", {"ideology": "5", "attn": "2"}, now=None
        ).quota_cells
        == ()
    )


def test_rules_nest_eight_levels_at_most():
    rule = {"item": "ideology", "in": [1]}
    for _ in range(8):
        rule = {"all": [rule]}
    errors = _errors(screener={"items": ["ideology"], "screen_out": rule})
    assert errors == [("screener.screen_out" + ".all[0]" * 8, "rules nest at most 8 levels deep")]
