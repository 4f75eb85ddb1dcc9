"""Which language a page is shown in, and the page-chrome values every template needs.

The interface strings (buttons, errors, progress) come from Flask-Babel catalogs in
framelab/translations; the study's own texts come from the study file. A page's
language is chosen once per request, in this order: `?lang=` (remembered in the
session), the language remembered in the session, the browser's Accept-Language,
the study's default. For a study page only the study's languages are eligible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

import flask_babel
from babel import Locale, UnknownLocaleError
from flask import g, request, session
from flask.sessions import NullSession

UI_LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "ar")
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


def choose_language(allowed: Sequence[str], default: str, preferred: str | None = None) -> str:
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
    best = request.accept_languages.best_match(list(allowed))
    return best or default


def use_language(lang: str) -> None:
    """Make `lang` this request's language for Flask-Babel and the page chrome.

    Flask-Babel fixes a request's locale and catalog the first time anything is
    translated (from the browser when no language was set yet); both are dropped
    here, so nothing translated before can decide the language of what follows.
    """
    g.lang = lang
    flask_babel.refresh()


def select_locale() -> str:
    """Flask-Babel's locale selector: the request's language if we ship a catalog for it."""
    lang = g.get("lang")
    if lang is None:
        lang = choose_language(UI_LANGUAGES, DEFAULT_LANGUAGE)
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
