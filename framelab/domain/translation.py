"""A study's languages beyond its own texts: interface strings, register, translation state.

Public API::

    SHIPPED_LANGUAGES                     # languages framelab ships an interface catalog for
    CATALOG_REGISTERS                     # language -> registers its catalog offers (default first)
    interface_msgids() -> tuple[str, ...] # every interface string (msgids of messages.pot)
    Translation                           # the study file's ``translation`` section
    translation_problems(study) -> list[tuple[str, str]]   # cross-field checks
    TextUnit / text_units(study)          # every translatable text of a study, with a stable key
    translation_gaps(study) -> list[Gap]  # what keeps the study from launching in every language
    unchanged_texts(study, lang) -> list[str]   # keys whose text equals the default language's

The study file's section::

    translation:
      registers: {es: informal}           # the other register a shipped catalog offers
      interface:                          # override or supply interface strings
        sw: {"Continue": "Endelea", ...}
      untranslated:                       # texts copied from the default language when
        es: [title, items.support.text]   # the language was added, not translated yet

A study launches only when nothing is listed under ``untranslated`` and every language
without a shipped catalog has every interface string, so no participant sees English.
A key under ``untranslated`` that the study no longer has (its question was removed) is
ignored; the studio's language edits drop such keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from framelab.domain.items import DomainModel
from framelab.domain.localized import LANGUAGE_PATTERN, Localized, LocalizedLabels

if TYPE_CHECKING:
    from framelab.domain.study import Study

# One list of shipped languages (DECISIONS rule 8): framelab.web.i18n offers these, the
# catalogs in framelab/translations/<lang> implement them, the report follows them.
SHIPPED_LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "ar", "pt", "tr")
Register = Literal["formal", "informal"]
# The register each catalog is written in first; a second one is a partial catalog of
# the strings that address the reader (framelab/translations/<lang>/LC_MESSAGES/<register>.po).
CATALOG_REGISTERS: dict[str, tuple[str, ...]] = {
    "en": (),
    "es": ("formal", "informal"),
    "fr": ("formal", "informal"),
    "ar": ("formal",),
    "pt": ("informal",),
    "tr": ("formal", "informal"),
}
CATALOG_TEMPLATE = Path(__file__).resolve().parents[1] / "translations" / "messages.pot"
_PLACEHOLDER = re.compile(r"%\(\w+\)s")
_PO_LINE = re.compile(r'^(msgid|msgstr|msgctxt|msgid_plural)?\s*("(?:[^"\\]|\\.)*")\s*$')


@lru_cache(maxsize=1)
def interface_msgids() -> tuple[str, ...]:
    """Every interface string, in catalog order (read from messages.pot with the stdlib)."""
    ids: list[str] = []
    current: list[str] | None = None
    for line in CATALOG_TEMPLATE.read_text(encoding="utf-8").splitlines():
        match = _PO_LINE.match(line.strip())
        if match is None:
            current = None
            continue
        keyword, quoted = match.groups()
        text = json.loads(quoted)
        if keyword == "msgid":
            current = [text]
            ids.append("")
        elif keyword is None and current is not None:
            current.append(text)
        else:
            current = None
            continue
        ids[-1] = "".join(current)
    return tuple(dict.fromkeys(i for i in ids if i))


def placeholders(text: str) -> list[str]:
    """The %(name)s placeholders of an interface string, sorted."""
    return sorted(_PLACEHOLDER.findall(text))


def _check_language(lang: Any) -> str:
    if not isinstance(lang, str) or not LANGUAGE_PATTERN.match(lang):
        raise ValueError(f"'{lang}' is not a language code (expected e.g. en, es, pt-BR)")
    return lang


class Translation(DomainModel):
    """The ``translation`` section of a study file (see the module docstring)."""

    registers: dict[str, Register] = Field(default_factory=dict)
    interface: dict[str, dict[str, str]] = Field(default_factory=dict)
    untranslated: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("registers", "untranslated")
    @classmethod
    def _check_languages(cls, value: dict[str, Any]) -> dict[str, Any]:
        for lang in value:
            _check_language(lang)
        return value

    @field_validator("interface")
    @classmethod
    def _check_interface(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        known = set(interface_msgids())
        problems = []
        for lang, strings in value.items():
            _check_language(lang)
            for msgid, text in strings.items():
                if msgid not in known:
                    problems.append(f"{lang}: {msgid!r} is not an interface string of framelab")
                elif not text.strip():
                    problems.append(f"{lang}: {msgid!r} has an empty text")
                elif placeholders(text) != placeholders(msgid):
                    problems.append(
                        f"{lang}: {msgid!r} needs the placeholders "
                        f"{', '.join(placeholders(msgid)) or 'none'}, got "
                        f"{', '.join(placeholders(text)) or 'none'}"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def is_empty(self) -> bool:
        return not (self.registers or self.interface or any(self.untranslated.values()))

    def strings_for(self, lang: str) -> dict[str, str]:
        """The study's own interface strings for `lang` (msgid -> text)."""
        return dict(self.interface.get(lang, {}))


# ---------------------------------------------------------------- texts of a study


@dataclass(frozen=True)
class TextUnit:
    """One translatable text: a localized field, or one label of a list of labels.

    `key` names it by ids, not positions (``items.support.labels.2``, ``arms.care.frame.body``),
    so it survives reordering; `path` is where the localized value sits in the study data.
    """

    key: str
    path: tuple[str | int, ...]
    index: int | None = None

    def localized(self, study: Study) -> Localized | LocalizedLabels:
        node: Any = study
        for step in self.path:
            node = node[step] if isinstance(step, int) else getattr(node, step)
        return node

    def text(self, study: Study, lang: str) -> str | None:
        """The text in `lang`, or None when that language has none."""
        value = self.localized(study)
        if lang not in value.languages(study.default_language):
            return None
        got = value.get(lang)
        if self.index is None:
            return got
        return got[self.index] if self.index < len(got) else None


def _ident(node: Any, position: int) -> str:
    for attribute in ("id", "value"):
        found = getattr(node, attribute, None)
        if isinstance(found, str | int) and not isinstance(found, bool):
            return str(found)
    return str(position)


def _walk(node: Any, key: str, path: tuple[str | int, ...]) -> Iterator[TextUnit]:
    if isinstance(node, LocalizedLabels):
        # Labels are translated one by one; the default language says how many there are.
        for i in range(max(node.lengths().values())):
            yield TextUnit(f"{key}.{i + 1}", path, i)
    elif isinstance(node, Localized):
        yield TextUnit(key, path)
    elif isinstance(node, BaseModel) and not isinstance(node, Translation):
        for name in type(node).model_fields:
            yield from _walk(getattr(node, name), f"{key}.{name}" if key else name, (*path, name))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _walk(child, f"{key}.{_ident(child, i)}", (*path, i))


def text_units(study: Study) -> list[TextUnit]:
    """Every translatable text of the study, in document order."""
    return list(_walk(study, "", ()))


# ---------------------------------------------------------------- completeness


@dataclass(frozen=True)
class Gap:
    """Something a language still lacks: an untranslated text or a missing interface string."""

    lang: str
    kind: Literal["untranslated", "missing", "interface"]
    key: str

    def message(self, default_language: str) -> str:
        if self.kind == "interface":
            return f"{self.lang}: the interface string {self.key!r} has no translation"
        if self.kind == "missing":
            return f"{self.lang}: {self.key} has no text"
        return (
            f"{self.lang}: {self.key} is still the {default_language} text "
            f"(translate it, or keep it as it is in the translation view)"
        )


def unchanged_texts(study: Study, lang: str) -> list[str]:
    """Keys of the texts whose `lang` text is the same as the default language's."""
    default = study.default_language
    return [
        unit.key
        for unit in text_units(study)
        if lang != default and unit.text(study, lang) == unit.text(study, default)
    ]


def translation_gaps(study: Study) -> list[Gap]:
    """What keeps the study from showing every participant their language only."""
    notes = study.translation or Translation()
    gaps: list[Gap] = []
    units = text_units(study)
    for lang in study.languages:
        if lang == study.default_language:
            continue
        listed = set(notes.untranslated.get(lang, ()))
        for unit in units:
            if unit.text(study, lang) is None:
                gaps.append(Gap(lang, "missing", unit.key))
            elif unit.key in listed:
                gaps.append(Gap(lang, "untranslated", unit.key))
    for lang in study.languages:
        if lang.split("-")[0] in SHIPPED_LANGUAGES:
            continue
        supplied = notes.interface.get(lang, {})
        gaps += [Gap(lang, "interface", m) for m in interface_msgids() if m not in supplied]
    return gaps


def translation_problems(study: Study) -> list[tuple[str, str]]:
    """Cross-field rules of the ``translation`` section (languages and registers exist)."""
    notes = study.translation
    if notes is None:
        return []
    problems: list[tuple[str, str]] = []
    declared = ", ".join(study.languages)
    for field in ("registers", "interface", "untranslated"):
        for lang in getattr(notes, field):
            if lang not in study.languages:
                problems.append(
                    (f"translation.{field}.{lang}", f"'{lang}' is not in languages ({declared})")
                )
    for lang, register in notes.registers.items():
        offered = CATALOG_REGISTERS.get(lang.split("-")[0], ())
        if register not in offered:
            problems.append(
                (
                    f"translation.registers.{lang}",
                    f"framelab's '{lang}' interface is not written in the {register} register "
                    f"(offered: {', '.join(offered) or 'none'}); supply the strings under "
                    f"translation.interface.{lang} instead",
                )
            )
    return problems
