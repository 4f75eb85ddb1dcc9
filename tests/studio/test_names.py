"""Campaigners read names, never ids: arms by label or place, texts in words (issue 14)."""

from __future__ import annotations

import re
from html import unescape

from framelab.domain.builder import build_frames as bf
from framelab.domain.builder import build_questions as bq
from framelab.domain.confounds import check_study
from framelab.domain.names import arm_name, arm_names, place_name, text_name
from framelab.domain.translation import text_units
from framelab.services import study_drafts, study_versions
from tests.factories import make_study


def blank(languages=("en",)):
    return study_drafts.spec_from_template("blank", "my-study", list(languages), seed=7)


def test_an_unlabelled_arm_is_named_by_its_role_and_place_and_a_label_wins():
    spec = bf.add_frame(bf.add_frame(blank()), names={"en": "Fairness"})
    assert spec.arm_ids == ["control", "frame_1", "frame_2", "fairness"]
    assert arm_names(spec) == {
        "control": "Control",
        "frame_1": "Frame 1",
        "frame_2": "Frame 2",
        "fairness": "Fairness",
    }
    # Names follow the order; ids stay where they were.
    moved = bf.move_arm(spec, "frame_2", -1)
    assert (arm_name(moved, "frame_2"), arm_name(moved, "frame_1")) == ("Frame 1", "Frame 2")
    assert place_name(moved, "fairness") == "Frame 3"
    # A label is read in the language asked for.
    torture = make_study()
    assert arm_name(torture, "care") == "Care (harm)"
    assert arm_name(torture, "care", "es") == "Cuidado (daño)"


def test_every_text_of_a_study_is_described_in_words_not_by_its_key():
    spec = make_study()
    names = {unit.key: text_name(spec, unit.key) for unit in text_units(spec)}
    assert names["title"] == "Study title"
    assert names["arms.care.frame.body"] == "Care (harm) – message body"
    assert names["arms.control.frame.title"] == "Placebo (libraries) – placebo title"
    assert names["arms.care.label"] == "Care (harm) – name"
    assert names["items.support.labels.3"] == "Question 'support' – answer 3"
    for key, words in names.items():
        assert words != key, f"{key} has no description"
        assert "." not in words.split("–")[-1], (key, words)
    new = bq.NewQuestion(
        texts={"en": "Where do you stand?"},
        type="choice",
        phase="pre",
        role="covariate",
        item_id="politics",
        options={"en": "Left\nCentre\nRight"},
    )
    politics = bq.add_item(blank(), new)
    assert text_name(politics, "items.politics.options.3.label") == "Question 'politics' – option 3"
    assert text_name(blank(), "arms.frame_1.frame.body") == "Frame 1 – message body"
    # Options are counted by their place, whatever value they store.
    data = politics.model_dump(mode="json")
    data["items"][-1]["options"] = [
        {"value": 10 * (n + 1), "label": o["label"]}
        for n, o in enumerate(data["items"][-1]["options"])
    ]
    tens = type(politics).model_validate(data)
    assert text_name(tens, "items.politics.options.30.label") == "Question 'politics' – option 3"
    assert text_name(tens, "no.such.key") == "no.such.key"


def test_confound_warnings_name_the_arms_as_people_read_them():
    spec = make_study()
    data = spec.model_dump(mode="json")
    care = data["arms"][spec.arm_ids.index("care")]
    care["frame"]["body"]["en"] = care["frame"]["body"]["en"] * 3
    del care["label"]
    longer = type(spec).model_validate(data)
    messages = [w.message for w in check_study(longer).warnings if w.language == "en"]
    assert any(m.startswith("Frame 1 (en) has") for m in messages), messages
    assert not any("'care'" in m for m in messages)


def _visible(html: str) -> str:
    """The text a person reads: tags, attributes and hidden spans left out."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_no_builder_page_shows_an_arm_id_that_has_no_label(client_for, studio_app):
    from framelab.web.database import db_session
    from tests.studio.conftest import SLUG

    owner = client_for("owner@example.org")
    # Remove the labels of two arms (every language empty): they are named by place.
    for arm in ("care", "control"):
        owner.post(
            f"/studio/{SLUG}/arms/{arm}/settings",
            data={f"label_{lang}": "" for lang in ("en", "es", "fr", "ar")} | {"save": "Save"},
        )
    with studio_app.app_context():
        spec = study_versions.get_study(db_session(), SLUG).spec
    assert spec.arm("care").label is None and arm_name(spec, "care") == "Frame 1"
    pages = [
        "",  # the overview lists the arms
        "frames",
        "frames/care",
        "arms/care/settings",
        "arms/care/remove",
        "preview",
        "preview/care/en/message",
    ]
    for page in pages:
        text = _visible(owner.get(f"/studio/{SLUG}/{page}").get_data(as_text=True))
        assert "Frame 1" in text, page
        assert not re.search(r"\bcare\b", text), page  # the unlabelled arm's id
    frames = owner.get(f"/studio/{SLUG}/frames").get_data(as_text=True)
    assert re.search(r"<h3>Frame 1</h3>", frames) and re.search(r"<h3>Control</h3>", frames)
    assert "Share of Frame 1" in frames and "Share of Control" in frames
    flash = owner.post(f"/studio/{SLUG}/arms/care/change", data={"op": "down"})
    assert flash.status_code == 302
    moved = unescape(owner.get(f"/studio/{SLUG}/frames").get_data(as_text=True))
    assert "Frame 1 moved down; it is now Frame 2." in moved
