"""Results cards: what one finished study tells the frame library, and nothing more.

A card (schema `framelab.results-card/1`, docs/library.md) holds the study's title,
dates, country, languages and audience description, each frame's value tags,
messenger, text hash (and, when the exporter chooses, its text), and per frame x
outcome x subgroup the estimate, standard error, n and method. Aggregates only: rows
with fewer than the study's minimum cell size in either arm are left out, no
participant row, answer, free text, code, panel id or timestamp of a person is read
into it. A card travels inside a signed envelope (Ed25519, framelab.services.card_keys);
`open_envelope` refuses a card whose signature, schema or cell sizes do not hold.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from framelab.services import card_keys

__all__ = [
    "SCHEMA",
    "CardDetails",
    "CardRefused",
    "build_card",
    "canonical",
    "card_id",
    "frame_text_hash",
    "open_envelope",
    "seal",
    "validate_card",
]

SCHEMA = "framelab.results-card/1"
ENVELOPE = "framelab.signed-card/1"
MAX_TEXT = 300
MAX_ROWS = 5000
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


class CardRefused(ValueError):
    """A card that cannot be built or accepted; the message says which part and why."""


@dataclass(frozen=True)
class CardDetails:
    """What the exporter adds that the study file does not say."""

    country: str  # ISO 3166-1 alpha-2, e.g. "KE"
    audience: str  # a short description of who took part, written by staff
    messengers: Mapping[str, str] = field(default_factory=dict)  # arm id -> messenger
    include_text: bool = False
    moderator_name: str | None = None  # e.g. "audience ideology (1 left .. 7 right)"
    moderator_value: float | None = None


def canonical(data: Any) -> bytes:
    """The bytes a signature covers: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def frame_text_hash(title: Any, body: Any) -> str:
    """sha256 of the frame's title and body in every language (canonical JSON)."""
    return hashlib.sha256(canonical({"title": title, "body": body})).hexdigest()


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _count(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _row(
    arm: str, outcome: str, subgroup: Mapping[str, str] | None, scale: str, method: str, r: Mapping
) -> dict[str, Any] | None:
    estimate, se = _number(r.get("estimate")), _number(r.get("std_error"))
    n_t, n_c = _count(r.get("n_treatment")), _count(r.get("n_control"))
    if estimate is None or se is None or se <= 0 or n_t is None or n_c is None:
        return None
    return {
        "arm": arm,
        "outcome": outcome,
        "subgroup": dict(subgroup) if subgroup else None,
        "scale": scale,
        "method": method,
        "estimate": estimate,
        "std_error": se,
        "conf_low": _number(r.get("conf_low")),
        "conf_high": _number(r.get("conf_high")),
        "n_treatment": n_t,
        "n_control": n_c,
    }


def _result_rows(results: Mapping[str, Any], min_cell: int) -> list[dict[str, Any]]:
    meta = results.get("meta") or {}
    primary = meta.get("primary_method") or "difference_in_means"
    rows: list[dict[str, Any] | None] = []
    for r in results.get("effects") or []:
        if r.get("method") == primary:
            rows.append(_row(r["arm"], r["outcome"], None, "raw", primary, r))
    for r in results.get("effect_sizes") or []:
        g = {**r, "estimate": r.get("hedges_g")}
        rows.append(_row(r["arm"], r["outcome"], None, "smd", "hedges_g", g))
    subgroups = [r for r in results.get("subgroups") or [] if r.get("arm") not in (None, "pooled")]
    # Secondary suppression: when one level of a moderator is withheld for a frame and
    # outcome, every level is, or the whole-sample row minus the others would give it.
    withheld = {
        (r["arm"], r["outcome"], r["moderator"])
        for r in subgroups
        if r.get("suppressed")
        or min(_count(r.get("n_treatment")) or 0, _count(r.get("n_control")) or 0) < min_cell
    }
    for r in subgroups:
        if (r["arm"], r["outcome"], r["moderator"]) in withheld:
            continue
        level = r.get("level")
        label = str(int(level)) if isinstance(level, float) and level.is_integer() else str(level)
        group = {"moderator": str(r["moderator"]), "level": label}
        rows.append(_row(r["arm"], r["outcome"], group, "raw", "subgroup_difference", r))
    # The minimum cell size applies to every row, whatever analysis already suppressed.
    return [
        row
        for row in rows
        if row is not None and min(row["n_treatment"], row["n_control"]) >= min_cell
    ]


def build_card(
    spec: Any,
    results: Mapping[str, Any],
    details: CardDetails,
    *,
    launched_on: date,
    closed_on: date,
    closed_by: str,
    rehearsal: bool,
) -> dict[str, Any]:
    """The card of a finished study: its description and the analysis's aggregates.

    `spec` is the study (framelab.domain.study.Study), `results` what analysis.run
    returned for its final data. Raises CardRefused naming the field that is wrong.
    """
    min_cell = int(spec.quality.min_cell_size)
    lang = spec.default_language
    arms = [arm for arm in spec.arms if not arm.control and arm.frame is not None]
    unknown = sorted(set(details.messengers) - {arm.id for arm in arms})
    if unknown:
        raise CardRefused(f"messengers: {', '.join(unknown)} is not a frame arm of {spec.slug}")
    frames = []
    for arm in arms:
        frame = {
            "arm": arm.id,
            "label": arm.label_for(lang, lang),
            "values": list(arm.frame.values),
            "messenger": (details.messengers.get(arm.id) or "").strip() or None,
            "text_sha256": frame_text_hash(arm.frame.title.to_data(), arm.frame.body.to_data()),
        }
        if details.include_text:
            frame["text"] = {"title": arm.frame.title.to_data(), "body": arm.frame.body.to_data()}
        frames.append(frame)
    outcomes = {
        o["name"]: {"label": _label(o.get("label"), lang), "type": o.get("type")}
        for o in (results.get("meta") or {}).get("outcomes") or []
    }
    rows = [r for r in _result_rows(results, min_cell) if r["arm"] in {a["arm"] for a in frames}]
    moderator = None
    if details.moderator_name:
        if _number(details.moderator_value) is None:
            raise CardRefused("moderator_value: expected a number with the moderator's name")
        moderator = {"name": details.moderator_name.strip(), "value": details.moderator_value}
    card = {
        "schema": SCHEMA,
        "study": {
            "title": spec.text(spec.title, lang),
            "launched_on": launched_on.isoformat(),
            "closed_on": closed_on.isoformat(),
            "closed_by": closed_by,
            "country": details.country.strip().upper(),
            "languages": list(spec.languages),
            "audience": details.audience.strip(),
            "audience_moderator": moderator,
            "target_n": spec.target_n,
            "min_cell_size": min_cell,
            "rehearsal": rehearsal,
        },
        "frames": frames,
        "outcomes": {
            name: info for name, info in outcomes.items() if any(r["outcome"] == name for r in rows)
        },
        "results": rows,
    }
    validate_card(card)
    return card


def _label(label: Any, lang: str) -> str | None:
    if isinstance(label, Mapping):
        return label.get(lang) or next(iter(label.values()), None)
    return label


# ------------------------------------------------------------------ validation


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
        if _number(moderator["value"]) is None:
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
        se = _number(row["std_error"])
        if _number(row["estimate"]) is None or se is None or se <= 0:
            raise _fail(where, "expected a finite estimate and a positive std_error")
        for key in ("conf_low", "conf_high"):
            if row.get(key) is not None and _number(row[key]) is None:
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


# ------------------------------------------------------------------ signing


def card_id(card: Mapping[str, Any]) -> str:
    """The card's identity: sha256 of its canonical bytes."""
    return hashlib.sha256(canonical(card)).hexdigest()


def seal(card: Mapping[str, Any], key: card_keys.SigningKey) -> dict[str, Any]:
    """The signed envelope of a card (what is exported and imported)."""
    validate_card(card)
    return {
        "format": ENVELOPE,
        "card": card,
        "signature": {
            "algorithm": "Ed25519",
            "key_id": key.key_id,
            "value": key.sign(canonical(card)),
        },
    }


def open_envelope(
    raw: bytes | str, partners: Mapping[str, Ed25519PublicKey]
) -> tuple[dict[str, Any], str]:
    """The verified card in a signed file and the key id that signed it.

    `partners` maps key ids to the public keys this instance trusts. Raises CardRefused
    with a message for people: not a card file, signed by a key nobody registered, a
    signature that does not match (the card was changed after signing), or a card
    that breaks the schema.
    """
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CardRefused("card file: not JSON (expected a signed .card.json file)") from None
    if not isinstance(envelope, dict) or envelope.get("format") != ENVELOPE:
        raise CardRefused(f"card file: expected a signed results card ({ENVELOPE})")
    signature = envelope.get("signature")
    card = envelope.get("card")
    if not isinstance(signature, dict) or not isinstance(card, dict):
        raise CardRefused("card file: the card or its signature is missing")
    if signature.get("algorithm") != "Ed25519":
        raise CardRefused("card signature: expected an Ed25519 signature")
    kid = signature.get("key_id")
    public = partners.get(kid) if isinstance(kid, str) else None
    if public is None:
        raise CardRefused(
            "card signature: signed by a key no partner of this instance registered "
            f"(key {str(kid)[:16]}…); add the partner's public key first"
        )
    try:
        message = canonical(card)
    except ValueError:
        raise CardRefused("card: holds a number that is not finite") from None
    value = signature.get("value")
    if not isinstance(value, str) or not card_keys.verify(public, message, value):
        raise CardRefused(
            "card signature: does not match the card. It was changed after it was signed "
            "(or damaged on the way); ask the partner for the original file"
        )
    validate_card(card)
    return card, kid
