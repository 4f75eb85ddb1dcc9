"""Answer validation per item type: the stored value or a ValueProblem with a code."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framelab.domain.study import ValueProblem
from tests.factories import small_study


@pytest.fixture(scope="module")
def study():
    return small_study()


def problem(item, raw) -> ValueProblem:
    with pytest.raises(ValueProblem) as info:
        item.validate_value(raw)
    return info.value


def test_likert_accepts_each_point_and_stores_an_int(study):
    item = study.item("support")
    assert [item.validate_value(str(v)) for v in range(1, 8)] == list(range(1, 8))
    assert item.validate_value(" 4 ") == 4
    assert item.allowed_values() == [1, 2, 3, 4, 5, 6, 7]


def test_likert_out_of_range_names_the_range(study):
    p = problem(study.item("support"), "8")
    assert p.code == "out_of_range"
    assert p.params == {"item": "support", "value": 8, "min": 1, "max": 7}
    assert str(p) == "support: expected 1..7, got 8"


def test_non_numbers_are_not_a_number(study):
    for raw in ("abc", "3.5", "1e3", "3 4"):
        p = problem(study.item("support"), raw)
        assert p.code == "not_a_number", raw
    assert (
        str(problem(study.item("donate"), "lots")) == "donate: expected a whole number, got 'lots'"
    )


def test_arabic_indic_digits_are_read_as_numbers(study):
    # Participants on Arabic keyboards type these; int() reads them exactly.
    assert study.item("support").validate_value("٣") == 3
    assert study.item("donate").validate_value("٧٥") == 75


def test_slider_accepts_zero_to_hundred(study):
    item = study.item("donate")
    assert item.validate_value("0") == 0
    assert item.validate_value("100") == 100
    assert problem(item, "101").params["max"] == 100
    assert problem(item, "-1").code == "out_of_range"


def test_binary_accepts_only_zero_and_one(study):
    item = study.item("join_sms")
    assert (item.validate_value("0"), item.validate_value("1")) == (0, 1)
    assert problem(item, "2").code == "out_of_range"
    assert item.value_labels("en") == {0: "No", 1: "Yes"}


def test_choice_rejects_values_that_are_not_options(study):
    item = study.item("attn")
    assert item.validate_value("2") == 2
    p = problem(item, "3")
    assert p.code == "not_an_option"
    assert p.params["options"] == [1, 2]
    assert str(p) == "attn: 3 is not an option (options: 1, 2)"
    assert item.value_labels("es") == {1: "Rojo", 2: "Azul"}


def test_required_item_rejects_an_empty_answer(study):
    for raw in ("", "   ", None):
        assert problem(study.item("support"), raw).code == "required"


def test_optional_text_returns_none_when_empty_and_the_stripped_text_otherwise(study):
    item = study.item("comment")
    assert item.validate_value("") is None
    assert item.validate_value(None) is None
    assert item.validate_value("  Good luck  ") == "Good luck"
    assert item.allowed_values() is None


def test_text_longer_than_max_length_is_too_long(study):
    p = problem(study.item("comment"), "x" * 21)
    assert p.code == "too_long"
    assert p.params == {"item": "comment", "max": 20, "length": 21}


def test_text_max_length_defaults_to_2000():
    study = small_study(items__7__max_length=...)
    assert study.item("comment").text_max_length == 2000
    assert study.item("comment").validate_value("y" * 2000) == "y" * 2000


def test_likert_end_point_labels_label_the_first_and_last_point(study):
    assert study.item("care_1").value_labels("es") == {1: "Muy en desacuerdo", 5: "Muy de acuerdo"}


def test_value_problem_codes_are_checked_and_survive_pickling():
    with pytest.raises(ValueError, match="code: 'wrong' is not a value problem"):
        ValueProblem("wrong", "x")
    original = ValueProblem("required", "support: an answer is required", {"item": "support"})
    copy = pickle.loads(pickle.dumps(original))
    assert (copy.code, copy.message, copy.params) == (
        "required",
        original.message,
        {"item": "support"},
    )


def test_phase_is_stored_in_canonical_order(study):
    assert study.item("support").phase == ["pre", "post"]
    assert study.item("support").in_phase("post")
    assert not study.item("join_sms").in_phase("pre")


@given(raw=st.integers(-1000, 1000))
def test_every_integer_is_either_an_allowed_value_or_out_of_range(study, raw):
    item = study.item("support")
    if 1 <= raw <= 7:
        assert item.validate_value(str(raw)) == raw
    else:
        with pytest.raises(ValueProblem) as info:
            item.validate_value(str(raw))
        assert info.value.code == "out_of_range"


@given(raw=st.text(max_size=30))
def test_any_text_is_stored_or_rejected_with_a_known_code(study, raw):
    item = study.item("donate")
    try:
        value = item.validate_value(raw)
    except ValueProblem as problem:
        assert problem.code in ("required", "not_a_number", "out_of_range")
    else:
        assert isinstance(value, int) and 0 <= value <= 100
