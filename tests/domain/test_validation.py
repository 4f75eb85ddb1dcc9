"""Invalid studies are rejected with the exact place and what was expected."""

from __future__ import annotations

import pytest

from framelab.domain.study import StudyError, load_study, load_study_file, study_from_data
from tests.factories import EXAMPLES, small_study_data

BAD_EXAMPLES = sorted((EXAMPLES / "bad").glob("*.yaml"))


def errors_of(data) -> list[str]:
    with pytest.raises(StudyError) as info:
        study_from_data(data)
    return [f"{loc}: {msg}" for loc, msg in info.value.errors]


def expected_error(path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect: "):
            return line.removeprefix("# expect: ")
    raise AssertionError(f"{path.name} has no '# expect:' line")


def test_every_mistake_named_in_the_brief_has_a_bad_example():
    names = {p.stem for p in BAD_EXAMPLES}
    assert {
        "post-phase-blocking-item",
        "two-controls",
        "no-control",
        "likert-four-points",
        "scale-of-one-item",
        "unknown-outcome",
        "unknown-covariate",
        "unknown-moderator",
        "post-phase-covariate",
        "unknown-value-tag",
        "duplicate-item-ids",
        "weights-unknown-arm",
        "block-size-not-multiple",
        "attention-check-without-correct",
        "attention-check-correct-not-allowed",
        "missing-translation",
        "factorial-incomplete",
    } <= names


@pytest.mark.parametrize("path", BAD_EXAMPLES, ids=lambda p: p.stem)
def test_bad_example_is_rejected_with_exactly_its_placed_error(path):
    with pytest.raises(StudyError) as info:
        load_study_file(path)
    assert str(info.value) == expected_error(path)
    assert len(info.value.errors) == 1


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("post-phase-blocking-item", "design.block_by: item 'ideology' is not a pre-phase item"),
        ("two-controls", "arms[1].control: a second control arm ('care')"),
        ("no-control", "arms: no control arm: exactly one arm needs control: true"),
        ("likert-four-points", "items[1].points: a likert item needs 5 or 7 points, got 4"),
        ("scale-of-one-item", "scales[0].items: a scale needs at least two items, got 1"),
        (
            "unknown-outcome",
            "analysis.primary[0]: 'suport' is not an item or scale (known: ideology",
        ),
        ("post-phase-covariate", "analysis.covariates[1]: 'join_sms' is a post-phase item"),
        (
            "unknown-value-tag",
            "arms[2].frame.values[0]: 'kindness' is not a known value (known: care, equality, proportionality",
        ),
        ("duplicate-item-ids", "items[2].id: duplicate id 'care_1' (also items[1])"),
        ("weights-unknown-arm", "design.weights.fairness: 'fairness' is not an arm"),
        ("block-size-not-multiple", "design.block_size: 10 is not a multiple of sum(weights) = 3"),
        ("attention-check-without-correct", "items[3].correct: an attention_check item needs"),
        ("attention-check-correct-not-allowed", "items[3].correct: 6 is not an allowed value"),
        ("missing-translation", "consent.es: missing text for language 'es'"),
        ("factorial-incomplete", "missing: value=care, messenger=neighbour; value=liberty"),
    ],
)
def test_bad_example_messages_say_what_the_brief_asks_for(path, expected):
    assert expected in expected_error(EXAMPLES / "bad" / f"{path}.yaml")


def test_all_problems_are_reported_together_one_line_each():
    data = small_study_data(items__0__points=4, arms__1__frame__values=["kindness"])
    data["analysis"]["primary"] = ["nope"]
    with pytest.raises(StudyError) as info:
        study_from_data(data)
    lines = str(info.value).splitlines()
    assert lines[0] == "items[0].points: a likert item needs 5 or 7 points, got 4"
    assert len(lines) == 1  # field errors stop the cross-field pass
    data["items"][0]["points"] = 5
    lines = errors_of(data)
    assert lines[0].startswith("arms[1].frame.values[0]: 'kindness' is not a known value")
    assert lines[1].startswith("analysis.primary[0]: 'nope' is not an item or scale")


def test_unknown_field_is_rejected_with_the_fields_that_are_expected():
    lines = errors_of(small_study_data(arms__1__frame__valeus=["care"]))
    assert lines == [
        "arms[1].frame.valeus: unknown field 'valeus' (expected one of: title, body, values)"
    ]


def test_missing_required_field_is_named():
    assert errors_of(small_study_data(design__seed=...)) == [
        "design.seed: required field is missing"
    ]


def test_wrong_type_says_what_was_given():
    lines = errors_of(small_study_data(design__seed="soon"))
    assert lines[0].startswith("design.seed: Input should be a valid integer")
    assert "'soon'" in lines[0]


def test_type_specific_fields_on_the_wrong_item_type_are_rejected():
    assert errors_of(small_study_data(items__6__points=5)) == [
        "items[6].points: only likert items have points; this is a slider item"
    ]


def test_likert_labels_need_one_per_point_or_two_end_points():
    data = small_study_data(items__1__labels={"en": ["a", "b", "c"], "es": ["a", "b"]})
    assert errors_of(data) == [
        "items[1].labels.en: expected 5 labels (one per point) or 2 (the end points), got 3"
    ]


def test_choice_needs_two_options_with_distinct_values():
    data = small_study_data()
    data["items"][3]["options"][1]["value"] = 1
    data["items"][3]["correct"] = 1
    assert errors_of(data) == [
        "items[3].options[1].value: duplicate option value 1 (also options[0])"
    ]


def test_text_in_an_undeclared_language_is_rejected():
    data = small_study_data(title={"en": "T", "es": "T", "de": "T"})
    assert errors_of(data) == ["title.de: text for 'de', which is not in languages (en, es)"]


def test_a_plain_string_counts_only_for_the_default_language():
    assert errors_of(small_study_data(debrief="Thanks")) == [
        "debrief.es: missing text for language 'es'"
    ]


def test_a_localized_text_of_the_wrong_type_is_explained():
    assert errors_of(small_study_data(title=12)) == [
        "title: expected a text, got a number, or a mapping language -> text"
    ]


def test_identifiers_must_be_lower_case():
    lines = errors_of(small_study_data(arms__1__id="Care"))
    assert lines[0].startswith("arms[1].id: expected an identifier (lower-case letters")


def test_blocking_needs_a_required_pre_item_and_complete_strata():
    assert errors_of(small_study_data(design__block_by="donate")) == [
        "design.block_by: item 'donate' is not a pre-phase item; blocking needs an answer given before assignment"
    ]
    assert errors_of(small_study_data(design__strata={"left": [1, 2], "right": [4, 5]})) == [
        "design.strata: values 3 of item 'ideology' are in no stratum; every value needs one"
    ]
    assert errors_of(small_study_data(design__block_by=...)) == [
        "design.block_by: the blocked scheme needs block_by: a pre-phase choice, binary or likert item"
    ]


def test_weights_must_name_every_arm():
    lines = errors_of(small_study_data(design__weights={"control": 1, "care": 1}))
    assert lines == ["design.weights: no weight for arm 'liberty'; give every arm a weight or none"]


def test_a_scale_may_not_mix_phases():
    lines = errors_of(small_study_data(scales=[{"id": "mix", "items": ["care_1", "support"]}]))
    assert lines[0].startswith(
        "scales[0].items[1]: 'support' is asked in pre+post but 'care_1' in pre"
    )


def test_a_text_item_cannot_be_an_outcome():
    lines = errors_of(small_study_data(analysis__secondary=["comment"]))
    assert lines == [
        "analysis.secondary[0]: 'comment' is a free-text item and cannot be an outcome"
    ]


def test_an_outcome_must_be_measured_after_the_message():
    lines = errors_of(small_study_data(analysis__primary=["care_values"]))
    assert lines == [
        "analysis.primary[0]: 'care_values' is not measured in the post phase; outcomes are measured after the message"
    ]


def test_frame_arm_without_a_frame_is_rejected():
    assert errors_of(small_study_data(arms__2__frame=None)) == [
        "arms[2].frame: frame arm 'liberty' needs a frame (title and body)"
    ]


def test_invalid_yaml_reports_line_and_column():
    with pytest.raises(StudyError) as info:
        load_study("slug: x\ntitle: [unclosed\n")
    message = str(info.value)
    assert message.startswith("not valid YAML: line 3, column 1")


def test_top_level_must_be_a_mapping():
    with pytest.raises(StudyError, match="expected a mapping with slug, title"):
        load_study("- just\n- a list\n")


def test_an_outcome_listed_twice_is_rejected():
    lines = errors_of(small_study_data(analysis__secondary=["join_sms", "support"]))
    assert lines == ["analysis.secondary[1]: 'support' is already listed at analysis.primary[0]"]


def test_an_empty_completion_is_rejected():
    assert errors_of(small_study_data(completion={})) == [
        "completion: expected a code, a redirect_url or both (or leave completion out)"
    ]
    lines = errors_of(small_study_data(completion={"redirect_url": "prolific.com"}))
    assert lines == ["completion.redirect_url: expected an http(s) URL, got 'prolific.com'"]
