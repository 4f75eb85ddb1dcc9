"""The results card's schema (`framelab.results-card/1`, docs/library.md) and its check.

`validate_card` refuses anything but the documented keys and types at every level, so
an imported card cannot carry more than aggregates: no extra field, no row under the
card's minimum cell size, no frame text that does not match its hash.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date
from typing import Any

__all__ = [
    "SCHEMA",
    "CardRefused",
    "canonical",
    "frame_text_hash",
    "number",
    "validate_card",
]

SCHEMA = "framelab.results-card/1"
MAX_TEXT = 300
MAX_ROWS = 5000
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


class CardRefused(ValueError):
    """A card that cannot be built or accepted; the message says which part and why."""


def canonical(data: Any) -> bytes:
    """The bytes a signature covers: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def frame_text_hash(title: Any, body: Any) -> str:
    """sha256 of the frame's title and body in every language (canonical JSON)."""
    return hashlib.sha256(canonical({"title": title, "body": body})).hexdigest()


def number(value: Any) -> float | None:
    """A finite float, or None (booleans, text and NaN are not numbers here)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fail(where: str, why: str) -> CardRefused:
    return CardRefused(f"card {where}: {why}")


def _keys(where: str, data: Any, required: set[str], optional: set[str] = frozenset()) -> None:
    if not isinstance(data, dict):
        raise _fail(where, "expected an object")
    missing = required - set(data)
    extra = set(data) - required - set(optional)
    if missing:
        raise _fail(where, f"missing {', '.join(sorted(missing))}")
    if extra:
        raise _fail(where, f"unexpected {', '.join(sorted(extra))} (a card holds aggregates only)")


def _text(where: str, value: Any, *, optional: bool = False, limit: int = MAX_TEXT) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _fail(where, f"expected a text of 1 to {limit} characters")


def _check_study(study: Any) -> None:
    _keys(
        "study",
        study,
        {"title", "launched_on", "closed_on", "closed_by", "country", "languages", "audience"},
        {"audience_moderator", "target_n", "min_cell_size", "rehearsal"},
    )
    _text("study.title", study["title"])
    _text("study.audience", study["audience"])
    for key in ("launched_on", "closed_on"):
        try:
            date.fromisoformat(study[key])
        except (TypeError, ValueError):
            raise _fail(f"study.{key}", "expected a date (YYYY-MM-DD)") from None
    if study["closed_by"] not in ("target", "owner"):
        raise _fail("study.closed_by", "expected 'target' or 'owner'")
    if not isinstance(study["country"], str) or not _COUNTRY.match(study["country"]):
        raise _fail("study.country", "expected a two-letter ISO 3166 country code")
    langs = study["languages"]
    if (
        not isinstance(langs, list)
        or not langs
        or not all(isinstance(x, str) and _LANGUAGE.match(x) for x in langs)
    ):
        raise _fail("study.languages", "expected a list of language codes")
    moderator = study.get("audience_moderator")
    if moderator is not None:
        _keys("study.audience_moderator", moderator, {"name", "value"})
        _text("study.audience_moderator.name", moderator["name"], limit=120)
        if number(moderator["value"]) is None:
            raise _fail("study.audience_moderator.value", "expected a number")
    cell = study.get("min_cell_size", 10)
    if not isinstance(cell, int) or isinstance(cell, bool) or cell < 1:
        raise _fail("study.min_cell_size", "expected a whole number of at least 1")


def _check_frames(frames: Any) -> set[str]:
    if not isinstance(frames, list) or not frames:
        raise _fail("frames", "expected a list of frames")
    arms = set()
    for i, frame in enumerate(frames):
        where = f"frames[{i}]"
        _keys(where, frame, {"arm", "label", "values", "messenger", "text_sha256"}, {"text"})
        if not isinstance(frame["arm"], str) or not _IDENT.match(frame["arm"]):
            raise _fail(f"{where}.arm", "expected an arm id")
        _text(f"{where}.label", frame["label"])
        _text(f"{where}.messenger", frame["messenger"], optional=True, limit=120)
        values = frame["values"]
        if not isinstance(values, list) or not all(
            isinstance(v, str) and _IDENT.match(v) for v in values
        ):
            raise _fail(f"{where}.values", "expected a list of value tags")
        if not isinstance(frame["text_sha256"], str) or not _HEX64.match(frame["text_sha256"]):
            raise _fail(f"{where}.text_sha256", "expected 64 hexadecimal digits")
        if "text" in frame:
            _keys(f"{where}.text", frame["text"], {"title", "body"})
            if (
                frame_text_hash(frame["text"]["title"], frame["text"]["body"])
                != frame["text_sha256"]
            ):
                raise _fail(f"{where}.text", "does not match text_sha256")
        arms.add(frame["arm"])
    return arms


_ROW = {"arm", "outcome", "subgroup", "scale", "method", "estimate", "std_error", "n_treatment"}
_ROW_MORE = {"n_control", "conf_low", "conf_high"}


def _check_results(rows: Any, arms: set[str], outcomes: set[str], min_cell: int) -> None:
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise _fail("results", f"expected a list of at most {MAX_ROWS} rows")
    for i, row in enumerate(rows):
        where = f"results[{i}]"
        _keys(where, row, _ROW | {"n_control"}, _ROW_MORE)
        if row["arm"] not in arms:
            raise _fail(f"{where}.arm", f"{row['arm']!r} is not one of the card's frames")
        if row["outcome"] not in outcomes:
            raise _fail(f"{where}.outcome", f"{row['outcome']!r} is not in the card's outcomes")
        if row["scale"] not in ("raw", "smd"):
            raise _fail(f"{where}.scale", "expected 'raw' or 'smd'")
        _text(f"{where}.method", row["method"], limit=64)
        if row["subgroup"] is not None:
            _keys(f"{where}.subgroup", row["subgroup"], {"moderator", "level"})
            _text(f"{where}.subgroup.moderator", row["subgroup"]["moderator"], limit=64)
            _text(f"{where}.subgroup.level", row["subgroup"]["level"], limit=64)
        se = number(row["std_error"])
        if number(row["estimate"]) is None or se is None or se <= 0:
            raise _fail(where, "expected a finite estimate and a positive std_error")
        for key in ("conf_low", "conf_high"):
            if row.get(key) is not None and number(row[key]) is None:
                raise _fail(f"{where}.{key}", "expected a number")
        for key in ("n_treatment", "n_control"):
            n = row[key]
            if not isinstance(n, int) or isinstance(n, bool):
                raise _fail(f"{where}.{key}", "expected a whole number")
            if n < min_cell:
                raise _fail(
                    f"{where}.{key}", f"{n} is below the card's minimum cell size {min_cell}"
                )


def validate_card(card: Any) -> None:
    """Raise CardRefused unless `card` is a well-formed card of this schema."""
    _keys("", card, {"schema", "study", "frames", "outcomes", "results"})
    if card["schema"] != SCHEMA:
        raise _fail("schema", f"expected {SCHEMA!r}, got {card['schema']!r}")
    _check_study(card["study"])
    arms = _check_frames(card["frames"])
    outcomes = card["outcomes"]
    if not isinstance(outcomes, dict) or not all(
        isinstance(k, str) and _IDENT.match(k) for k in outcomes
    ):
        raise _fail("outcomes", "expected an object keyed by outcome name")
    for name, info in outcomes.items():
        _keys(f"outcomes.{name}", info, {"label", "type"})
        _text(f"outcomes.{name}.label", info["label"], optional=True)
    _check_results(
        card["results"], arms, set(outcomes), int(card["study"].get("min_cell_size", 10))
    )
