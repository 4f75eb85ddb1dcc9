"""The value taxonomy: MFQ-2 foundations, Schwartz's ten values, study-declared tags."""

from __future__ import annotations

import pytest

from framelab.domain.values import (
    MORAL_FOUNDATIONS,
    SCHWARTZ,
    VALUES,
    describe_value,
    known_values,
)


def test_moral_foundations_follow_mfq2_with_equality_and_proportionality_apart():
    assert MORAL_FOUNDATIONS == (
        "care",
        "equality",
        "proportionality",
        "loyalty",
        "authority",
        "purity",
        "liberty",
    )


def test_schwartz_lists_the_ten_basic_values():
    assert SCHWARTZ == (
        "self_direction",
        "stimulation",
        "hedonism",
        "achievement",
        "power",
        "security",
        "conformity",
        "tradition",
        "benevolence",
        "universalism",
    )


def test_every_built_in_value_has_a_label_and_a_one_line_description():
    assert len(VALUES) == 17
    for tag in VALUES.values():
        assert tag.label and tag.label[0].isupper()
        assert tag.description.endswith(".") and "\n" not in tag.description
    assert VALUES["self_direction"].label == "Self-direction"


def test_custom_values_come_after_the_built_in_ones_without_duplicates():
    assert known_values(["dignity", "care", "dignity"])[-1] == "dignity"
    assert known_values(["dignity", "care"]).count("care") == 1
    assert len(known_values(["dignity"])) == 18


def test_describe_value_labels_custom_tags_and_lists_known_ones_when_unknown():
    assert describe_value("human_dignity", ["human_dignity"]).label == "Human dignity"
    assert describe_value("liberty").taxonomy == "moral_foundations"
    with pytest.raises(
        LookupError, match=r"'fairness' is not a known value \(known: care, equality"
    ):
        describe_value("fairness")


def test_no_alias_silently_maps_fairness_or_sanctity():
    assert "fairness" not in VALUES and "sanctity" not in VALUES
