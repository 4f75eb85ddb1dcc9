"""Loading studies, their canonical hash, YAML round trip and the helpers other layers use."""

from __future__ import annotations

import json

import pytest
import yaml

from framelab.domain.parsing import parse_study_text
from framelab.domain.study import (
    Localized,
    Study,
    StudyError,
    load_study,
    load_study_file,
)
from tests.factories import EXAMPLES, small_study, small_study_data

GOOD_EXAMPLES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(scope="module")
def torture() -> Study:
    return load_study_file(EXAMPLES / "torture-ban.yaml")


def test_examples_directory_has_the_torture_ban_and_a_second_study():
    names = {p.name for p in GOOD_EXAMPLES}
    assert {"torture-ban.yaml", "refugee-welcome-factorial.yaml"} <= names


@pytest.mark.parametrize("path", GOOD_EXAMPLES, ids=lambda p: p.stem)
def test_example_study_round_trips_through_yaml_with_the_same_hash(path):
    study = load_study_file(path)
    again = load_study(study.to_yaml())
    assert again == study
    assert again.content_hash() == study.content_hash()


@pytest.mark.parametrize("path", GOOD_EXAMPLES, ids=lambda p: p.stem)
def test_example_study_hash_ignores_key_order_and_whitespace(path):
    study = load_study_file(path)
    data = parse_study_text(path.read_text(encoding="utf-8"))
    reordered = yaml.safe_dump(data, sort_keys=True, indent=4, allow_unicode=True, width=60)
    as_json = json.dumps(data, indent=2)
    assert load_study(reordered).content_hash() == study.content_hash()
    assert load_study(as_json).content_hash() == study.content_hash()


def test_content_hash_is_sha256_of_sorted_compact_json(torture):
    import hashlib

    canonical = json.dumps(
        torture.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert torture.content_hash() == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert len(torture.content_hash()) == 64


def test_changing_one_word_of_a_frame_changes_the_hash(torture):
    data = torture.model_dump(mode="json")
    body = data["arms"][1]["frame"]["body"]["en"]
    data["arms"][1]["frame"]["body"]["en"] = body.replace("break", "crush", 1)
    assert data["arms"][1]["frame"]["body"]["en"] != body
    assert Study.model_validate(data).content_hash() != torture.content_hash()


def test_implicit_and_explicit_default_language_and_phase_hash_the_same():
    implicit = small_study_data()
    explicit = small_study_data(default_language="en", items__0__phase=["pre"])
    assert (
        Study.model_validate(implicit).content_hash()
        == Study.model_validate(explicit).content_hash()
    )
    assert Study.model_validate(implicit).default_language == "en"


def test_json_text_is_accepted_as_well_as_yaml():
    study = load_study(json.dumps(small_study_data()))
    assert study.slug == "small-study"


def test_unquoted_yes_and_no_labels_stay_text_not_booleans():
    text = yaml.safe_dump(small_study_data(), allow_unicode=True, sort_keys=False)
    text = text.replace(
        "  text:\n    en: Join?",
        "  yes_label: {en: Yes, es: Sí}\n  no_label: {en: No, es: No}\n  text:\n    en: Join?",
    )
    item = load_study(text).item("join_sms")
    assert item.value_labels("en") == {0: "No", 1: "Yes"}
    assert item.value_labels("es") == {0: "No", 1: "Sí"}


def test_arm_helpers_find_the_control_and_frames_in_file_order(torture):
    assert torture.control_arm.id == "control"
    assert [a.id for a in torture.frame_arms] == ["care", "fairness", "loyalty", "liberty"]
    assert torture.arm("fairness").frame.values == ["equality"]
    with pytest.raises(
        LookupError, match=r"'kindness' is not an arm of torture-ban \(arms: control, care"
    ):
        torture.arm("kindness")


def test_items_for_phase_keeps_file_order_and_includes_items_asked_in_both(torture):
    pre = [i.id for i in torture.items_for("pre")]
    post = [i.id for i in torture.items_for("post")]
    assert pre[0] == "ideology" and pre[-1] == "support" and len(pre) == 12
    assert post == ["support", "manip_value", "join_sms", "donate", "comment"]
    assert [i.id for i in torture.outcome_items] == ["support"]
    assert [i.id for i in torture.intent_items] == ["join_sms", "donate"]
    with pytest.raises(ValueError, match="phase: expected pre or post, got 'during'"):
        torture.items_for("during")
    with pytest.raises(LookupError, match="'age' is not an item of torture-ban"):
        torture.item("age")


def test_text_picks_the_language_and_falls_back_to_the_default(torture):
    assert torture.text(torture.title, "ar") == "بلا استثناءات: قانون ضد التعذيب"
    assert torture.text(torture.title, "de") == "No exceptions: a law against torture"
    assert Localized("Plain").get("fr", "en") == "Plain"
    assert Localized({"es": "Hola", "en": "Hi"}).get("fr", "en") == "Hi"
    assert torture.text(None, "en") == ""


def test_blocked_study_maps_ideology_answers_to_strata(torture):
    assert torture.strata() == ["left", "centre", "right"]
    assert [torture.stratum_for(v) for v in (1, 2, 3, 4, 5)] == [
        "left",
        "left",
        "centre",
        "right",
        "right",
    ]
    assert torture.stratum_for("4") == "right"
    with pytest.raises(
        ValueError,
        match=r"ideology: 6 is not an allowed value for the blocking item \(allowed: 1, 2, 3, 4, 5\)",
    ):
        torture.stratum_for(6)


def test_blocked_study_without_strata_uses_each_answer_as_its_stratum():
    study = small_study(design__strata=...)
    assert study.strata() == ["1", "2", "3", "4", "5"]
    assert study.stratum_for(2) == "2"


def test_unblocked_study_has_the_single_stratum_all():
    study = load_study_file(EXAMPLES / "refugee-welcome-factorial.yaml")
    assert study.strata() == ["all"]
    assert study.stratum_for(None) == "all"
    assert study.control_arm.frame is None


def test_weights_and_block_size_default_from_the_arms():
    study = small_study(design__block_size=...)
    assert study.weights() == {"control": 1, "care": 1, "liberty": 1}
    assert study.block_size() == 3
    weighted = small_study(
        design__weights={"control": 2, "care": 1, "liberty": 1}, design__block_size=8
    )
    assert weighted.weights() == {"control": 2, "care": 1, "liberty": 1}
    assert weighted.block_size() == 8


def test_custom_values_extend_the_known_values():
    study = small_study(custom_values=["dignity"], arms__2__frame__values=["dignity", "liberty"])
    assert study.known_values()[-1] == "dignity"
    assert study.arm("liberty").frame.values == ["dignity", "liberty"]


def test_load_study_file_names_an_unreadable_file(tmp_path):
    with pytest.raises(StudyError, match=r"cannot read study file .*missing\.yaml"):
        load_study_file(tmp_path / "missing.yaml")
