"""A participant's pages are in the participant's study language, whatever the browser says.

Issue 17 ("Wrong language, cached"): the slider's hint was translated before the page's
language was set, so Flask-Babel fixed the request's locale from Accept-Language, and the
page cache then served that first visitor's interface language to everyone after.
"""

from __future__ import annotations

import gettext
import re

import pytest
from babel.messages.pofile import read_po
from sqlalchemy.exc import OperationalError

from framelab import create_app
from framelab.domain.steps import items_for_step
from framelab.domain.study import study_from_data
from framelab.domain.translation import (
    CATALOG_REGISTERS,
    SHIPPED_LANGUAGES,
    interface_msgids,
    placeholders,
)
from framelab.testing.forms import csrf_token, page_step
from framelab.web.i18n import UI_LANGUAGES
from tests.factories import make_study, study_data, valid_answers
from tests.web.conftest import make_app
from tests.web.interface_text import TRANSLATIONS, catalog_strings, interface_strings_in
from tests.web.swahili import SWAHILI
from tests.web.walker import Walker

SPEC = make_study()
# Every page of the example study; the intent page carries the slider.
FLOW = ("consent", "pre", "message", "post", "intent", "debrief")


def english_strings(lang: str) -> set[str]:
    """The catalog's English strings that `lang`'s catalog words differently."""
    translated = catalog_strings(lang)
    return {m for m in interface_msgids() if translated.get(m) and translated[m] != m}


def walk(client, clock, lang: str, browser: str, spec=SPEC) -> dict[str, str]:
    """One participant in `lang` with a browser asking for `browser`: every page's HTML."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = browser
    walker = Walker(client, spec, clock)
    pages = {"consent": walker.open_link(f"?lang={lang}").get_data(as_text=True)}
    walker.consent(query=f"?lang={lang}")
    for step in FLOW[1:]:
        pages[step] = walker.page().get_data(as_text=True)
        assert page_step(pages[step]) == (None if step == "debrief" else step)
        if step != "debrief":
            clock.advance(20)
            response = walker.post(step, valid_answers(spec, step))
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
        # (Both masked afresh in every response: framelab.web.compression.)
        html = re.sub(r'name="code" value="[A-Za-z0-9_.-]+"', 'name="code" value="CODE"', html)
        html = html.replace(csrf_token(html), "TOKEN") if 'name="csrf_token"' in html else html
        return re.sub(r'<p class="code participant-code"[^>]*>[^<]*</p>', "", html)

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


# ---------------------------------------------------------------- a language framelab does not ship


def swahili_data(keep_english: bool = False) -> dict:
    """The example study in Swahili (a language framelab ships no catalog for), supplying
    every interface string itself; with `keep_english`, in English and Swahili."""
    counter = iter(range(1, 10_000))
    kept = ("en",) if keep_english else ()

    def convert(node):
        if isinstance(node, dict) and node and set(node) == set(SPEC.languages):
            english = node["en"]
            if isinstance(english, list):
                swahili = [f"Chaguo {next(counter)}" for _ in english]
            else:
                swahili = f"Maandishi ya Kiswahili {next(counter)}"
            return {**{lang: node[lang] for lang in kept}, "sw": swahili}
        if isinstance(node, dict):
            return {key: convert(value) for key, value in node.items()}
        if isinstance(node, list):
            return [convert(value) for value in node]
        return node

    data = convert(study_data())
    data.update(
        languages=[*kept, "sw"],
        default_language=kept[0] if kept else "sw",
        translation={"interface": {"sw": SWAHILI}},
    )
    return data


SWAHILI_SPEC = study_from_data(swahili_data())
ENGLISH = interface_msgids()


def assert_no_english(html: str, where: str) -> None:
    assert '<html lang="sw"' in html, where
    assert interface_strings_in(html, ENGLISH) == [], where


@pytest.fixture
def swahili_app(tmp_path, clock):
    application = make_app(
        f"sqlite:///{tmp_path / 'sw.sqlite'}", clock=clock, studies=(SWAHILI_SPEC,)
    )
    yield application
    application.extensions["framelab.engine"].dispose()


def test_a_swahili_study_shows_no_english_on_any_participant_page(swahili_app, clock):
    client = swahili_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US, en"
    walker = Walker(client, SWAHILI_SPEC, clock)
    seen: dict[str, str] = {}
    walker.open_link()
    seen["consent"] = walker.last
    walker.consent()
    for step in ("pre", "message", "post", "intent"):
        seen[step] = walker.page().get_data(as_text=True)
        clock.advance(20)
        if step in ("pre", "post", "intent"):
            # Every kind of answer problem: missing, not an option, out of range, too long.
            wrong = {item.id: "" for item in items_for_step(SWAHILI_SPEC, step)}
            for item in items_for_step(SWAHILI_SPEC, step):
                if item.type == "slider":
                    wrong[item.id] = "150"
                elif item.type == "text":
                    wrong[item.id] = "x" * (item.text_max_length + 1)
                elif item.type == "choice":
                    wrong[item.id] = "99"
            seen[f"{step} with errors"] = walker.post(step, wrong).get_data(as_text=True)
            assert "error-summary" in seen[f"{step} with errors"]
        walker.post(step, valid_answers(SWAHILI_SPEC, step))
    seen["debrief"] = walker.page().get_data(as_text=True)
    code = walker.code
    form = {"code": code, "csrf_token": csrf_token(seen["debrief"])}
    seen["withdraw confirmation"] = client.post("/p/withdraw", data=form).get_data(as_text=True)
    expired = client.post(walker.url, data={"step": "debrief", "code": code, "csrf_token": "x"})
    assert expired.status_code == 400
    seen["expired form"] = expired.get_data(as_text=True)
    missing = client.get(f"/s/{SWAHILI_SPEC.slug}/p/not-a-participant")
    assert missing.status_code == 404
    seen["participant not found"] = missing.get_data(as_text=True)
    done = client.post("/p/withdraw", data={**form, "confirm": "yes"})
    assert done.status_code == 200
    seen["withdrawn"] = done.get_data(as_text=True)
    refusing = Walker(swahili_app.test_client(), SWAHILI_SPEC, clock)
    refusing.consent("no")
    seen["declined consent"] = refusing.page().get_data(as_text=True)
    for where, html in seen.items():
        assert_no_english(html, where)
    # Each page really is drawn from the study's strings, not left empty.
    assert f">{SWAHILI['Continue']}</button>" in seen["message"]
    assert SWAHILI["Move the slider: 0 is the lowest, 100 the highest."] in seen["intent"]
    assert SWAHILI["You have withdrawn from the study"] in seen["withdrawn"]
    assert SWAHILI["This page has expired"] in seen["expired form"]


def test_a_closed_swahili_study_explains_itself_in_swahili(tmp_path, clock):
    app = make_app(
        f"sqlite:///{tmp_path / 'c.sqlite'}", clock=clock, studies=(SWAHILI_SPEC,), status="draft"
    )
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get(f"/s/{SWAHILI_SPEC.slug}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert_no_english(html, "closed study")
    assert SWAHILI["This study is not open"] in html
    app.extensions["framelab.engine"].dispose()


def test_a_study_can_override_one_string_of_a_shipped_catalog_and_pick_its_register(
    tmp_path, clock
):
    spec = make_study(
        translation={
            "registers": {"es": "informal"},
            "interface": {"fr": {"Continue": "Suivant"}},
        }
    )
    app = make_app(f"sqlite:///{tmp_path / 'r.sqlite'}", clock=clock, studies=(spec,))
    spanish = app.test_client().get(f"/s/{spec.slug}?lang=es").get_data(as_text=True)
    assert "¿Aceptas participar en este estudio?" in spanish  # tú, from es/informal.po
    assert "¿Acepta participar" not in spanish
    french = walk(app.test_client(), clock, "fr", "en")
    assert ">Suivant</button>" in french["message"] and ">Continuer<" not in french["message"]
    # The same pages of a study without the section stay in the catalog's words.
    plain = make_app(f"sqlite:///{tmp_path / 'p.sqlite'}", clock=clock)
    assert "¿Acepta participar" in plain.test_client().get(f"/s/{spec.slug}?lang=es").get_data(
        as_text=True
    )
    for application in (app, plain):
        application.extensions["framelab.engine"].dispose()


# ---------------------------------------------------------------- shipped catalogs


def test_the_shipped_languages_are_the_catalogs_in_the_package():
    folders = {p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")}
    assert folders == set(SHIPPED_LANGUAGES) == set(UI_LANGUAGES)
    assert set(CATALOG_REGISTERS) == set(SHIPPED_LANGUAGES)


@pytest.mark.parametrize(
    ("lang", "register"),
    [(lang, r) for lang, offered in CATALOG_REGISTERS.items() for r in offered[1:]],
)
def test_each_second_register_is_a_compiled_catalog_of_interface_strings(lang, register):
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    with (folder / f"{register}.po").open("rb") as handle:
        variant = {m.id: m.string for m in read_po(handle) if m.id}
    base = catalog_strings(lang)
    assert len(variant) >= 20 and set(variant) <= set(interface_msgids())
    for msgid, text in variant.items():
        assert text and text != base[msgid], (lang, msgid)
        assert placeholders(text) == placeholders(msgid), (lang, msgid)
    with (folder / f"{register}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert all(compiled.gettext(m) == t for m, t in variant.items())


def test_the_domain_reads_the_same_interface_strings_as_babel():
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        babel_ids = [m.id for m in read_po(handle) if m.id]
    assert list(interface_msgids()) == babel_ids


# ---------------------------------------------------------------- two workers, alternating


class Alternating:
    """One participant whose requests alternate between two app instances (two workers)."""

    def __init__(self, apps, browser: str) -> None:
        self.clients = [app.test_client() for app in apps]
        for client in self.clients:
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = browser
        self.turn = 0

    def _next(self):
        # One browser: the participant cookie the last worker set goes to the next one.
        last = self.clients[self.turn % 2].get_cookie("p", path="/p")
        self.turn += 1
        client = self.clients[self.turn % 2]
        if last is not None:
            client.set_cookie("p", last.value, path="/p")
        return client

    def get_cookie(self, *args, **kwargs):
        return self.clients[self.turn % 2].get_cookie(*args, **kwargs)

    def get(self, *args, **kwargs):
        return self._next().get(*args, **kwargs)

    def post(self, *args, **kwargs):
        return self._next().post(*args, **kwargs)


def test_two_workers_serving_alternate_requests_keep_every_participant_in_their_language(
    tmp_path, clock
):
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    first = make_app(url, clock=clock)
    second = create_app({**first.config, "FRAMELAB_CLOCK": clock})
    apps = (first, second)
    languages = SPEC.languages
    for order in (languages, tuple(reversed(languages))):
        for lang in order:
            for browser in (other for other in languages if other != lang):
                participant = Alternating(apps, browser)
                # The consent form's token is bound to the session of the client that drew it.
                consent = participant.clients[0]
                walker = Walker(consent, SPEC, clock)
                walker.consent(query=f"?lang={lang}")
                pages = {"consent": walker.last}
                walker.client = participant
                for step in FLOW[1:]:
                    pages[step] = walker.page().get_data(as_text=True)
                    if step != "debrief":
                        clock.advance(20)
                        assert walker.post(step, valid_answers(SPEC, step)).status_code == 302
                # The debrief's withdraw form (the browser was told to forget the cookie):
                # the confirmation page, then the withdrawn page.
                form = {
                    "csrf_token": csrf_token(pages["debrief"]),
                    "code": re.search(r'name="code" value="([^"]+)"', pages["debrief"])[1],
                }
                pages["withdraw"] = participant.post("/p/withdraw", data=form).get_data(True)
                form["confirm"] = "yes"
                pages["withdrawn"] = participant.post("/p/withdraw", data=form).get_data(True)
                wrong = english_strings(lang) if lang != "en" else set()
                for step, html in pages.items():
                    assert f'<html lang="{lang}"' in html, (lang, browser, step)
                    assert interface_strings_in(html, wrong) == [], (lang, browser, step)
                    if lang == "en":
                        others = english_strings(browser)
                        translated = {catalog_strings(browser)[m] for m in others}
                        assert not any(t in html for t in translated if len(t) > 12), step
                assert (
                    catalog_strings(lang).get("You have withdrawn from the study", "")
                    in (pages["withdrawn"])
                )
    for application in apps:
        application.extensions["framelab.engine"].dispose()


def test_an_error_page_whose_study_cannot_be_read_still_answers_in_the_browser_language(
    app, monkeypatch
):
    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("database is gone"))

    monkeypatch.setattr("framelab.web.participant.blueprint.study_language", broken)
    client = app.test_client()
    response = client.get(f"/s/{SPEC.slug}/p/not-a-participant", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert catalog_strings("fr")["Page not found"] in response.get_data(as_text=True)


def test_two_studies_differing_only_in_interface_strings_do_not_share_cached_html(tmp_path, clock):
    # Same questions, same language: only the study's word for "optional" differs, so the
    # question cache must key on the interface text, not on the questions alone.
    plain = make_study(slug="plain-study")
    own = make_study(
        slug="own-words", translation={"interface": {"fr": {"optional": "pas obligé"}}}
    )
    app = make_app(f"sqlite:///{tmp_path / 'two.sqlite'}", clock=clock, studies=(plain, own))
    first = walk(app.test_client(), clock, "fr", "fr", spec=plain)["post"]
    second = walk(app.test_client(), clock, "fr", "fr", spec=own)["post"]
    mark = '<span class="optional">({})</span>'
    # The comment question already says "(facultatif)": the catalog's word adds no second
    # mark (issue 17), the study's own word does.
    assert "(facultatif)" in first and mark.format("facultatif") not in first
    assert "pas obligé" not in first
    assert mark.format("pas obligé") in second and mark.format("facultatif") not in second
    app.extensions["framelab.engine"].dispose()


@pytest.mark.parametrize("follow_form", [True, False], ids=["form-action", "bare-post"])
def test_the_browser_language_is_matched_against_the_study_languages_on_every_page(
    tmp_path, clock, follow_form
):
    """A study in [en, sw] and a browser asking for Swahili: Swahili from consent to debrief.

    The browser's languages are matched against the study's own languages, not only
    against the catalogs framelab ships (issue 25: a study in [en, de] showed German
    consent, then English on every later page).
    """
    spec = study_from_data({**swahili_data(keep_english=True), "slug": "two-languages"})
    application = make_app(f"sqlite:///{tmp_path / 'two.sqlite'}", clock=clock, studies=(spec,))
    try:
        client = application.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CH, sw-KE;q=0.9, en;q=0.5"
        walker = Walker(client, spec, clock)
        consent = walker.open_link().get_data(as_text=True)
        assert_no_english(consent, "consent")
        if follow_form:
            walker.consent()
        else:
            # A consent posted to the bare link (no ?lang= in the action) still enrols in
            # the browser's first language the study has.
            response = client.post(
                f"/s/{spec.slug}",
                data={"csrf_token": csrf_token(consent), "step": "consent", "consent": "yes"},
            )
            assert response.status_code == 302
            walker.url = response.headers["Location"]
        for step in ("pre", "message", "post", "intent"):
            html = walker.page().get_data(as_text=True)
            assert page_step(html) == step
            assert_no_english(html, step)
            clock.advance(20)
            assert walker.post(step, valid_answers(spec, step)).status_code == 302
        assert_no_english(walker.page().get_data(as_text=True), "debrief")
    finally:
        application.extensions["framelab.engine"].dispose()


def test_a_browser_without_cookies_is_told_that_cookies_are_needed_in_its_language(
    swahili_app, fresh_app, clock
):
    """Issue 25: a cookie-less consent read "This page has expired", which reloading never fixes."""
    for application, spec, expect in (
        (swahili_app, SWAHILI_SPEC, SWAHILI["Cookies are needed to take part"]),
        (fresh_app(), SPEC, "Cookies are needed to take part"),
    ):
        client = application.test_client(use_cookies=False)
        page = client.get(f"/s/{spec.slug}").get_data(as_text=True)
        refused = client.post(
            f"/s/{spec.slug}",
            data={"csrf_token": csrf_token(page), "step": "consent", "consent": "yes"},
        )
        assert refused.status_code == 400
        html = refused.get_data(as_text=True)
        assert expect in html and "expired" not in html
        if spec is SWAHILI_SPEC:
            assert_no_english(html, "cookies needed")
        # Nobody was enrolled.
        with application.extensions["framelab.engine"].connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM participant").scalar() == 0
    # A browser that does send cookies but a stale token still reads "expired".
    client = fresh_app("stale").test_client()
    client.get(f"/s/{SPEC.slug}")
    stale = client.post(f"/s/{SPEC.slug}", data={"csrf_token": "x", "consent": "yes"})
    assert stale.status_code == 400
    assert "This page has expired" in stale.get_data(as_text=True)


def test_withdrawing_later_confirms_in_the_participants_language_not_the_browsers(
    fresh_app, swahili_app, clock
):
    """/withdraw opens in the browser's language; once the code is known, the study's."""
    application = fresh_app()
    for app, spec, lang, expect in (
        (application, SPEC, "es", catalog_strings("es")),
        (swahili_app, SWAHILI_SPEC, "sw", SWAHILI),
    ):
        walker = Walker(app.test_client(), spec, clock)
        walker.consent(query=f"?lang={lang}")
        later = app.test_client()
        later.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US, en"
        page = later.get("/withdraw").get_data(as_text=True)
        assert '<html lang="en"' in page
        done = later.post(
            "/withdraw", data={"csrf_token": csrf_token(page), "code": walker.code}
        ).get_data(as_text=True)
        assert f'<html lang="{lang}"' in done
        assert expect["Withdraw from a study"] in done
        if lang == "sw":
            assert_no_english(done, "withdrawn later")
