"""The report's words in the reader's language: catalogs, plurals and numbers.

The campaigner-facing parts of the report (summary, headings, plot titles, table
headers) are written as English message templates passed through a
:class:`Translator`; the catalogs for other languages live beside this module
(``locales/<lang>.json``, one object msgid -> translation), so ``analysis`` stays
usable without framelab. A plural message's translation is an object keyed by the
CLDR plural category of the language (``one``, ``two``, ``few``, ``many``,
``other``, ``zero``), chosen with Babel's plural rules. Numbers are formatted with
the locale's decimal sign; a message missing from a catalog falls back to English
(``tests/report/test_i18n.py`` makes sure none is missing).

The analyst appendix stays in English.

Examples
--------
>>> t = translator("es")
>>> t.number(-0.425, 2), t.p_value(0.012), t.join(["a", "b", "c"])
('−0,42', 'p = 0,012', 'a, b y c')
>>> t.quantity("{value} point", "{value} points", 1.0, 1)
'1,0 punto'
>>> translator("ar").direction
'rtl'
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

__all__ = ["LANGUAGES", "RTL_LANGUAGES", "Translator", "catalog", "translator", "when"]

# The report ships the same languages as framelab's participant interface.
LANGUAGES = ("en", "es", "fr", "ar", "pt", "tr")
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
MINUS = "\u2212"


@cache
def catalog(lang: str) -> dict[str, Any]:
    """The translations of one language (empty for English, the source language).

    Parameters
    ----------
    lang : str
        A language code of :data:`LANGUAGES`.

    Returns
    -------
    dict
        msgid -> translation; a plural message maps to an object keyed by CLDR plural
        category.

    Raises
    ------
    ValueError
        When the language has no catalog.

    Notes
    -----
    Read once per process (``functools.cache``) from ``locales/<lang>.json`` beside this
    module.

    Examples
    --------
    >>> catalog("en"), catalog("fr")["The answer"]
    ({}, "L'essentiel")
    """
    if lang == "en":
        return {}
    path = resources.files("analysis.report").joinpath("locales", f"{lang}.json")
    if not path.is_file():
        raise ValueError(
            f"report language {lang!r} is not available (available: {', '.join(LANGUAGES)})"
        )
    return json.loads(path.read_text(encoding="utf-8"))


class Translator:
    """Message templates, plurals and number formats of one language.

    ``t("{frame} raised {outcome}", frame=..., outcome=...)`` looks the template up
    in the catalog and fills it with ``str.format``; ``t.n(singular, plural, n)``
    picks the plural form for ``n`` (available as ``{n}`` in the template).
    """

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self.messages = catalog(lang)
        self.locale = Locale.parse(lang)

    @property
    def rtl(self) -> bool:
        return self.lang in RTL_LANGUAGES

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"

    def __call__(self, msgid: str, **values: Any) -> str:
        template = self.messages.get(msgid, msgid)
        if not isinstance(template, str):  # a plural entry used as a plain message
            template = template.get("other", msgid)
        return template.format(**values) if values else template

    def n(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The plural form of a message for ``n`` (``{n}`` is formatted as an integer)."""
        entry = self.messages.get(singular)
        if isinstance(entry, dict):
            form = self.locale.plural_form(n)
            template = entry.get(form, entry.get("other", plural))
        else:
            template = singular if n == 1 else plural
        return template.format(n=self.integer(n), **values)

    def quantity(self, singular: str, plural: str, value: float, digits: int, **values: Any) -> str:
        """An amount with its unit, in the plural form its displayed number takes.

        ``{value}`` is the number as displayed (``digits`` decimals, the locale's sign);
        the form follows the displayed number itself, decimals included ("1.0 points",
        French "0,35 point"), by the language's plural rules.
        """
        text = self.number(value, digits)
        shown = Decimal(f"{abs(round(float(value), digits)):.{digits}f}")
        entry = self.messages.get(singular)
        if isinstance(entry, dict):
            template = entry.get(self.locale.plural_form(shown), entry.get("other", plural))
        else:
            template = singular if self.locale.plural_form(shown) == "one" else plural
        return template.format(value=text, **values)

    # ------------------------------------------------------------ numbers

    def number(self, value: Any, digits: int = 2) -> str:
        """Fixed decimals in the locale's notation, a typographic minus, 'n/a' if missing."""
        if not _finite(value):
            return self("n/a")
        rounded = round(float(value), digits)
        if rounded == 0:
            rounded = 0.0  # -0.00 after rounding is zero, not a negative number
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        text = format_decimal(abs(rounded), format=pattern, locale=self.locale)
        return (MINUS + text) if rounded < 0 else text

    def integer(self, value: Any) -> str:
        return self.number(value, 0)

    def percent(self, share: Any, digits: int = 0) -> str:
        """A share (0-1) as a percentage in the locale's style ('31%', '31 %', '%31')."""
        if not _finite(share):
            return self("n/a")
        return self("{value}%", value=self.number(100 * share, digits))

    def p_value(self, value: Any) -> str:
        """'p = 0.012' / 'p < 0.001' in the locale's notation."""
        if not _finite(value):
            return self("p not available")
        if value < 0.001:
            return self("p < {value}", value=self.number(0.001, 3))
        return self("p = {value}", value=self.number(value, 3))

    def join(self, items: list[str]) -> str:
        """'a, b and c' in the reader's language."""
        items = [i for i in items if i]
        if len(items) <= 1:
            return "".join(items)
        return self("{first} and {last}", first=self(", ").join(items[:-1]), last=items[-1])


def _finite(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


@lru_cache(maxsize=16)
def translator(lang: str = "en") -> Translator:
    """The (cached) :class:`Translator` of one language.

    Parameters
    ----------
    lang : str, default "en"
        A language code of :data:`LANGUAGES`.

    Returns
    -------
    Translator
        The same object for the same language within a process.

    Notes
    -----
    Translators hold no state beyond their catalog and locale, so sharing one is safe.

    Examples
    --------
    >>> translator("fr") is translator("fr"), translator("fr")("The answer")
    (True, "L'essentiel")
    """
    return Translator(lang)


def when(stamp: Any, t: Translator | None = None) -> str | None:
    """'November 25, 2026, 20:21 UTC' (in the report's language) from an ISO time.

    Parameters
    ----------
    stamp : str or None
        An ISO 8601 time (``meta.created_at``, a lock's ``locked_at``); naive times are UTC.
    t : Translator, optional
        The report's language; English by default.

    Returns
    -------
    str or None
        The long date and the UTC time, the stamp as given when it is no ISO time, or
        None when there is none.

    Notes
    -----
    The date is Babel's ``format_date(..., format="long")`` in the translator's locale;
    the time is always shown in UTC, so two readers in different zones read the same words.

    Examples
    --------
    >>> when("2026-11-25T20:21:00+00:00")
    'November 25, 2026, 20:21 UTC'
    >>> when("2026-11-25T21:21:00+01:00", translator("fr"))
    '25 novembre 2026 à 20:21 UTC'
    >>> when(None) is None
    True
    """
    t = t or translator("en")
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    day = format_date(moment.date(), format="long", locale=t.locale)
    return t("{date}, {time} UTC", date=day, time=f"{moment:%H:%M}")
