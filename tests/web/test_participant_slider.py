"""A slider has no default answer (issue 17), and "(optional)" is never said twice.

A slider once posted 50 when nobody touched it, so "did not answer" and "chose 50" could
not be told apart. The page now sends an empty number field (the script makes it a
slider that sends nothing until moved): untouched is missing, or, when the question is
required, the page asks for an answer.
"""

from __future__ import annotations

import re

import pandas as pd

from framelab.domain.study import study_from_data
from framelab.services.codebook import item_column
from framelab.services.export import export_tidy
from tests.factories import make_study, session_factory_for, study_data, valid_answers
from tests.web.conftest import make_app
from tests.web.walker import Walker

SPEC = make_study()


def optional_slider_study():
    data = study_data(slug="optional-slider")
    for item in data["items"]:
        if item["id"] == "donate":
            item["required"] = False
    return study_from_data(data)


def intent_page(client, clock, spec=SPEC, lang="en") -> tuple[Walker, str]:
    walker = Walker(client, spec, clock)
    walker.consent(query=f"?lang={lang}")
    for step in ("pre", "message", "post"):
        assert walker.answer(step).status_code == 302
    walker.page()
    return walker, walker.last


def test_the_slider_page_offers_an_empty_field_with_the_end_labels_in_its_name(client, clock):
    _walker, html = intent_page(client, clock)
    field = re.search(r'<input type="number" id="q-donate-1"[^>]*>', html)[0]
    assert 'value=""' in field and 'name="donate"' in field
    assert 'min="0"' in field and 'max="100"' in field
    assert 'type="range"' not in html  # a range input always sends a value
    labelled_by = re.search(r'aria-labelledby="([^"]+)"', field)[1].split()
    assert labelled_by == ["label-donate", "min-donate", "max-donate"]
    for ident, label in (("min-donate", "Not at all likely"), ("max-donate", "Extremely likely")):
        assert re.search(rf'id="{ident}">.*?{label}', html), ident
    # The scale reads left to right in every language: one key press, one value.
    assert '<div class="scale" dir="ltr">' in html


def test_an_untouched_required_slider_asks_for_an_answer_instead_of_storing_one(client, clock):
    walker, html = intent_page(client, clock)
    assert "Please answer every question not marked optional." in html
    answers = valid_answers(SPEC, "intent") | {"donate": ""}
    response = walker.post("intent", answers)
    assert response.status_code == 200
    assert 'id="err-donate"' in walker.last and "Please answer this question." in walker.last


def test_an_untouched_optional_slider_is_exported_as_missing_and_a_chosen_50_as_50(tmp_path, clock):
    spec = optional_slider_study()
    url = f"sqlite:///{tmp_path / 'slider.sqlite'}"
    app = make_app(url, clock=clock, studies=(spec,))
    try:
        for donate in ("", "50"):
            walker, _html = intent_page(app.test_client(), clock, spec)
            clock.advance(20)
            answers = valid_answers(spec, "intent") | {"donate": donate}
            assert walker.post("intent", answers).status_code == 302
        with session_factory_for(url) as factory, factory() as session:
            tidy = export_tidy(session, spec.slug)
    finally:
        app.extensions["framelab.engine"].dispose()
    column = item_column("post", "donate")
    values = list(tidy[column])
    assert len(values) == 2
    assert pd.isna(values[0])  # untouched: missing, not 50
    assert values[1] == 50


def test_optional_is_not_said_twice_when_the_question_already_says_so(client, clock):
    walker = Walker(client, SPEC, clock)
    walker.consent()
    for step in ("pre", "message"):
        assert walker.answer(step).status_code == 302
    walker.page()
    html = walker.last
    assert "Is there anything else you would like to tell us? (optional)" in html
    assert "(optional) <span" not in html
    assert '<span class="optional">' not in html.split('id="q-comment"')[1].split("</label>")[0]


def test_an_optional_question_whose_text_does_not_say_so_is_marked(tmp_path, clock):
    data = study_data(slug="marked-optional")
    for item in data["items"]:
        if item["id"] == "comment":
            item["text"] = {lang: text.replace(" (optional)", "").replace(" (opcional)", "")
                            .replace(" (facultatif)", "").replace(" (اختياري)", "")
                            for lang, text in item["text"].items()}  # fmt: skip
    spec = study_from_data(data)
    app = make_app(f"sqlite:///{tmp_path / 'marked.sqlite'}", clock=clock, studies=(spec,))
    try:
        walker = Walker(app.test_client(), spec, clock)
        walker.consent()
        for step in ("pre", "message"):
            assert walker.answer(step).status_code == 302
        walker.page()
        label = walker.last.split('id="q-comment"')[1].split("</label>")[0]
        assert (
            label.count("(optional)") == 1 and '<span class="optional">(optional)</span>' in label
        )
    finally:
        app.extensions["framelab.engine"].dispose()
