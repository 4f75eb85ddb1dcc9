"""Localized text: a plain string (the study's default language) or ``{language: text}``.

Public API::

    Localized(value)                    # value: str | dict[str, str]
    Localized.get(lang, fallback=None) -> str
    Localized.languages(default_language) -> set[str]
    Localized.to_data() -> str | dict[str, str]
    LocalizedLabels(value)              # the same for lists of labels (likert points)

Both are usable as pydantic field types; they serialize back to the data they
were given, so a study's content hash does not depend on how it was parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic_core import core_schema

from framelab.domain.errors import StudyError

LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a yes/no value (put the text in quotes)"
    if value is None:
        return "nothing"
    names = {int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return names.get(type(value), f"a {type(value).__name__}")


class _LocalizedBase:
    """Shared machinery; subclasses say what one language's text looks like."""

    __slots__ = ("_value",)
    expected: ClassVar[str] = ""

    def __init__(self, value: Any) -> None:
        self._value = self._validate_data(value)

    # -- per-language content
    @classmethod
    def _check_text(cls, text: Any) -> str | None:
        """Return a message when ``text`` is not acceptable for one language."""
        raise NotImplementedError

    @classmethod
    def _validate_data(cls, value: Any) -> Any:
        if isinstance(value, cls):
            return value._value
        if isinstance(value, Mapping):
            if not value:
                raise StudyError(
                    [
                        (
                            "",
                            f"expected {cls.expected} or a mapping language -> text, got an empty mapping",
                        )
                    ]
                )
            problems: list[tuple[str, str]] = []
            clean: dict[str, Any] = {}
            for lang, text in value.items():
                if not isinstance(lang, str) or not LANGUAGE_PATTERN.match(lang):
                    problems.append(
                        (
                            str(lang),
                            f"'{lang}' is not a language code (expected e.g. en, es, pt-BR)",
                        )
                    )
                    continue
                message = cls._check_text(text)
                if message:
                    problems.append((lang, message))
                clean[lang] = list(text) if isinstance(text, list) else text
            if problems:
                raise StudyError(problems)
            return clean
        message = cls._check_text(value)
        if message:
            raise StudyError([("", f"{message}, or a mapping language -> text")])
        return list(value) if isinstance(value, list) else value

    # -- pydantic integration
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v.to_data()),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        one = (
            {"type": "string"}
            if cls is Localized
            else {"type": "array", "items": {"type": "string"}}
        )
        return {"anyOf": [one, {"type": "object", "additionalProperties": one}]}

    # -- reading
    @property
    def is_plain(self) -> bool:
        """True when written as a single text for the default language."""
        return not isinstance(self._value, dict)

    def languages(self, default_language: str) -> set[str]:
        """The languages this text is available in."""
        return {default_language} if self.is_plain else set(self._value)

    def get(self, lang: str, fallback: str | None = None) -> Any:
        """The text in ``lang``, else in ``fallback``, else the first one written."""
        if self.is_plain:
            return self._value
        if lang in self._value:
            return self._value[lang]
        if fallback is not None and fallback in self._value:
            return self._value[fallback]
        return next(iter(self._value.values()))

    def to_data(self) -> Any:
        """The plain data this was made from (str/list or a language mapping)."""
        if self.is_plain:
            return list(self._value) if isinstance(self._value, list) else self._value
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self._value.items()}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._value == self._value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self._value))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._value!r})"


class Localized(_LocalizedBase):
    """A human-readable text in one or more languages."""

    __slots__ = ()
    expected = "a text"

    @classmethod
    def _check_text(cls, text: Any) -> str | None:
        if not isinstance(text, str):
            return f"expected a text, got {_kind(text)}"
        if not text.strip():
            return "expected a text, got an empty one"
        return None

    def get(self, lang: str, fallback: str | None = None) -> str:
        return super().get(lang, fallback)


class LocalizedLabels(_LocalizedBase):
    """A list of labels (e.g. likert point labels) in one or more languages."""

    __slots__ = ()
    expected = "a list of labels"

    @classmethod
    def _check_text(cls, text: Any) -> str | None:
        if not isinstance(text, list):
            return f"expected a list of labels, got {_kind(text)}"
        for i, label in enumerate(text):
            if not isinstance(label, str) or not label.strip():
                return f"label {i + 1}: expected a text, got {_kind(label)}"
        return None

    def get(self, lang: str, fallback: str | None = None) -> list[str]:
        return list(super().get(lang, fallback))

    def lengths(self) -> dict[str | None, int]:
        """Number of labels per language (key None for a plain list)."""
        if self.is_plain:
            return {None: len(self._value)}
        return {lang: len(v) for lang, v in self._value.items()}


def first_language_match(wanted: Iterable[str], offered: Iterable[str]) -> str | None:
    """The first of the `wanted` languages (in order of preference) that is `offered`.

    Each wanted tag is matched whole, then by its primary subtag (sw-KE -> sw), before the
    next one is tried; case and "_" for "-" do not matter. The offered spelling is returned.
    """
    lowered = {lang.lower(): lang for lang in offered}
    for one in wanted:
        tag = one.strip().replace("_", "-").lower()
        for candidate in (tag, tag.split("-")[0]):
            if candidate and candidate in lowered:
                return lowered[candidate]
    return None
