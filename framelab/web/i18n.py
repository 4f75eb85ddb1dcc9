"""Which language a page is shown in, and the page-chrome values every template needs.

The interface strings (buttons, errors, progress) come from Flask-Babel catalogs in
framelab/translations; the study's own texts come from the study file. A study may
pick the other register of a catalog and override or supply any interface string
(its ``translation`` section): a page of that study translates through the study's
strings first, then the register's catalog, then the language's catalog. A page's
language is chosen once per request, in this order: `?lang=` (remembered in the
session), the language remembered in the session, the browser's Accept-Language,
the study's default. For a study page only the study's languages are eligible.
A page that sets no language itself (an error page on a study's address) asks its
blueprint's resolver (`resolve_language_with`) before the browser.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import flask_babel
from babel import Locale, UnknownLocaleError, support
from flask import g, has_request_context, request, session
from flask.sessions import NullSession

from framelab.domain.localized import first_language_match
from framelab.domain.translation import CATALOG_REGISTERS, SHIPPED_LANGUAGES

if TYPE_CHECKING:
    from framelab.domain.study import Study

UI_LANGUAGES: tuple[str, ...] = SHIPPED_LANGUAGES
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
DEFAULT_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})
SESSION_KEY = "lang"


def text_direction(lang: str) -> str:
    """'rtl' for right-to-left scripts, else 'ltr'."""
    return "rtl" if lang.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


@lru_cache(maxsize=128)
def language_name(code: str) -> str:
    """The language's name in itself (Español, العربية), for the language switcher."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return code
    return (name[:1].upper() + name[1:]) if name else code


def request_language(allowed: Sequence[str], default: str, preferred: str | None = None) -> str:
    """Pick the request's language among `allowed` and remember an explicit choice.

    Order: `?lang=`, the session's choice, `preferred` (e.g. the language the
    participant started in), the browser's Accept-Language, `default`.
    """
    asked = request.args.get("lang", "").strip()
    if asked in allowed:
        # A participant's own page keeps no session (framelab.web.security): their
        # language is stored with them instead.
        if not isinstance(session._get_current_object(), NullSession):
            session[SESSION_KEY] = asked
        return asked
    remembered = session.get(SESSION_KEY)
    if remembered in allowed:
        return remembered
    if preferred in allowed:
        return preferred
    return browser_language(allowed) or default


def browser_language(allowed: Sequence[str]) -> str | None:
    """The browser's most preferred language among `allowed`, by Accept-Language's order.

    Each language the browser asks for is matched whole, then by its primary subtag
    (sw-KE -> sw), before the next one is tried: "fr-CH, sw-KE;q=0.9, en;q=0.5" gives sw
    for a study in [en, sw] (Werkzeug's best_match would take the exact match en first).
    """
    return first_language_match((lang for lang, _quality in request.accept_languages), allowed)


@dataclass(frozen=True)
class InterfaceText:
    """What a study changes in one language's interface: its register and its own strings.

    Hashable, so the page caches can key on it (DECISIONS rule 8).
    """

    register: str | None = None
    strings: tuple[tuple[str, str], ...] = ()


def interface_text(spec: Study, lang: str) -> InterfaceText | None:
    """The study's register and interface strings for `lang`, or None when it sets neither."""
    notes = spec.translation
    if notes is None:
        return None
    register = notes.registers.get(lang)
    strings = notes.interface.get(lang, {})
    if register is None and not strings:
        return None
    return InterfaceText(register=register, strings=tuple(sorted(strings.items())))


class _Layered(support.NullTranslations):
    """A study's own strings over a catalog (Flask-Babel calls the u- names)."""

    def __init__(self, strings: dict[str, str], fallback: Any) -> None:
        super().__init__()
        self._strings = strings
        self.add_fallback(fallback)

    def gettext(self, message: str) -> str:
        found = self._strings.get(message)
        return found if found is not None else self._fallback.gettext(message)

    ugettext = gettext


class StudyInterfaceDomain(flask_babel.Domain):
    """The app's message domain: the catalogs seen through the page's study interface text.

    Installed as Flask-Babel's domain (framelab.web.extensions), so every translation,
    in views, templates and error pages, asks here. The page's language is resolved
    before the first string is translated (`current_language`), never after.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._layered: dict[tuple[str, InterfaceText], Any] = {}

    def get_translations(self) -> Any:
        if not has_request_context():
            return super().get_translations()
        current_language()
        base = super().get_translations()
        interface = g.get("interface")
        if interface is None:
            return base
        locale = str(flask_babel.get_locale())
        layered = self._layered.get((locale, interface))
        if layered is None:
            register = interface.register
            if register and register != (CATALOG_REGISTERS.get(locale) or (None,))[0]:
                base = _Layered(_register_strings(locale, register), base)
            layered = _Layered(dict(interface.strings), base)
            if len(self._layered) >= 256:
                self._layered.clear()
            self._layered[(locale, interface)] = layered
        return layered


@lru_cache(maxsize=32)
def _register_strings(locale: str, register: str) -> dict[str, str]:
    # The other register of a catalog: the strings that address the reader, compiled as
    # the gettext domain `<register>` next to the language's messages.mo.
    catalog = support.Translations.load(str(TRANSLATIONS), [locale], domain=register)
    return dict(getattr(catalog, "_catalog", {}))


# A blueprint whose URLs name a study tells which language an error page there is in.
LanguageResolver = Callable[[], "tuple[str, InterfaceText | None] | None"]
_RESOLVERS: dict[str, LanguageResolver] = {}


def resolve_language_with(blueprint: str, resolver: LanguageResolver) -> None:
    """Let `blueprint` choose the language of pages it did not set one for (its error pages)."""
    _RESOLVERS[blueprint] = resolver


def use_language(lang: str, interface: InterfaceText | None = None) -> None:
    """Make `lang` this request's language for Flask-Babel and the page chrome.

    Flask-Babel fixes a request's locale and catalog the first time anything is
    translated (from the browser when no language was set yet); both are dropped
    here, so nothing translated before can decide the language of what follows.
    `interface` is the study's register and strings for `lang` (see `interface_text`).
    """
    g.lang = lang
    g.interface = interface
    flask_babel.refresh()


def select_locale() -> str:
    """Flask-Babel's locale selector: the request's language if we ship a catalog for it."""
    lang = g.get("lang")
    if lang is None:
        resolver = _RESOLVERS.get(request.blueprint or "")
        found = resolver() if resolver is not None else None
        if found is None:
            lang, g.interface = request_language(UI_LANGUAGES, DEFAULT_LANGUAGE), None
        else:
            lang, g.interface = found
        g.lang = lang
    base = lang.split("-")[0]
    return base if base in UI_LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of the page being rendered."""
    if g.get("lang") is None:
        select_locale()
    return g.lang


@dataclass(frozen=True)
class PageChrome:
    """What base.html needs: language, direction, study title and language links."""

    lang: str
    dir: str
    study_title: str | None
    languages: tuple[tuple[str, str, str], ...]


def page_chrome(
    *,
    languages: Sequence[str] | None = None,
    study_title: str | None = None,
    path: str | None = None,
) -> PageChrome:
    """The chrome for this request; `languages` are the choices offered (default: UI languages).

    The language links point at `path` (default: this request's path).
    """
    lang = current_language()
    offered = tuple(languages) if languages is not None else UI_LANGUAGES
    # Keep the other query parameters (a panel's PROLIFIC_PID, `src`) when switching.
    args = {k: v for k, v in request.args.lists() if k != "lang"}
    links = tuple(
        (
            code,
            language_name(code),
            (path or request.path) + "?" + urlencode({**args, "lang": code}, doseq=True),
        )
        for code in offered
    )
    return PageChrome(lang=lang, dir=text_direction(lang), study_title=study_title, languages=links)
