"""Frames page edits: the pure functions (framelab.domain.builder.build_frames) and, through the
Flask test client, a campaigner building a study from blank without the study file."""

from __future__ import annotations

import re
from html import unescape

import pytest

from framelab.domain.builder import build_design as bd
from framelab.domain.builder import build_frames as bf
from framelab.domain.names import arm_name
from framelab.domain.study import StudyError, load_study
from framelab.services import study_drafts, study_lifecycle, study_versions
from tests.factories import approve, make_study

# ------------------------------------------------------------------ pure edits


def blank(languages=("en",)):
    return study_drafts.spec_from_template("blank", "my-study", list(languages), seed=7)


def test_valid_block_sizes_are_multiples_of_the_total_weight():
    assert bd.valid_block_sizes({"a": 1, "b": 1, "c": 2}) == [4, 8, 12, 16, 20, 24]
    assert bd.valid_block_sizes({"a": 1, "b": 1}, current=40) == [2, 4, 6, 8, 10, 12, 40]
    assert bd.fit_block_size(10, 4) == 12  # 2.5 rounds: ties go up
    assert bd.fit_block_size(9, 4) == 8
    assert bd.fit_block_size(1, 4) == 4
    assert bd.fit_block_size(None, 4) is None
    assert bd.block_size_label(8, {"a": 1, "b": 1, "c": 1, "d": 1}) == (
        "8: every arm twice in each block of 8 participants"
    )
    assert "sum(weights)" not in bd.plain_message("10 is not a multiple of sum(weights) = 4")
    assert bd.plain_message("10 is not a multiple of sum(weights) = 4") == (
        "10 does not fit the arm weights: choose a multiple of 4"
    )


def test_add_frame_appends_a_placeholder_frame_in_every_language():
    spec = blank(("en", "es"))
    added = bf.add_frame(spec)
    assert added.arm_ids == ["control", "frame_1", "frame_2"]
    frame = added.arm("frame_2").frame
    assert frame.title.get("es") == bf.PLACEHOLDER_TITLE
    assert frame.values == []
    assert added.arm("frame_2").label is None


def test_a_named_frame_gets_the_name_as_its_label_and_an_id_made_from_it():
    spec = blank(("en", "es"))
    named = bf.add_frame(spec, names={"en": "Care for others", "es": "Cuidado"})
    arm = named.arms[-1]
    assert arm.id == "care_for_others"
    assert (arm.label.get("en"), arm.label.get("es")) == ("Care for others", "Cuidado")
    # The same name again: a new id underneath, the name as given.
    again = bf.add_frame(named, names={"en": "Care for others", "es": ""})
    assert again.arms[-1].id == "care_for_others_2"
    # A language left empty takes the default language's name, to be translated later.
    assert again.arms[-1].label.get("es") == "Care for others"
    # No Latin letters to make an id from: frame_<n>; one language: a plain label.
    arabic = bf.add_frame(blank(("ar",)), names={"ar": "الرعاية"})
    assert arabic.arms[-1].id == "frame_2" and arabic.arms[-1].label.get("ar") == "الرعاية"
    assert arabic.model_dump(mode="json")["arms"][-1]["label"] == "الرعاية"
    assert bf.arm_id_for("2030 plan") == "frame_2030_plan"


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

    factorial = study_drafts.spec_from_template("factorial-messenger", "fact-study", ["en"], seed=3)
    # Two arms would share the cell care x local.
    with pytest.raises(StudyError, match="same cell as arm"):
        bf.edit_arm(factorial, "care_affected", factors={"value": "care", "messenger": "local"})


def test_renaming_a_factor_level_renames_it_in_every_arm():
    factorial = study_drafts.spec_from_template("factorial-messenger", "fact-study", ["en"], seed=3)
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


# ------------------------------------------------------------------ as a campaigner


class Campaigner:
    """A browser without JavaScript: counts every form it submits."""

    def __init__(self, client):
        self.client = client
        self.submissions = 0

    def post(self, url, data, expect=302):
        self.submissions += 1
        response = self.client.post(url, data=data)
        assert response.status_code == expect, (url, response.status_code, _alerts(response))
        return response

    def page(self, url):
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return unescape(response.get_data(as_text=True))


def _alerts(response) -> list[str]:
    text = unescape(response.get_data(as_text=True))
    return re.findall(r'class="(?:field-errors|alert)[^"]*"[^>]*>(.*?)</(?:ul|div)>', text, re.S)


def _stored(app, slug):
    from framelab.web.database import db_session

    with app.app_context():
        return study_versions.get_study(db_session(), slug).spec


BODY = (
    "Every week {n} families in our town go without a hot meal. A community kitchen "
    "costs less than one council advert. Ask the council to keep it open."
)


def test_campaigner_builds_a_control_and_three_frames_from_blank_without_the_study_file(
    studio_app,
):
    from tests.studio.conftest import PASSWORD

    me = Campaigner(studio_app.test_client())
    me.post("/studio/login", {"email": "editor@example.org", "password": PASSWORD})
    page = me.page("/studio/new")
    assert 'value="blank"' in page and "value-frames" in page
    created = me.post(
        "/studio/new",
        {
            "tpl-template": "blank",
            "tpl-title": "Keep the kitchen open",
            "tpl-languages": ["en"],
            "tpl-slug": "kitchen",
            "tpl-submit": "Create study",
        },
    )
    assert created.headers["Location"].endswith("/studio/kitchen/to-fill")
    to_fill = me.page("/studio/kitchen/to-fill")
    assert "consent page" in to_fill and "message of Frame 1" in to_fill
    assert "study title" not in to_fill  # typed at creation

    spec = _stored(studio_app, "kitchen")
    assert spec.languages == ["en"] and spec.arm_ids == ["control", "frame_1"]
    assert spec.completion is None and spec.design.seed != 1  # nothing of the template kept

    # The control: a placebo text instead of no message (one form).
    me.post(
        "/studio/kitchen/arms/placebo",
        {
            "placebo-placebo_title_en": "Libraries lend more than books",
            "placebo-placebo_body_en": BODY.replace("hot meal", "library card").format(n=40),
            "placebo-save_placebo": "Show this placebo text",
        },
    )
    # The first frame: its text in the frame editor (which keeps its confound check).
    me.post(
        "/studio/kitchen/frames/frame_1",
        {
            "title_en": "No child should go hungry",
            "body_en": BODY.format(n=30),
            "values": ["care"],
            "save": "Save frame",
        },
    )
    # Two more frames, each written and named in the add form.
    for name, value, n in (("Fairness", "equality", 50), ("Pride", "loyalty", 60)):
        me.post(
            "/studio/kitchen/arms/add",
            {
                "add-name_en": name,
                "add-title_en": f"A town that looks after its own ({name})",
                "add-body_en": BODY.format(n=n),
                "add-values": [value],
                "add-add": "Add frame",
            },
        )
    assert me.submissions == 6  # sign-in, create, placebo, frame text, two new frames

    spec = _stored(studio_app, "kitchen")
    # The name is the arm's label; its id, made from the name, stays underneath.
    assert spec.arm_ids == ["control", "frame_1", "fairness", "pride"]
    names = [arm_name(spec, arm.id) for arm in spec.arms]
    assert names == ["Control", "Frame 1", "Fairness", "Pride"]
    assert spec.arm("pride").label.get("en") == "Pride"
    assert spec.control_arm.frame.title.get("en") == "Libraries lend more than books"
    assert [a.frame.values for a in spec.frame_arms] == [["care"], ["equality"], ["loyalty"]]
    frames = me.page("/studio/kitchen/frames")
    assert "sum(weights)" not in frames
    assert "still holds placeholder" not in frames  # every message is written
    # ... but the consent, debrief and question are still the template's instructions.
    assert re.search(r'id="to-fill-note"><p>(\d+) texts', frames).group(1) == "3"

    # Shares: the control twice as often, blocks of 10 (two rounds of 2+1+1+1).
    allocation = me.page("/studio/kitchen/frames")
    assert '<option selected value="5">5: the weights once over' not in allocation
    assert '<option selected value="4">4: every arm once in each block of 4' in allocation
    me.post(
        "/studio/kitchen/arms/allocation",
        {"share-weight_control": "2", "share-block_size": "10", "share-save_allocation": "Save"},
    )
    spec = _stored(studio_app, "kitchen")
    assert spec.weights() == {"control": 2, "frame_1": 1, "fairness": 1, "pride": 1}
    # The block size offered was for the old total (4): 8 -> the nearest multiple of 5.
    assert spec.design.block_size == 10
    assert '<option selected value="10">10: the weights twice over' in me.page(
        "/studio/kitchen/frames"
    )
    # Removing a frame: the total weight is 4, so the block size follows to 12 (2.5 rounds up).
    confirm = me.page("/studio/kitchen/arms/pride/remove")
    assert "2 frames remain; blocks of 12 participants." in confirm
    me.post("/studio/kitchen/arms/pride/remove", {"confirm": "pride"})
    spec = _stored(studio_app, "kitchen")
    assert spec.arm_ids == ["control", "frame_1", "fairness"]
    assert spec.design.block_size == 12 and spec.design.weights == {
        "control": 2,
        "frame_1": 1,
        "fairness": 1,
    }
    # Duplicate as a variant, then move it up: "same text, new angle".
    copied = me.post("/studio/kitchen/arms/fairness/change", {"op": "duplicate"})
    assert copied.headers["Location"].endswith("/studio/kitchen/frames/fairness_variant")
    me.post("/studio/kitchen/arms/fairness_variant/change", {"op": "up"})
    spec = _stored(studio_app, "kitchen")
    assert spec.arm_ids == ["control", "frame_1", "fairness_variant", "fairness"]
    assert spec.arm("fairness_variant").frame == spec.arm("fairness").frame
    assert spec.design.block_size == 10  # total weight 5 now: 12 -> 10

    # What the forms built is a study file that loads back to the same study.
    again = load_study(spec.to_yaml())
    assert again.content_hash() == spec.content_hash()


def test_a_removal_is_confirmed_and_one_that_is_not_possible_is_explained(client_for, studio_app):
    from tests.studio.conftest import SLUG

    owner = client_for("owner@example.org")
    before = _stored(studio_app, SLUG)
    page = unescape(owner.get(f"/studio/{SLUG}/arms/control/remove").get_data(as_text=True))
    assert "cannot be removed" in page and 'name="confirm"' not in page
    response = owner.post(f"/studio/{SLUG}/arms/control/remove", data={"confirm": "control"})
    assert response.status_code == 422
    assert "the control cannot be removed" in unescape(response.get_data(as_text=True))
    assert _stored(studio_app, SLUG).content_hash() == before.content_hash()
    # Without the confirmation, or without a button, nothing changes either.
    assert owner.post(f"/studio/{SLUG}/arms/care/remove", data={}).status_code == 302
    assert owner.post(f"/studio/{SLUG}/arms/care/change", data={}).status_code == 302
    response = owner.post(f"/studio/{SLUG}/arms/care/change", data={"op": "control"})
    assert response.status_code == 302
    page = unescape(owner.get(f"/studio/{SLUG}/frames").get_data(as_text=True))
    assert "Care (harm) is now the control" in page  # its name, not its id
    after = _stored(studio_app, SLUG)
    assert after.control_arm.id == "care" and after.control_arm.frame.values == []
    # The former control had a placebo text: it stays, as a frame arm to rewrite or remove.
    assert after.arm("control").control is False and after.arm("control").frame is not None


def test_arm_settings_save_a_label_and_values_and_an_unchanged_form_keeps_the_hash(
    client_for, studio_app
):
    from tests.studio.conftest import SLUG

    owner = client_for("owner@example.org")
    page = unescape(owner.get(f"/studio/{SLUG}/arms/care/settings").get_data(as_text=True))
    # The taxonomy's descriptions are the help of each value.
    assert "Concern for the suffering of others" in page
    before = _stored(studio_app, SLUG)
    care = before.arm("care")
    unchanged = {f"label_{lang}": care.label.get(lang) for lang in before.languages}
    unchanged["values"] = care.frame.values
    assert owner.post(f"/studio/{SLUG}/arms/care/settings", data=unchanged).status_code == 302
    assert _stored(studio_app, SLUG).content_hash() == before.content_hash()
    changed = {**unchanged, "values": ["care", "benevolence"], "label_en": "Care (harm done)"}
    assert owner.post(f"/studio/{SLUG}/arms/care/settings", data=changed).status_code == 302
    after = _stored(studio_app, SLUG).arm("care")
    assert after.frame.values == ["care", "benevolence"]
    assert after.label.get("en") == "Care (harm done)"
    partial = {**changed, "label_es": ""}
    refused = owner.post(f"/studio/{SLUG}/arms/care/settings", data=partial)
    assert refused.status_code == 422
    assert 'id="label_es-error"><li>expected a text, got an empty one' in refused.get_data(
        as_text=True
    )


def test_factor_levels_are_set_from_the_frames_page(client_for, studio_app):
    owner = client_for("owner@example.org")
    created = owner.post(
        "/studio/new",
        data={
            "tpl-template": "factorial-messenger",
            "tpl-languages": ["en"],
            "tpl-slug": "welcome-fact",
            "tpl-submit": "Create study",
        },
    )
    assert created.status_code == 302
    page = owner.get("/studio/welcome-fact/frames").get_data(as_text=True)
    assert 'id="factors"' in page and "affected, local" in page
    # Each arm is one combination of levels: no copy, no switch to control.
    assert 'value="duplicate"' not in page and 'value="control"' not in page
    renamed = owner.post(
        "/studio/welcome-fact/arms/factors",
        data={"factors-levels_value": "care, loyalty", "factors-levels_messenger": "nurse, local"},
    )
    assert renamed.status_code == 302
    spec = _stored(studio_app, "welcome-fact")
    assert spec.arm("care_affected").factors == {"value": "care", "messenger": "nurse"}
    # A new arm names its levels; a taken cell is refused next to the level fields.
    taken = owner.post(
        "/studio/welcome-fact/arms/add",
        data={"add-factor_value": "care", "add-factor_messenger": "nurse"},
    )
    assert taken.status_code == 422
    assert "same cell as arm" in unescape(taken.get_data(as_text=True))


def test_a_live_study_shows_read_only_frames_and_refuses_changes(client_for, studio_app):
    from framelab.web.database import db_session
    from tests.studio.conftest import NOW, SLUG

    with studio_app.app_context():
        approve(db_session(), SLUG, now=NOW)
        study_lifecycle.change_status(db_session(), SLUG, "live", now=NOW)
    owner = client_for("owner@example.org")
    page = unescape(owner.get(f"/studio/{SLUG}/frames").get_data(as_text=True))
    assert 'id="frames-locked"' in page and "the study has gone live" in page
    assert 'name="op"' not in page and "Add a frame" not in page
    assert "<fieldset disabled>" in page  # shares shown, read-only
    before = _stored(studio_app, SLUG)
    owner.post(f"/studio/{SLUG}/arms/care/change", data={"op": "duplicate"})
    assert "locked because the study has gone live" in unescape(
        owner.get(f"/studio/{SLUG}/frames").get_data(as_text=True)
    )
    assert _stored(studio_app, SLUG).content_hash() == before.content_hash()
    settings = owner.get(f"/studio/{SLUG}/arms/care/settings").get_data(as_text=True)
    assert 'id="frames-locked"' in settings and "<fieldset disabled>" in settings


# ------------------------------------------------------------------ design in plain words


def test_blocking_groups_answers_into_strata_and_an_unchanged_form_keeps_the_hash():
    spec = make_study()  # blocked on ideology, strata left [1, 2], centre [3], right [4, 5]
    groups = {1: "left", 2: "left", 3: "centre", 4: "right", 5: "right"}
    kwargs = {"scheme": "blocked", "seed": spec.design.seed, "block_by": "ideology"}
    same = bd.edit_design(spec, **kwargs, groups=groups, block_size=10)
    assert same.content_hash() == spec.content_hash()
    regrouped = bd.edit_design(
        spec,
        **kwargs,
        groups={1: "Left wing", 2: "Left wing", 3: "Rest", 4: "Rest", 5: "Rest"},
        block_size=10,
    )
    assert regrouped.design.strata == {"left_wing": [1, 2], "rest": [3, 4, 5]}
    assert regrouped.strata() == ["left_wing", "rest"]
    ungrouped = bd.edit_design(spec, **kwargs, groups={}, block_size=10)
    assert ungrouped.design.strata is None and ungrouped.strata() == ["1", "2", "3", "4", "5"]
    # Another blocking question takes the groups given with it (one form sets both);
    # without groups it starts ungrouped. A scheme without blocking drops both.
    other = bd.edit_design(
        spec, scheme="blocked", seed=1, block_by="age_group", groups=None, block_size=None
    )
    assert other.design.block_by == "age_group" and other.design.strata is None
    assert other.design.block_size == 10
    regrouped_other = bd.edit_design(
        spec,
        scheme="blocked",
        seed=1,
        block_by="age_group",
        groups={1: "young", 2: "young", 3: "older", 4: "older"},
        block_size=None,
    )
    assert regrouped_other.design.strata == {"young": [1, 2], "older": [3, 4]}
    simple = bd.edit_design(
        spec, scheme="simple", seed=1, block_by="ideology", groups=groups, block_size=10
    )
    assert (simple.design.block_by, simple.design.strata, simple.design.block_size) == (
        None,
        None,
        None,
    )
    assert bd.strata_from_groups([1, 2, 3], {1: "a", 3: "a"}) == {"a": [1, 3], "answer_2": [2]}
    assert bd.group_id(" 18-29 ") == "group_18_29"


def test_design_page_groups_the_answers_of_the_blocking_question(client_for, studio_app):
    from tests.studio.conftest import SLUG

    owner = client_for("owner@example.org")
    page = unescape(owner.get(f"/studio/{SLUG}/design").get_data(as_text=True))
    assert "sum(weights)" not in page and 'id="strata-ideology"' in page
    assert "Group of the answer “Very left”" in page
    before = _stored(studio_app, SLUG)
    unchanged = {
        "scheme": "blocked",
        "block_by": "ideology",
        "block_size": "10",
        "seed": str(before.design.seed),
        "group-ideology-1": "left",
        "group-ideology-2": "left",
        "group-ideology-3": "centre",
        "group-ideology-4": "right",
        "group-ideology-5": "right",
    }
    assert owner.post(f"/studio/{SLUG}/design", data=unchanged).status_code == 302
    assert _stored(studio_app, SLUG).content_hash() == before.content_hash()
    two = {**unchanged, "group-ideology-3": "Left", "block_size": "20"}
    assert owner.post(f"/studio/{SLUG}/design", data=two).status_code == 302
    spec = _stored(studio_app, SLUG)
    assert spec.design.strata == {"left": [1, 2, 3], "right": [4, 5]}
    assert spec.design.block_size == 20
    misfit = owner.post(f"/studio/{SLUG}/design", data={**two, "block_size": "7"})
    assert misfit.status_code == 422
    text = unescape(misfit.get_data(as_text=True))
    assert "7 does not fit the arm weights" in text and "sum(weights)" not in text


def test_one_submission_of_the_design_page_sets_the_draw_the_question_and_its_groups(
    client_for, studio_app
):
    from tests.studio.conftest import SLUG

    owner = client_for("owner@example.org")
    before = _stored(studio_app, SLUG)
    # Start from a draw without blocking: nothing is grouped yet.
    complete = {"scheme": "complete", "block_by": "", "block_size": "10"}
    complete["seed"] = str(before.design.seed)
    assert owner.post(f"/studio/{SLUG}/design", data=complete).status_code == 302
    assert _stored(studio_app, SLUG).design.block_by is None
    page = unescape(owner.get(f"/studio/{SLUG}/design").get_data(as_text=True))
    # Every blocking question's answers can be grouped on the page as it is.
    assert 'id="strata-ideology"' in page and 'id="strata-age_group"' in page
    assert 'name="group-age_group-4"' in page and "Group of the answer “60 or older”" in page
    # One form: within groups, on age, with its answers grouped.
    blocked = {
        **complete,
        "scheme": "blocked",
        "block_by": "age_group",
        "group-age_group-1": "Under 45",
        "group-age_group-2": "Under 45",
        "group-age_group-3": "45 and over",
        "group-age_group-4": "45 and over",
        "group-ideology-1": "ignored: another question",
    }
    assert owner.post(f"/studio/{SLUG}/design", data=blocked).status_code == 302
    design = _stored(studio_app, SLUG).design
    assert (design.scheme, design.block_by) == ("blocked", "age_group")
    assert design.strata == {"under_45": [1, 2], "group_45_and_over": [3, 4]}


def test_plan_page_takes_the_target_and_the_power_page_fills_it_in(client_for, studio_app):
    from tests.studio.conftest import SLUG

    analyst = client_for("analyst@example.org")
    power = unescape(
        analyst.get(
            f"/studio/{SLUG}/power?effect=0.2&n_per_arm=400&attrition=20&alpha=0.05&correction=holm"
        ).get_data(as_text=True)
    )
    assert "allowing for 20% drop-out" in power and 'id="use-target"' in power
    needed = int(re.search(r'name="target_n" value="(\d+)"', power).group(1))
    recruit = int(re.search(r"To recruit</dt><dd>(\d+) participants", power).group(1))
    assert recruit == -(-needed // 0.8)  # 20% drop-out: needed / 0.8, rounded up
    assert 'What "d" and "power" mean' in power
    used = analyst.post(f"/studio/{SLUG}/plan/target", data={"target_n": str(needed)})
    assert used.status_code == 302 and used.headers["Location"].endswith("/plan#target_n")
    assert _stored(studio_app, SLUG).target_n == needed
    plan = unescape(analyst.get(f"/studio/{SLUG}/plan").get_data(as_text=True))
    assert f'value="{needed}"' in plan
    for words in ("(covariates)", "(moderators)", "(significance level, alpha)", "(Holm;"):
        assert words in plan
    # Outcomes are ticked by their wording, not only their id.
    assert "support: A proposed law would ban torture" in plan
    # A viewer sees the power result but no button that changes the study.
    viewer = client_for("viewer@example.org").get(f"/studio/{SLUG}/power?effect=0.2")
    assert 'id="use-target"' not in viewer.get_data(as_text=True)


def test_a_live_study_keeps_its_target_on_the_plan_page(client_for, studio_app):
    from framelab.web.database import db_session
    from tests.studio.conftest import NOW, SLUG

    with studio_app.app_context():
        approve(db_session(), SLUG, now=NOW)
        study_lifecycle.change_status(db_session(), SLUG, "live", now=NOW)
    analyst = client_for("analyst@example.org")
    before = _stored(studio_app, SLUG)
    refused = analyst.post(f"/studio/{SLUG}/plan/target", data={"target_n": "50"})
    assert refused.status_code == 302
    page = unescape(analyst.get(f"/studio/{SLUG}/plan").get_data(as_text=True))
    assert "only the owner may raise it" in page
    assert 'id="plan-locked"' in page and 'disabled id="target"' in page
    assert _stored(studio_app, SLUG).target_n == before.target_n
    owner = client_for("owner@example.org")
    design = unescape(owner.get(f"/studio/{SLUG}/design").get_data(as_text=True))
    assert 'id="design-locked"' in design and "<fieldset disabled>" in design
    assert 'value="Save design"' not in design


# ------------------------------------------------------------------ templates


def test_a_template_brings_structure_in_the_chosen_languages_and_no_campaign_identity():
    spec = study_drafts.spec_from_template("value-frames", "my-values", ["es", "en"], seed=11)
    assert spec.languages == ["es", "en"] and spec.default_language == "es"
    assert spec.completion is None and spec.target_n is None
    assert all(arm.label is None for arm in spec.arms)
    assert spec.design.seed == 11
    # Generic measures keep their translations; campaign texts are placeholders.
    assert spec.item("ideology").text.get("es").startswith("En política")
    assert spec.text(spec.arm("care").frame.body, "es").startswith("TO FILL")
    yaml_text = spec.to_yaml()
    for leftover in ("noexceptions", "C7XK2Q", "prolific", "torture", "Placebo (libraries)"):
        assert leftover.lower() not in yaml_text.lower(), leftover
    assert load_study(yaml_text).content_hash() == spec.content_hash()
    # A language the template does not have gets its default-language text, flagged as
    # not translated by the confound check (here: the control's generic choice labels).
    swahili = study_drafts.spec_from_template(
        "factorial-messenger", "my-fact", ["en", "sw"], seed=2
    )
    assert swahili.item("attn_colour").options[0].label.get("sw") == "Red"
    # Unseeded: a fresh seed per study, never the template's.
    seeds = {
        study_drafts.spec_from_template("blank", "x-study", ["en"]).design.seed for _ in range(3)
    }
    assert 1 not in seeds and len(seeds) == 3
    with pytest.raises(StudyError) as info:
        study_drafts.spec_from_template("torture-ban", "x-study", ["en"])
    assert info.value.errors == [
        (
            "template",
            "'torture-ban' is not a template (known: blank, factorial-messenger, follow-up-waves, value-frames)",
        )
    ]


def test_the_new_study_page_asks_for_languages_and_names_the_main_one(client_for, studio_app):
    client = client_for("owner@example.org")
    none = client.post(
        "/studio/new",
        data={"tpl-template": "blank", "tpl-slug": "no-langs", "tpl-submit": "Create study"},
    )
    assert none.status_code == 422
    assert "tick at least one language" in unescape(none.get_data(as_text=True))
    made = client.post(
        "/studio/new",
        data={
            "tpl-template": "blank",
            "tpl-languages": ["en", "es"],
            "tpl-other_languages": "sw",
            "tpl-default_language": "es",
            "tpl-slug": "three-langs",
            "tpl-submit": "Create study",
        },
    )
    assert made.status_code == 302
    spec = _stored(studio_app, "three-langs")
    assert spec.languages == ["es", "en", "sw"] and spec.default_language == "es"


def test_saving_the_plan_page_unchanged_keeps_the_hash(client_for, studio_app):
    from tests.studio.conftest import SLUG

    analyst = client_for("analyst@example.org")
    before = _stored(studio_app, SLUG)
    plan = before.analysis
    form = {
        "primary": plan.primary,
        "secondary": plan.secondary,
        "covariates": plan.covariates,
        "moderators": plan.moderators,
        "alpha": str(plan.alpha),
        "correction": plan.correction,
        "exclude": list(plan.exclude),
        "target_n": str(before.target_n),
    }
    assert analyst.post(f"/studio/{SLUG}/plan", data=form).status_code == 302
    assert _stored(studio_app, SLUG).content_hash() == before.content_hash()
    assert analyst.post(f"/studio/{SLUG}/plan", data={**form, "target_n": ""}).status_code == 302
    assert _stored(studio_app, SLUG).target_n is None
