"""Frames page edits: the pure functions (framelab.web.studio.build_frames) and, through the
Flask test client, a campaigner building a study from blank without the study file."""

from __future__ import annotations

import pytest

from framelab.domain.study import StudyError
from framelab.services import studio
from framelab.web.studio import build_frames as bf
from tests.factories import make_study

# ------------------------------------------------------------------ pure edits


def blank(languages=("en",)):
    return studio.spec_from_template("blank", "my-study", list(languages), seed=7)


def test_valid_block_sizes_are_multiples_of_the_total_weight():
    assert bf.valid_block_sizes({"a": 1, "b": 1, "c": 2}) == [4, 8, 12, 16, 20, 24]
    assert bf.valid_block_sizes({"a": 1, "b": 1}, current=40) == [2, 4, 6, 8, 10, 12, 40]
    assert bf.fit_block_size(10, 4) == 12  # 2.5 rounds: ties go up
    assert bf.fit_block_size(9, 4) == 8
    assert bf.fit_block_size(1, 4) == 4
    assert bf.fit_block_size(None, 4) is None
    assert bf.block_size_label(8, {"a": 1, "b": 1, "c": 1, "d": 1}) == (
        "8: every arm twice in each block of 8 participants"
    )
    assert "sum(weights)" not in bf.plain_message("10 is not a multiple of sum(weights) = 4")
    assert bf.plain_message("10 is not a multiple of sum(weights) = 4") == (
        "10 does not fit the arm weights: choose a multiple of 4"
    )


def test_add_frame_appends_a_placeholder_frame_in_every_language():
    spec = blank(("en", "es"))
    added = bf.add_frame(spec)
    assert added.arm_ids == ["control", "frame_1", "frame_2"]
    frame = added.arm("frame_2").frame
    assert frame.title.get("es") == bf.PLACEHOLDER_TITLE
    assert frame.values == []
    named = bf.add_frame(added, arm_id="care")
    assert named.arm_ids[-1] == "care"
    with pytest.raises(StudyError) as info:
        bf.add_frame(named, arm_id="care")
    assert info.value.errors == [("arm_id", "'care' is already an arm; choose another name")]


def test_duplicate_keeps_text_and_values_right_after_the_original():
    spec = make_study()
    copied = bf.duplicate_frame(spec, "care")
    index = copied.arm_ids.index("care")
    assert copied.arm_ids[index + 1] == "care_variant"
    new, old = copied.arm("care_variant"), copied.arm("care")
    assert new.frame == old.frame and new.label is None
    # torture-ban blocks in 10s over five arms; six arms -> the nearest multiple of 6 is 12.
    assert spec.design.block_size == 10
    assert copied.design.block_size == 12
    assert bf.duplicate_frame(copied, "care").arm_ids[index + 1] == "care_variant_2"
    with pytest.raises(StudyError, match="control cannot be duplicated"):
        bf.duplicate_frame(spec, "control")


def test_move_swaps_neighbours_and_stops_at_the_ends():
    spec = make_study()
    order = spec.arm_ids
    down = bf.move_arm(spec, "care", +1)
    i = order.index("care")
    assert down.arm_ids[i : i + 2] == [order[i + 1], "care"]
    assert bf.move_arm(down, "care", -1).content_hash() == spec.content_hash()
    assert bf.move_arm(spec, order[0], -1) is spec
    assert bf.move_arm(spec, order[-1], +1) is spec


def test_removing_a_frame_refits_the_block_size_and_drops_its_weight():
    spec = make_study()  # five arms, block size 10
    weighted = bf.set_allocation(spec, {"control": 2, **{a.id: 1 for a in spec.frame_arms}}, 12)
    assert weighted.design.weights["control"] == 2 and weighted.design.block_size == 12
    removed = bf.remove_arm(weighted, "liberty")
    assert "liberty" not in removed.arm_ids
    assert "liberty" not in removed.design.weights
    # Total weight 5 now: 12 -> 10 (2.4 rounds -> 2).
    assert removed.design.block_size == 10
    assert removed.block_size() % sum(removed.weights().values()) == 0
    with pytest.raises(StudyError) as info:
        bf.remove_arm(spec, "control")
    assert info.value.errors[0][0] == f"arms[{spec.arm_ids.index('control')}]"
    assert "Mark another arm as the control first" in info.value.errors[0][1]


def test_the_only_frame_cannot_be_removed():
    with pytest.raises(StudyError, match="only frame"):
        bf.remove_arm(blank(), "frame_1")


def test_control_shows_a_placebo_or_nothing_and_another_arm_can_become_the_control():
    spec = bf.add_frame(blank())
    assert spec.control_arm.frame is None
    placebo = bf.set_control_message(spec, placebo=True)
    assert placebo.control_arm.frame.title.get("en") == bf.PLACEBO_TITLE
    assert bf.set_control_message(placebo, placebo=False).content_hash() == spec.content_hash()
    # The no-message control goes when a frame arm becomes the control.
    tagged = bf.edit_arm(spec, "frame_2", values=["care"])
    switched = bf.make_control(tagged, "frame_2")
    assert switched.control_arm.id == "frame_2"
    assert switched.control_arm.frame.values == []  # a placebo carries no value tags
    assert switched.arm_ids == ["frame_1", "frame_2"]
    # A former control with a placebo text stays, as a frame arm.
    back = bf.make_control(bf.set_control_message(spec, True), "frame_2")
    assert back.arm("control").control is False and back.arm("control").frame is not None


def test_edit_arm_sets_values_labels_and_factor_levels():
    spec = blank(("en", "es"))
    edited = bf.edit_arm(
        spec, "frame_1", values=["care", "liberty"], labels={"en": "Care", "es": "Cuidado"}
    )
    arm = edited.arm("frame_1")
    assert arm.frame.values == ["care", "liberty"]
    assert arm.label.get("es") == "Cuidado"
    assert bf.edit_arm(edited, "frame_1", labels={"en": "", "es": ""}).arm("frame_1").label is None
    with pytest.raises(StudyError) as info:
        bf.edit_arm(spec, "frame_1", labels={"en": "Care", "es": ""})
    assert info.value.errors[0][0].startswith("arms[1].label")
    with pytest.raises(StudyError) as info:
        bf.edit_arm(spec, "frame_1", values=["kindness"])
    assert info.value.errors[0][0] == "arms[1].frame.values[0]"

    factorial = studio.spec_from_template("factorial-messenger", "fact-study", ["en"], seed=3)
    # Two arms would share the cell care x local.
    with pytest.raises(StudyError, match="same cell as arm"):
        bf.edit_arm(factorial, "care_affected", factors={"value": "care", "messenger": "local"})


def test_renaming_a_factor_level_renames_it_in_every_arm():
    factorial = studio.spec_from_template("factorial-messenger", "fact-study", ["en"], seed=3)
    renamed = bf.set_factors(
        factorial, {"value": ["care", "loyalty"], "messenger": ["refugee", "local"]}
    )
    assert renamed.design.factors["messenger"] == ["refugee", "local"]
    assert renamed.arm("care_affected").factors == {"value": "care", "messenger": "refugee"}
    assert renamed.arm("loyalty_local").factors == {"value": "loyalty", "messenger": "local"}
    # A third level needs its arms: the missing cells are named.
    with pytest.raises(StudyError, match="missing: value=fairness"):
        bf.set_factors(
            factorial,
            {"value": ["care", "loyalty", "fairness"], "messenger": ["affected", "local"]},
        )


def test_allocation_keeps_the_hash_when_nothing_changes_and_rejects_a_misfit_block():
    spec = make_study()
    same = bf.set_allocation(spec, spec.weights(), spec.design.block_size)
    assert same.content_hash() == spec.content_hash()
    plain = blank()
    total = sum(plain.weights().values())
    assert bf.set_allocation(plain, plain.weights(), total).content_hash() == plain.content_hash()
    with pytest.raises(StudyError) as info:
        bf.set_allocation(spec, spec.weights(), 7)
    [(location, message)] = info.value.errors
    assert location == "design.block_size"
    assert message == "7 does not fit the arm weights: choose one of 5, 10, 15, 20, 25, 30"
    with pytest.raises(StudyError, match="from 1 to 100"):
        bf.set_allocation(spec, {**spec.weights(), "care": 0}, None)
