"""A participant's pages are in the participant's study language, whatever the browser says.

Issue 17 ("Wrong language, cached"): the slider's hint was translated before the page's
language was set, so Flask-Babel fixed the request's locale from Accept-Language, and the
page cache then served that first visitor's interface language to everyone after.
"""

from __future__ import annotations

import re

import pytest

from tests.factories import make_study, valid_answers
from tests.web.conftest import make_app
from tests.web.interface_text import catalog_strings, interface_msgids, interface_strings_in
from tests.web.walker import Walker, csrf_token, page_step

SPEC = make_study()
# Every page of the example study; the intent page carries the slider.
FLOW = ("consent", "pre", "message", "post", "intent", "debrief")


def english_strings(lang: str) -> set[str]:
    """The catalog's English strings that `lang`'s catalog words differently."""
    translated = catalog_strings(lang)
    return {m for m in interface_msgids() if translated.get(m) and translated[m] != m}


def walk(client, clock, lang: str, browser: str) -> dict[str, str]:
    """One participant in `lang` with a browser asking for `browser`: every page's HTML."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = browser
    walker = Walker(client, SPEC, clock)
    pages = {"consent": walker.open_link(f"?lang={lang}").get_data(as_text=True)}
    walker.consent(query=f"?lang={lang}")
    for step in FLOW[1:]:
        pages[step] = walker.page().get_data(as_text=True)
        assert page_step(pages[step]) == (None if step == "debrief" else step)
        if step != "debrief":
            clock.advance(20)
            response = walker.post(step, valid_answers(SPEC, step))
            assert response.status_code == 302, walker.last[:1000]
    return pages


@pytest.fixture
def fresh_app(tmp_path, clock):
    made = []

    def build(name: str = "app"):
        application = make_app(f"sqlite:///{tmp_path / name}.sqlite", clock=clock)
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["framelab.engine"].dispose()


@pytest.mark.parametrize(("lang", "browser"), [("ar", "en"), ("es", "en"), ("fr", "en-GB, en")])
def test_every_page_is_in_the_participant_language_not_the_browser_language(
    fresh_app, clock, lang, browser
):
    client = fresh_app().test_client()
    pages = walk(client, clock, lang, browser)
    wrong = english_strings(lang)
    for step, html in pages.items():
        assert f'<html lang="{lang}"' in html, step
        assert interface_strings_in(html, wrong) == [], step
    # The slider page is the one the issue saw in English: its hint and button are translated.
    ours = catalog_strings(lang)
    assert ours["Move the slider: 0 is the lowest, 100 the highest."] in pages["intent"]
    assert ours["What would you do?"] in pages["intent"]


@pytest.mark.parametrize("order", [("en", "ar"), ("ar", "en")])
def test_the_page_cache_does_not_pass_one_participant_interface_language_to_the_next(
    fresh_app, clock, order
):
    client_app = fresh_app()
    first, second = (walk(client_app.test_client(), clock, "ar", browser) for browser in order)
    wrong = english_strings("ar")
    for pages in (first, second):
        for step, html in pages.items():
            assert interface_strings_in(html, wrong) == [], step

    def same(html: str) -> str:
        # Everything but the participant's code and token is shared between participants.
        html = re.sub(r"/p/[A-Za-z0-9_-]+", "/p/CODE", html)
        html = html.replace(csrf_token(html), "TOKEN") if 'name="csrf_token"' in html else html
        return re.sub(r'<p class="code" lang="en">[^<]*</p>', "", html)

    for step in ("pre", "intent", "debrief"):
        assert same(first[step]) == same(second[step]), step


def test_arabic_and_spanish_participants_alternating_on_one_app_each_keep_their_language(
    fresh_app, clock
):
    app = fresh_app()
    runs = [("es", "ar"), ("ar", "es"), ("es", "en"), ("ar", "en")]
    for lang, browser in runs:
        pages = walk(app.test_client(), clock, lang, browser)
        for step, html in pages.items():
            assert interface_strings_in(html, english_strings(lang)) == [], (lang, browser, step)
            assert f'<html lang="{lang}"' in html
