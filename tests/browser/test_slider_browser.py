"""The slider in real Chromium (issue 17): no invented answer, one value per gesture in ar and en.

An untouched slider once stored 50, and in Arabic the slider's minimum sat on the right,
so ArrowRight lowered the value (48 stored in Arabic for the key presses that stored 52 in
English). The stored values are read from the export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pandas as pd
import pytest

from framelab.domain.study import study_from_data
from framelab.services.codebook import item_column
from framelab.services.export import export_tidy
from tests.browser.test_participant_browser import VIEWPORT, answer_items
from tests.factories import session_factory_for, study_data
from tests.support.live import serve
from tests.web.conftest import make_app

pytestmark = pytest.mark.browser


def _optional_slider_study():
    data = study_data(slug="slider-study")
    for item in data["items"]:
        if item["id"] == "donate":
            item["required"] = False
    return study_from_data(data)


SPEC = _optional_slider_study()
COLUMN = item_column("post", "donate")


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'slider.sqlite'}"
    app = make_app(url, studies=(SPEC,))
    with serve(app) as base:
        yield base, url


def to_intent_page(browser, base: str, lang: str):
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale=lang)
    page = context.new_page()
    page.goto(f"{base}/s/{SPEC.slug}?lang={lang}")
    page.click("button[name=consent][value=yes]")
    answer_items(page, "pre")
    page.click("form.page-form button[type=submit]")
    page.click("form.page-form button[type=submit]")  # the message
    answer_items(page, "post")
    page.click("form.page-form button[type=submit]")
    page.wait_for_load_state("load")
    answer_items(page, "intent", skip="donate")
    return context, page


def stored_values(url: str) -> list:
    with session_factory_for(url) as factory, factory() as session:
        return list(export_tidy(session, SPEC.slug)[COLUMN])


def test_the_same_key_presses_store_the_same_value_in_arabic_and_english(browser, served):
    base, url = served
    for lang in ("en", "ar"):
        context, page = to_intent_page(browser, base, lang)
        try:
            slider = page.locator("input[type=range]#q-donate-1")
            assert slider.count() == 1
            assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
            # The end labels are part of the slider's accessible name.
            min_label, max_label = (
                page.inner_text("#min-donate").strip(),
                page.inner_text("#max-donate").strip(),
            )
            named = page.get_by_role(
                "slider", name=re.compile(re.escape(min_label) + ".*" + re.escape(max_label))
            )
            assert named.count() == 1
            slider.focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowLeft")
            assert page.inner_text(".scale output") == "52"
            page.click("form.page-form button[type=submit]")
            page.wait_for_selector(".completion")
        finally:
            context.close()
    assert stored_values(url) == [52, 52]


def test_an_untouched_slider_sends_nothing_and_is_exported_as_missing(browser, served):
    base, url = served
    context, page = to_intent_page(browser, base, "en")
    try:
        assert page.inner_text(".scale output") == "–"  # no answer shown as given
        page.click("form.page-form button[type=submit]")
        page.wait_for_selector(".completion")
    finally:
        context.close()
    values = stored_values(url)
    assert len(values) == 1 and pd.isna(values[0])


def test_a_tap_on_an_untouched_slider_is_an_answer_and_nothing_before_it(browser, served):
    base, _url = served
    context, page = to_intent_page(browser, base, "ar")
    try:
        sent = "e => e.form.elements.donate.value"
        assert page.locator("#q-donate-1").evaluate(sent) == ""
        # A tap on the slider is an answer (the middle, if that is where it was tapped).
        page.locator("input[type=range]").click()
        value = page.locator("#q-donate-1").evaluate(sent)
        assert value != "" and 40 <= int(value) <= 60
        assert page.inner_text(".scale output") == value
    finally:
        context.close()
