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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from framelab.services import card_keys
from framelab.services.card_schema import (
    SCHEMA,
    CardRefused,
    canonical,
    frame_text_hash,
    number,
    validate_card,
)

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

ENVELOPE = "framelab.signed-card/1"


@dataclass(frozen=True)
class CardDetails:
    """What the exporter adds that the study file does not say."""

    country: str  # ISO 3166-1 alpha-2, e.g. "KE"
    audience: str  # a short description of who took part, written by staff
    messengers: Mapping[str, str] = field(default_factory=dict)  # arm id -> messenger
    include_text: bool = False
    moderator_name: str | None = None  # e.g. "audience ideology (1 left .. 7 right)"
    moderator_value: float | None = None


def _count(value: Any) -> int | None:
    found = number(value)
    return int(found) if found is not None else None


def _row(
    arm: str, outcome: str, subgroup: Mapping[str, str] | None, scale: str, method: str, r: Mapping
) -> dict[str, Any] | None:
    estimate, se = number(r.get("estimate")), number(r.get("std_error"))
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
        "conf_low": number(r.get("conf_low")),
        "conf_high": number(r.get("conf_high")),
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
        if number(details.moderator_value) is None:
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
