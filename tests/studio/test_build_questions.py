"""The question and scale editors: pure edits (framelab.domain.builder.build_questions,
build_scales) and the same through the studio pages as a campaigner would use them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import MultiDict

from framelab.domain.builder import build_question_edit as bqe
from framelab.domain.builder import build_questions as bq
from framelab.domain.builder import build_scales as bs
from framelab.domain.builder.editing import edit_design
from framelab.domain.builder.label_presets import PRESETS, matching_preset, sibling
from framelab.domain.builder.question_types import change_type
from framelab.domain.study import StudyError, load_study
from framelab.services import study_drafts, study_lifecycle
from framelab.services.study_versions import get_study
from framelab.web.database import db_session
from tests.factories import approve, make_study, study_data
from tests.studio.conftest import SLUG

T0 = datetime(2026, 11, 26, tzinfo=UTC)
SHIPPED = ("en", "es", "fr", "ar", "pt", "tr")


def english_study():
    """The example cut down to English only, as a one-language campaign writes it."""
    data = study_data()

    def english(node):
        if isinstance(node, dict):
            if node and set(node) <= {"en", "es", "fr", "ar"} and "en" in node:
                return node["en"]
            return {k: english(v) for k, v in node.items()}
        if isinstance(node, list):
            return [english(v) for v in node]
        return node

    data = english(data)
    data["languages"] = ["en"]
    return load_study(json.dumps(data))


def same_texts(spec, localized):
    return {lang: localized.get(lang, spec.default_language) for lang in spec.languages}


def unchanged_edit(spec, item) -> bqe.ItemEdit:
    """What the edit form submits when nothing is touched."""
    edit = bqe.ItemEdit(
        texts=same_texts(spec, item.text),
        phase=bq.ui_phase(item),
        role=bq.ui_role(item),
        required=item.required,
        value=item.value,
        desired=item.desired or "increase",
        correct=item.correct,
    )
    if item.label is not None:
        edit.label = same_texts(spec, item.label)
    if item.type == "likert":
        edit.points = item.points
        edit.preset = matching_preset(item, spec.languages, spec.default_language) or (
            "none" if item.labels is None else ""
        )
        if item.labels is not None:
            edit.labels = {
                lang: "\n".join(item.labels.get(lang, spec.default_language))
                for lang in spec.languages
            }
    elif item.type == "choice":
        edit.option_labels = {o.value: same_texts(spec, o.label) for o in item.options}
    elif item.type == "slider":
        edit.min_label = same_texts(spec, item.min_label) if item.min_label else {}
        edit.max_label = same_texts(spec, item.max_label) if item.max_label else {}
    elif item.type == "binary":
        edit.yes_label = same_texts(spec, item.yes_label) if item.yes_label else {}
        edit.no_label = same_texts(spec, item.no_label) if item.no_label else {}
    else:
        edit.max_length = item.max_length
    return edit


# ------------------------------------------------------------------ presets


def test_every_preset_has_its_points_in_every_shipped_language_and_names_its_source():
    assert {"agree_5", "agree_7", "oppose_support_7", "likelihood_5"} <= set(PRESETS)
    for preset in PRESETS.values():
        assert preset.points in (5, 7), preset.key
        assert set(SHIPPED) <= set(preset.labels), preset.key
        for lang in SHIPPED:
            words = preset.labels[lang]
            assert len(words) == preset.points and len(set(words)) == preset.points, (
                preset.key,
                lang,
            )
        assert "Vagias" in preset.source or "American National Election Studies" in preset.source
    assert PRESETS["agree_7"].labels["en"][3] == "Neither agree nor disagree"
    assert PRESETS["oppose_support_7"].labels["en"][-1] == "Strongly support"
    assert sibling("agree_5", 7) == "agree_7" and sibling("likelihood_5", 7) is None
    # Regional variants use their language's wording; a language no preset has is named.
    assert PRESETS["agree_5"].labels_for(["pt-BR"])["pt-BR"][0] == "Discordo totalmente"
    with pytest.raises(StudyError, match=r"labels\.sw: the preset .* has no wording in 'sw'"):
        PRESETS["agree_5"].labels_for(["en", "sw"])


def test_the_example_support_question_is_recognised_as_the_oppose_support_preset():
    spec = make_study()
    assert matching_preset(spec.item("support"), spec.languages, "en") == "oppose_support_7"
    assert matching_preset(spec.item("care_1"), spec.languages, "en") is None


# ------------------------------------------------------------------ pure edits


def test_a_blocking_pre_question_a_support_outcome_and_a_yes_no_petition_are_added_whole():
    spec = english_study()
    spec = bq.add_item(
        spec,
        bq.NewQuestion(
            texts={"en": "Where do you live?"},
            type="choice",
            phase="pre",
            role="covariate",
            options={"en": "A city\r\nA town\n\nThe countryside\n"},
        ),
    )
    region = spec.items[-1]
    assert region.id == "where_live"
    assert region.phase == ["pre"] and region.role == "covariate"
    assert [(o.value, o.label.get("en")) for o in region.options] == [
        (1, "A city"),
        (2, "A town"),
        (3, "The countryside"),
    ]
    assert region.text.is_plain  # an English-only study keeps plain texts
    spec = bq.add_item(
        spec,
        bq.NewQuestion(
            texts={"en": "How much do you support a ban on new coal plants?"},
            type="likert",
            phase="both",
            role="outcome",
            preset="oppose_support_7",
        ),
    )
    support = spec.items[-1]
    assert (support.id, support.points, support.phase) == (
        "support_ban_new",
        7,
        ["pre", "post"],
    )
    assert support.labels.get("en") == list(PRESETS["oppose_support_7"].labels["en"])
    spec = bq.add_item(
        spec,
        bq.NewQuestion(
            texts={"en": "Will you sign our petition?"},
            type="binary",
            phase="post",
            role="intent",
            item_id="petition",
            desired="increase",
        ),
    )
    petition = spec.item("petition")
    assert (petition.type, petition.role, petition.desired) == ("binary", "intent", None)
    blocked = edit_design(
        spec,
        {"scheme": "blocked", "block_by": "where_live", "block_size": None},
        {a.id: 1 for a in spec.arms},
    )
    assert blocked.strata() == ["1", "2", "3"]
    assert load_study(blocked.to_yaml()).content_hash() == blocked.content_hash()


def test_a_new_question_in_a_four_language_study_needs_each_language_and_fills_presets():
    spec = make_study()
    texts = {"en": "Q?", "es": "¿P?", "fr": "Q ?", "ar": "س؟"}
    added = bq.add_item(
        spec,
        bq.NewQuestion(texts=texts, type="likert", phase="post", role="outcome", preset="agree_7"),
    )
    item = added.items[-1]
    assert item.labels.get("ar") == list(PRESETS["agree_7"].labels["ar"])
    assert item.text.get("fr") == "Q ?"
    with pytest.raises(StudyError) as info:
        bq.add_item(
            spec,
            bq.NewQuestion(
                texts={**texts, "es": ""},
                type="choice",
                phase="pre",
                role="covariate",
                options={"en": "a\nb", "es": "a", "fr": "a\nb", "ar": "a\nb"},
            ),
        )
    assert info.value.errors[0][0] == f"items[{len(spec.items)}].options.es"
    with pytest.raises(StudyError) as info:
        bq.add_item(
            spec, bq.NewQuestion(texts=texts, type="likert", phase="pre", role="value_item")
        )
    assert info.value.errors == [
        (f"items[{len(spec.items)}].value", "a value-scale item needs the value it measures")
    ]


def test_moving_swaps_with_the_neighbour_in_the_same_phase_and_stops_at_the_ends():
    spec = make_study()
    post = [i.id for i in spec.items_for("post")]
    assert post[:2] == ["support", "manip_value"]
    moved = bq.move_item(spec, "manip_value", "up", "post")
    assert [i.id for i in moved.items_for("post")][:2] == ["manip_value", "support"]
    # `support` is asked before too: in the pre list it now sits where manip_value was.
    assert [i.id for i in moved.items_for("pre")] == [i.id for i in spec.items_for("pre")]
    assert bq.move_item(spec, "ideology", "up", "pre") is spec
    assert bq.move_item(spec, "comment", "down", "post") is spec
    with pytest.raises(StudyError, match="'comment' is not asked in the pre phase"):
        bq.move_item(spec, "comment", "up", "pre")
    down = bq.move_item(spec, "ideology", "down")
    assert [i.id for i in down.items][:2] == ["age_group", "ideology"]


def test_changing_the_type_carries_answers_over_where_they_fit():
    spec = make_study()
    as_choice = change_type(spec, "support", "choice")
    options = as_choice.item("support").options
    assert [o.value for o in options] == list(range(1, 8))
    assert options[0].label.get("es") == "Me opongo totalmente"
    back = change_type(as_choice, "support", "likert")
    assert back.item("support").labels == spec.item("support").labels
    assert back.content_hash() == spec.content_hash()
    # Four age groups do not fit a 5- or 7-point scale: it starts from agree-disagree.
    age = change_type(spec, "age_group", "likert").item("age_group")
    assert age.points == 5 and age.labels.get("fr")[0] == "Pas du tout d'accord"
    preset = change_type(spec, "join_sms", "likert", "likelihood_5").item("join_sms")
    assert preset.labels.get("en")[-1] == "Very probable" and preset.yes_label is None
    with pytest.raises(StudyError) as info:
        change_type(spec, "support", "text")
    locations = [loc for loc, _ in info.value.errors]
    assert f"items[{spec.items.index(spec.item('support'))}].role" in locations


def test_removing_a_used_question_names_every_use_and_can_remove_them_too():
    spec = make_study()
    with pytest.raises(StudyError) as info:
        bq.remove_item(spec, "ideology")
    ((loc, message),) = info.value.errors
    assert loc == "items[0]"
    assert "design.block_by" in message and "analysis.covariates[0]" in message
    assert "analysis.moderators[0]" in message and "left, centre, right" in message
    dropped = bq.remove_item(spec, "ideology", drop_references=True)
    assert "ideology" not in [i.id for i in dropped.items]
    assert (dropped.design.scheme, dropped.design.block_by, dropped.design.strata) == (
        "complete",
        None,
        None,
    )
    assert "ideology" not in dropped.analysis.covariates + dropped.analysis.moderators
    # A scale left with one item goes too, and with it the plan's mentions of the scale.
    no_care = bq.remove_item(spec, "care_1", drop_references=True)
    assert "care_values" not in [s.id for s in no_care.scales]
    assert "care_values" not in no_care.analysis.covariates
    with pytest.raises(StudyError, match="only primary outcome"):
        bq.remove_item(spec, "support", drop_references=True)
    free = bq.remove_item(spec, "comment")
    assert len(free.items) == len(spec.items) - 1


def test_removing_an_option_used_by_a_blocking_group_is_refused_unless_asked():
    spec = make_study()  # blocked on ideology: left [1, 2], centre [3], right [4, 5]
    edit = unchanged_edit(spec, spec.item("ideology"))
    assert bqe.edit_item(spec, "ideology", edit).content_hash() == spec.content_hash()
    age = spec.item("age_group")
    edit = unchanged_edit(spec, age)
    edit.remove_options = {4}
    edit.new_option = {"en": "60+", "es": "60+", "fr": "60 ans et +", "ar": "60+"}
    edited = bqe.edit_item(spec, "age_group", edit).item("age_group")
    assert [o.value for o in edited.options] == [1, 2, 3, 5]
    assert edited.options[-1].label.get("fr") == "60 ans et +"
    blocked = edit_design(
        spec,
        {"block_by": "age_group", "scheme": "blocked"},
        {a.id: 1 for a in spec.arms},
    )
    data = blocked.model_dump(mode="json")
    data["design"]["strata"] = {"young": [1, 2], "old": [3, 4]}
    blocked = load_study(json.dumps(data))
    edit = unchanged_edit(blocked, blocked.item("age_group"))
    edit.remove_options = {4}
    with pytest.raises(StudyError) as info:
        bqe.edit_item(blocked, "age_group", edit)
    ((loc, message),) = info.value.errors
    assert loc == f"items[{blocked.items.index(blocked.item('age_group'))}].options"
    assert "blocking group 'old'" in message and "design.strata.old" in message
    edit.drop_references = True
    dropped = bqe.edit_item(blocked, "age_group", edit)
    assert dropped.design.strata == {"young": [1, 2], "old": [3]}


def test_an_unchanged_edit_of_every_question_keeps_the_hash():
    for spec in (make_study(), english_study()):
        for item in spec.items:
            same = bqe.edit_item(spec, item.id, unchanged_edit(spec, item))
            assert same.content_hash() == spec.content_hash(), item.id


def test_roles_labels_and_direction_are_edited_as_the_form_says():
    spec = make_study()
    support = spec.item("support")
    edit = unchanged_edit(spec, support)
    edit.desired = "decrease"
    edit.preset = "favor_oppose_anes_7"
    edited = bqe.edit_item(spec, "support", edit).item("support")
    assert edited.desired == "decrease"
    assert edited.labels.get("en")[0] == "Oppose a great deal"
    edit = unchanged_edit(spec, support)
    edit.points = 5  # a preset follows the points: its 5-point sibling
    fewer = bqe.edit_item(spec, "support", edit).item("support")
    assert (fewer.points, fewer.labels.get("en")[2]) == (5, "Neutral")
    edit = unchanged_edit(spec, spec.item("care_1"))
    edit.points = 7  # typed labels do not: five labels for seven points is an error
    with pytest.raises(StudyError, match=r"labels\.en: expected 7 labels"):
        bqe.edit_item(spec, "care_1", edit)
    care = spec.item("care_2")
    edit = unchanged_edit(spec, care)
    assert edit.role == "value_item"
    edit.role = "attention_check"
    edit.correct = 4
    check = bqe.edit_item(spec, "care_2", edit).item("care_2")
    assert (check.role, check.correct, check.value) == ("attention_check", 4, "care")
    edit = unchanged_edit(spec, spec.item("ideology"))
    edit.role = "covariate"
    edit.preset = "agree_5"
    assert bqe.edit_item(spec, "ideology", edit).item("ideology").labels.get("es")[2] == (
        "Ni de acuerdo ni en desacuerdo"
    )
    edit.preset = "none"
    assert bqe.edit_item(spec, "ideology", edit).item("ideology").labels is None


def test_a_scale_is_built_by_ticking_items_with_reverse_coded_ones_ticked_separately():
    spec = make_study()
    built = bs.save_scale(spec, "harm_index", ["care_1"], ["liberty_2"], "care", new=True)
    scale = built.scale("harm_index")
    assert scale.items == ["care_1", "liberty_2"] and scale.value == "care"
    assert built.item("liberty_2").reverse and not built.item("care_1").reverse
    # Unticking the reverse box turns the item back; leaving every scale clears it.
    edited = bs.save_scale(built, "harm_index", ["care_1", "liberty_2"], [], "care")
    assert not edited.item("liberty_2").reverse
    with pytest.raises(StudyError, match="only agree/support scales"):
        bs.save_scale(spec, "care_values", ["care_1"], ["donate"], "care")
    with pytest.raises(StudyError) as info:
        bs.save_scale(spec, "mixed", ["care_1", "donate"], [], None, new=True)
    assert any(loc.startswith(f"scales[{len(spec.scales)}].items") for loc, _ in info.value.errors)
    scale = spec.scale("care_values")
    same = bs.save_scale(
        spec,
        "care_values",
        scale.items,
        [],
        scale.value,
        label=same_texts(spec, scale.label) if scale.label else None,
        desired="increase",
    )
    assert same.content_hash() == spec.content_hash()
    with pytest.raises(StudyError, match=r"analysis\.covariates\[2\]"):
        bs.remove_scale(spec, "care_values")
    assert "care_values" not in bs.remove_scale(spec, "care_values", True).analysis.moderators


# ------------------------------------------------------------------ through the studio


class FormReader(HTMLParser):
    """The values a browser would submit for each form of a page, left as they are."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._buffer = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action") or "", []))
        elif not self.forms:
            return
        fields = self.forms[-1][1] if self.forms else []
        if tag == "input" and "name" in a and a.get("type") != "submit":
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self._textarea, self._buffer = a["name"], ""
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value") or "", "selected" in a))

    def handle_data(self, data):
        if self._textarea is not None:
            self._buffer += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.forms[-1][1].append((self._textarea, self._buffer.removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, on in self._options if on] or [self._options[0][0]]
            self.forms[-1][1].append((self._select, chosen[0]))
            self._select = None


def page_forms(client, url) -> list[tuple[str, list[tuple[str, str]]]]:
    response = client.get(url)
    assert response.status_code == 200, url
    reader = FormReader()
    reader.feed(response.get_data(as_text=True))
    return reader.forms


def current(studio_app):
    with studio_app.app_context():
        return get_study(db_session(), SLUG)


def test_every_unchanged_question_and_scale_form_saves_without_changing_the_hash(
    studio_app, client_for
):
    client = client_for("editor@example.org")
    before = current(studio_app).spec_hash
    spec = current(studio_app).spec
    urls = [f"/studio/{SLUG}/questions/{i.id}" for i in spec.items]
    urls += [f"/studio/{SLUG}/scales/{s.id}" for s in spec.scales]
    for url in urls:
        forms = page_forms(client, url)
        (fields,) = [f for action, f in forms if action in ("", url)]
        response = client.post(url, data=MultiDict([*fields, ("save", "Save")]))
        assert response.status_code == 302, (url, response.get_data(as_text=True)[-2000:])
        assert current(studio_app).spec_hash == before, url


def _add(client, **fields):
    data = {"type": "likert", "phase": "post", "role": "outcome", "preset": "", "required": "y"}
    data.update(fields)
    return client.post(f"/studio/{SLUG}/questions", data=data)


def _texts(prefix, text):
    return {f"{prefix}_{lang}": text for lang in ("en", "es", "fr", "ar")}


def test_a_campaigner_builds_the_questions_of_a_study_through_the_forms(studio_app, client_for):
    client = client_for("editor@example.org")
    added = _add(
        client,
        type="choice",
        phase="pre",
        role="covariate",
        item_id="region",
        **_texts("text", "Where do you live?"),
        **_texts("options", "City\nTown\nCountryside"),
    )
    assert added.status_code == 302
    added = _add(
        client,
        preset="oppose_support_7",
        phase="both",
        item_id="coal_support",
        **_texts("text", "Do you support closing coal plants?"),
    )
    assert added.status_code == 302
    added = _add(
        client,
        type="binary",
        role="intent",
        item_id="petition",
        **_texts("text", "Will you sign the petition?"),
    )
    assert added.headers["Location"].endswith(f"/studio/{SLUG}/questions#q-petition")
    spec = current(studio_app).spec
    assert spec.item("region").options[2].label.get("ar") == "Countryside"
    assert spec.item("coal_support").labels.get("fr")[0] == "Très opposé"
    assert spec.item("petition").type == "binary"
    page = client.get(f"/studio/{SLUG}/questions").get_data(as_text=True)
    assert page.index('id="q-region"') < page.index('id="heading-post"')
    assert 'id="q-petition"' in page and 'id="q-coal_support-post"' in page

    # An error is shown next to its field and nothing is saved.
    refused = _add(client, item_id="Bad Name", **_texts("text", "Q?"))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="item_id-error"' in html and "expected an identifier" in html
    assert "bad_name" not in [i.id for i in current(studio_app).spec.items]

    # Reorder: the petition moves above join_sms in the after-the-message list.
    post = [i.id for i in current(studio_app).spec.items_for("post")]
    for _ in range(post.index("petition")):
        moved = client.post(
            f"/studio/{SLUG}/questions/petition/move", data={"direction": "up", "phase": "post"}
        )
        assert moved.status_code == 302
    assert current(studio_app).spec.items_for("post")[0].id == "petition"

    # Change a type: the region question becomes a yes/no question, then a 5-point scale.
    changed = client.post(
        f"/studio/{SLUG}/questions/donate/type",
        data={"new_type": "likert", "type_preset": "likelihood_5"},
    )
    assert changed.status_code == 302
    donate = current(studio_app).spec.item("donate")
    assert (donate.type, donate.points, donate.labels.get("en")[0]) == ("likert", 5, "Not probable")
    bad = client.post(f"/studio/{SLUG}/questions/support/type", data={"new_type": "text"})
    assert bad.status_code == 422
    assert "a text item cannot have role outcome" in bad.get_data(as_text=True)

    # Block on the region question (the design page's job), then try removing it.
    with studio_app.app_context():
        session = db_session()
        spec = current(studio_app).spec
        data = spec.model_dump(mode="json")
        data["design"].update(block_by="region", strata={"urban": [1, 2], "rural": [3]})
        study_drafts.update_study(session, SLUG, load_study(json.dumps(data)), now=T0)
    confirm = client.get(f"/studio/{SLUG}/questions/region/remove").get_data(as_text=True)
    assert "the design blocks participants on its answers and its groups (rural, urban)" in confirm
    refused = client.post(f"/studio/{SLUG}/questions/region/remove", data={"confirm": "yes"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "The question &#39;region&#39; is used elsewhere" in text
    assert "<code>design.block_by</code>" in text
    assert "region" in [i.id for i in current(studio_app).spec.items]
    # Removing an option of a group is refused on the question page the same way.
    forms = page_forms(client, f"/studio/{SLUG}/questions/region")
    (fields,) = [f for action, f in forms if action == ""]
    response = client.post(
        f"/studio/{SLUG}/questions/region",
        data=MultiDict([*fields, ("remove_3", "y"), ("save", "Save")]),
    )
    assert response.status_code == 422
    assert "blocking group &#39;rural&#39;" in response.get_data(as_text=True)

    # A scale by ticking, one question reverse-coded.
    built = client.post(
        f"/studio/{SLUG}/scales",
        data={
            "scale_id": "harm",
            "members": ["care_1", "care_2"],
            "reverse": ["liberty_1"],
            "value": "care",
        },
    )
    assert built.status_code == 302
    spec = current(studio_app).spec
    assert spec.scale("harm").items == ["care_1", "liberty_1", "care_2"]
    assert spec.item("liberty_1").reverse

    # The study the forms built is the same study when read back from its file.
    loaded = load_study(client.get(f"/studio/{SLUG}/study.yaml").get_data(as_text=True))
    assert loaded.content_hash() == current(studio_app).spec_hash


def test_a_live_study_shows_its_questions_read_only_and_refuses_changes(studio_app, client_for):
    owner = client_for("owner@example.org")
    with studio_app.app_context():
        approve(db_session(), SLUG, now=T0)
        study_lifecycle.change_status(db_session(), SLUG, "live", now=T0)
    before = current(studio_app).spec_hash
    for url in ("questions", "questions/support", "scales", "scales/care_values"):
        html = owner.get(f"/studio/{SLUG}/{url}").get_data(as_text=True)
        assert "locked because the study has gone live" in html, url
        assert re.search(r'<fieldset class="plain" disabled>', html), url
    response = _add(owner, **_texts("text", "Late question?"))
    assert response.status_code == 422
    assert "Create a new version to change them" in response.get_data(as_text=True)
    assert current(studio_app).spec_hash == before


def test_the_old_items_address_leads_to_the_question_editor(client_for):
    response = client_for("editor@example.org").get(f"/studio/{SLUG}/items")
    assert response.status_code in (301, 302, 308)
    assert response.headers["Location"].endswith(f"/studio/{SLUG}/questions")


def test_editor_pages_tie_every_label_and_description_to_an_element_and_repeat_no_id(
    client_for,
):
    client = client_for("editor@example.org")
    urls = ["questions", "scales", "scales/care_values", "scales/care_values/remove"]
    urls += [f"questions/{i.id}" for i in make_study().items] + ["questions/support/remove"]
    for url in urls:
        html = client.get(f"/studio/{SLUG}/{url}").get_data(as_text=True)
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), (url, sorted(i for i in ids if ids.count(i) > 1))
        targets = set(re.findall(r'\sfor="([^"]+)"', html))
        targets |= {x for s in re.findall(r'aria-describedby="([^"]+)"', html) for x in s.split()}
        assert targets <= set(ids), (url, targets - set(ids))
        # Every radio button and checkbox group sits in a fieldset with a legend.
        assert html.count("<fieldset") == html.count("<legend"), url


def test_saving_unchanged_scales_keeps_member_order_and_unrelated_reverse_flags():
    data = study_data()
    data["scales"][0]["items"] = ["care_2", "care_1"]  # not in question order
    data["items"][2]["labels"] = {  # care_1, one label written with spaces around it
        **data["items"][2]["labels"],
        "en": [" Strongly disagree ", *data["items"][2]["labels"]["en"][1:]],
    }
    for item in data["items"]:
        if item["id"] == "equality_1":
            item["reverse"] = True  # set in the file although its scale does not need it
    spec = load_study(json.dumps(data))
    same = bs.save_scale(spec, "care_values", ["care_1", "care_2"], [], "care")
    assert same.scale("care_values").items == ["care_2", "care_1"]
    assert same.item("equality_1").reverse
    assert same.content_hash() == spec.content_hash()
    care_1 = spec.item("care_1")
    kept = bqe.edit_item(spec, "care_1", unchanged_edit(spec, care_1))
    assert kept.content_hash() == spec.content_hash()
    # Leaving its last scale through the editor clears an item's reverse flag.
    flipped = bs.save_scale(spec, "care_values", ["care_1"], ["care_2"], "care")
    assert flipped.item("care_2").reverse
    dropped = bs.save_scale(flipped, "care_values", ["care_1", "care_2"], [], "care")
    assert not dropped.item("care_2").reverse
    gone = bs.remove_scale(flipped, "care_values", drop_references=True)
    assert not gone.item("care_2").reverse and gone.item("equality_1").reverse


def test_texts_written_in_the_question_editor_leave_the_untranslated_list():
    from framelab.domain.builder.build_languages import add_language

    spec = add_language(make_study(), "pt")  # every pt text a copy of English, listed
    support = spec.item("support")
    assert "items.support.text" in spec.translation.untranslated["pt"]
    same = bqe.edit_item(spec, "support", unchanged_edit(spec, support))
    assert same.content_hash() == spec.content_hash()
    edit = unchanged_edit(spec, support)
    edit.texts["pt"] = "Você apoia ou se opõe a esta lei?"
    edit.preset = "oppose_support_7"  # the preset's Portuguese labels replace the copies
    edited = bqe.edit_item(spec, "support", edit)
    left = edited.translation.untranslated["pt"]
    assert not [k for k in left if k.startswith(("items.support.text", "items.support.labels"))]
    assert "items.support.label" in left and "items.care_1.text" in left
    assert edited.item("support").labels.get("pt")[0] == "Sou totalmente contra"


def test_renaming_a_question_carries_its_uses_along():
    from framelab.domain.builder.build_languages import add_language

    spec = add_language(make_study(), "pt")
    renamed = bq.rename_item(spec, "ideology", "left_right")
    assert renamed.design.block_by == "left_right"
    assert renamed.analysis.covariates[0] == renamed.analysis.moderators[0] == "left_right"
    assert "items.left_right.text" in renamed.translation.untranslated["pt"]
    assert not [k for k in renamed.translation.untranslated["pt"] if ".ideology." in k]
    assert bq.rename_item(renamed, "care_1", "care_one").scale("care_values").items == [
        "care_one",
        "care_2",
    ]
    with pytest.raises(StudyError, match=r"items\[1\]\.id: 'support' is already"):
        bq.rename_item(spec, "age_group", "support")
    with pytest.raises(StudyError, match=r"items\[1\]\.id: expected an identifier"):
        bq.rename_item(spec, "age_group", "Age group")


def test_the_edit_form_renames_a_question(studio_app, client_for):
    client = client_for("editor@example.org")
    url = f"/studio/{SLUG}/questions/ideology"
    (fields,) = [f for action, f in page_forms(client, url) if action == ""]
    data = MultiDict([(k, "left_right" if k == "item_id" else v) for k, v in fields])
    response = client.post(url, data=data)
    assert response.headers["Location"].endswith("/questions#q-left_right")
    spec = current(studio_app).spec
    assert spec.items[0].id == "left_right" and spec.design.block_by == "left_right"


def test_every_question_form_needs_its_csrf_token(tmp_path, studio_template):
    from tests.studio.conftest import build_app, copy_database, sign_in

    app = build_app(copy_database(studio_template, tmp_path / "c.sqlite"), WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        sign_in(client, app, "editor@example.org")
        move = f"/studio/{SLUG}/questions/manip_value/move"
        assert client.post(move, data={"direction": "up", "phase": "post"}).status_code == 400
        html = client.get(f"/studio/{SLUG}/questions").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        done = client.post(move, data={"direction": "up", "phase": "post", "csrf_token": token})
        assert done.status_code == 302
        with app.app_context():
            assert get_study(db_session(), SLUG).spec.items_for("post")[0].id == "manip_value"
    finally:
        app.extensions["framelab.engine"].dispose()
