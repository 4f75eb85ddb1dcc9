"""Form values -> study spec (framelab.domain.builder.editing) and saving unchanged forms on live studies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from framelab.domain.builder import editing
from framelab.domain.study import StudyError
from framelab.services import study_lifecycle
from framelab.services.study_versions import get_study
from framelab.web.studio.forms import place_errors
from tests.factories import approve, make_study
from tests.studio.conftest import SLUG

T0 = datetime(2026, 11, 25, tzinfo=UTC)


def test_a_plain_string_stays_plain_so_an_unchanged_form_keeps_the_hash():
    assert editing.localized_data("Hello", {"en": "Hello"}, "en") == "Hello"
    assert editing.localized_data(
        {"en": "Hi", "es": "Hola"}, {"en": "Hi ", "es": "Hola\r\n"}, "en"
    ) == {"en": "Hi", "es": "Hola"}
    # A browser may drop the block scalar's final newline: the original text is kept.
    assert editing.localized_data("Body\n", {"en": "Body\r\n"}, "en") == "Body\n"
    assert editing.localized_data("Body\n", {"en": " New body "}, "en") == "New body"
    spec = make_study()
    index = spec.arm_ids.index("care")
    frame = spec.arms[index].frame
    same = editing.edit_frame(
        spec,
        index,
        {lang: frame.title.get(lang) for lang in spec.languages},
        {lang: frame.body.get(lang) for lang in spec.languages},
        frame.values,
    )
    assert same.content_hash() == spec.content_hash()


def test_design_weights_of_one_are_dropped_and_other_weights_kept():
    spec = make_study()
    weights = {arm.id: 1 for arm in spec.arms}
    unchanged = editing.edit_design(spec, {"scheme": "blocked", "seed": spec.design.seed}, weights)
    assert unchanged.design.weights is None
    assert unchanged.content_hash() == spec.content_hash()
    weights["control"] = 2
    heavier = editing.edit_design(spec, {"scheme": "complete", "block_size": 6}, weights)
    assert heavier.design.weights["control"] == 2
    assert heavier.design.block_by is None and heavier.design.strata is None


def test_a_block_size_that_does_not_fit_the_weights_is_placed_on_the_block_size_field():
    spec = make_study()
    with pytest.raises(StudyError) as info:
        editing.edit_design(
            spec, {"scheme": "complete", "block_size": 7}, {a.id: 1 for a in spec.arms}
        )
    by_field, rest = place_errors(info.value.errors, {"design.block_size": "block_size"})
    assert "block_size" in by_field and rest == []
    assert "multiple" in by_field["block_size"][0]


def test_plan_edits_are_validated_against_the_items():
    spec = make_study()
    plan = editing.edit_plan(spec, {"primary": ["support"], "correction": "bh", "alpha": 0.01})
    assert (plan.analysis.correction, plan.analysis.alpha) == ("bh", 0.01)
    with pytest.raises(StudyError, match=r"analysis\.covariates"):
        editing.edit_plan(spec, {"covariates": ["join_sms"]})


def test_place_errors_prefers_the_most_specific_field_and_keeps_the_rest():
    places = {
        "arms[1].frame.body": "body_en",
        "arms[1].frame.body.es": "body_es",
        "title": "title_en",
    }
    errors = [
        ("arms[1].frame.body.es", "missing text for language 'es'"),
        ("arms[1].frame.body", "expected text"),
        ("design.seed", "expected an integer"),
    ]
    by_field, rest = place_errors(errors, places)
    assert by_field == {"body_es": ["missing text for language 'es'"], "body_en": ["expected text"]}
    assert rest == [("design.seed", "expected an integer")]


def _form_values(html: str) -> dict[str, str]:
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    values.update(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>', html, re.S))
    return {k: unescape(v) for k, v in values.items()}


def test_saving_unchanged_texts_on_a_live_study_is_accepted_and_changes_nothing(
    studio_app, client_for
):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as session:
        approve(session, SLUG, now=T0)
        before = study_lifecycle.change_status(session, SLUG, "live", now=T0)
    client = client_for("editor@example.org")
    form = _form_values(client.get(f"/studio/{SLUG}/texts").get_data(as_text=True))
    response = client.post(f"/studio/{SLUG}/texts", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with studio_app.extensions[EXTENSION_KEY]() as session:
        assert get_study(session, SLUG).spec_hash == before.spec_hash
