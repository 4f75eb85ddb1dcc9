"""The Arabic flow in real Chromium (issue 17): screenshots, and no Latin interface text.

The issue saw "Step 5 of 6", "What would you do?" and "Continue" in English on the Arabic
slider page. Every page of the flow is photographed (test-artifacts) and its visible
text, less what may be Latin (the language switcher's names, codes and addresses), must
hold no Latin letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser.test_participant_browser import SPEC, VIEWPORT, answer_items
from tests.support.live import serve
from tests.web.conftest import make_app

pytestmark = pytest.mark.browser

LATIN = re.compile(r"[A-Za-z]+")
# What a page shows that may be Latin: language names, codes, addresses shown as text.
VISIBLE_INTERFACE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('.langs, .code, [translate="no"]').forEach(e => e.remove());
  body.querySelectorAll('a').forEach(a => {
    if (/^https?:\\/\\//.test(a.textContent.trim())) a.remove();
  });
  body.querySelectorAll('input, textarea').forEach(e => e.remove());
  return body.innerText;
}"""


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    app = make_app(f"sqlite:///{tmp_path / 'arabic.sqlite'}")
    with serve(app) as url:
        app.config["QUICK_EXIT_URL"] = f"{url}/withdraw"
        yield url


# Addresses in the study's own text (an e-mail address, a web address without a scheme).
ADDRESS = re.compile(r"\S+@\S+|\b[\w-]+(?:\.[\w-]+)+(?:/\S*)?")


def latin_words(page) -> list[str]:
    page.wait_for_load_state("load")
    return LATIN.findall(ADDRESS.sub(" ", page.evaluate(VISIBLE_INTERFACE_TEXT)))


def test_the_arabic_flow_shows_no_latin_interface_text(browser, live_server, artifacts_dir):
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale="en-US")
    page = context.new_page()
    found: dict[str, list[str]] = {}

    def look(name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"ar-{name}.png"), full_page=True)
        assert page.get_attribute("html", "lang") == "ar", name
        found[name] = latin_words(page)

    try:
        # The browser asks for English: the study language chosen is Arabic.
        page.goto(f"{live_server}/s/{SPEC.slug}?lang=ar")
        look("1-consent")
        page.click("button[name=consent][value=yes]")
        page.click("form.page-form button[type=submit]")  # nothing answered: errors
        look("2-pre-errors")
        answer_items(page, "pre")
        page.click("form.page-form button[type=submit]")
        look("3-message")
        page.click("form.page-form button[type=submit]")
        look("4-post")
        answer_items(page, "post")
        page.click("form.page-form button[type=submit]")
        look("5-intent")
        answer_items(page, "intent")
        page.click("form.page-form button[type=submit]")
        look("6-debrief")
        assert page.locator(".participant-code").count() == 1
        page.click("form[action$='/p/withdraw'] button")
        look("7-withdraw-confirm")
        page.click("button[name=confirm]")
        look("8-withdrawn")
        page.goto(f"{live_server}/s/no-such-study?lang=ar")
        look("9-not-found")
    finally:
        context.close()
    assert len(found) == 9
    assert {name: words for name, words in found.items() if words} == {}
