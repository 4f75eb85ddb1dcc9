"""Errors raised by the domain: invalid study files and invalid answers.

Public API::

    StudyError(errors: list[tuple[str, str]])   # ValueError; .errors = [(location, message)]
    ValueProblem(code, message, params)          # ValueError; one answer rejected by its item
    format_loc(parts) -> str                     # ("arms", 2, "frame") -> "arms[2].frame"
    join_loc(prefix, location) -> str            # "items[3]" + "points" -> "items[3].points"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class StudyError(ValueError):
    """A study file that cannot be used; ``errors`` lists every problem with its place.

    ``str()`` gives one ``location: message`` line per problem, ready to print.
    """

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors: list[tuple[str, str]] = list(errors)
        super().__init__("\n".join(_line(loc, msg) for loc, msg in self.errors))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors,))


def _line(loc: str, msg: str) -> str:
    return f"{loc}: {msg}" if loc else msg


class ValueProblem(ValueError):
    """An answer its item does not accept.

    ``code`` is one of ``required``, ``not_a_number``, ``out_of_range``,
    ``not_an_option``, ``too_long``; ``params`` holds what the message names
    (for example ``{"min": 1, "max": 7, "value": 9}``) so a translated message can
    be built from it.
    """

    CODES = ("required", "not_a_number", "out_of_range", "not_an_option", "too_long")

    def __init__(self, code: str, message: str, params: dict[str, Any] | None = None) -> None:
        if code not in self.CODES:
            raise ValueError(
                f"code: '{code}' is not a value problem (known: {', '.join(self.CODES)})"
            )
        self.code = code
        self.message = message
        self.params: dict[str, Any] = dict(params or {})
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.message, self.params))


def format_loc(parts: Iterable[str | int]) -> str:
    """Turn a pydantic-style location tuple into ``arms[2].frame.values[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out


def join_loc(prefix: str, location: str) -> str:
    """Append a relative location (``points``, ``[0]``, ``labels.en``) to ``prefix``."""
    if not prefix:
        return location
    if not location:
        return prefix
    if location.startswith("["):
        return prefix + location
    return f"{prefix}.{location}"
