"""What a manipulation check's options mean (options[].value_tag / correct_for), issue 19."""

from __future__ import annotations

import pytest

from framelab.domain.study import StudyError, load_study, load_study_file, study_from_data
from tests.factories import ROOT, study_data

FACTORIAL = ROOT / "examples" / "refugee-welcome-factorial.yaml"


def _manip(data: dict) -> dict:
    return next(i for i in data["items"] if i["id"] == "manip_value")


def _errors(data: dict) -> str:
    with pytest.raises(StudyError) as info:
        study_from_data(data)
    return str(info.value)


def test_the_demo_study_tags_each_value_option_and_round_trips_through_yaml():
    spec = study_from_data(study_data())
    tags = [o.value_tag for o in spec.item("manip_value").options]
    assert tags == ["care", "equality", "loyalty", "liberty", None]
    again = load_study(spec.to_yaml())
    assert again.content_hash() == spec.content_hash()
    assert [o.value_tag for o in again.item("manip_value").options] == tags


def test_correct_for_names_arms_and_survives_the_round_trip():
    spec = load_study_file(FACTORIAL)
    options = spec.item("manip_messenger").options
    assert options[0].correct_for == ["care_refugee", "loyalty_refugee"]
    assert load_study(spec.to_yaml()).item("manip_messenger").options[2].correct_for == ["control"]


def test_an_option_without_a_meaning_leaves_the_canonical_json_as_before():
    spec = study_from_data(study_data())
    dumped = spec.model_dump(mode="json")
    age = next(i for i in dumped["items"] if i["id"] == "age_group")
    assert set(age["options"][0]) == {"value", "label"}


def test_an_unknown_value_tag_is_refused_with_its_place():
    data = study_data()
    _manip(data)["options"][0]["value_tag"] = "kindness"
    message = _errors(data)
    assert "options[0].value_tag" in message and "'kindness' is not a known value" in message


def test_correct_for_must_name_arms_of_the_study():
    data = study_data()
    _manip(data)["options"][4]["correct_for"] = ["fairness", "justice"]
    message = _errors(data)
    assert "options[4].correct_for[1]" in message and "'justice' is not an arm" in message


def test_option_meanings_belong_to_manipulation_checks_only_and_one_per_option():
    data = study_data()
    age = next(i for i in data["items"] if i["id"] == "age_group")
    age["options"][0]["value_tag"] = "care"
    assert "only manipulation_check items say what an option means" in _errors(data)
    data = study_data()
    _manip(data)["options"][0]["correct_for"] = ["care"]
    assert "expected value_tag or correct_for, not both" in _errors(data)


def test_control_in_main_effects_is_for_factorial_designs_only():
    data = study_data(design__control_in_main_effects=True)
    assert "only factorial designs have main effects" in _errors(data)
