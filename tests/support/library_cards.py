"""Synthetic results cards for the library's tests (tests/reference/meta/synthetic_effects.csv).

Each CSV row becomes one partner study's card: a care frame whose Hedges' g on
`post_support` is the row's estimate with its standard error, the study's audience
ideology as the card's moderator. The pooled figures must equal metafor's on the same
rows (tests/reference/meta/metafor_reference.json, "synthetic" and "synthetic_ideology").
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from framelab.services import cards

SYNTHETIC_CSV = Path(__file__).resolve().parents[1] / "reference" / "meta" / "synthetic_effects.csv"
REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "meta" / "metafor_reference.json"


def synthetic_rows() -> list[dict[str, Any]]:
    with SYNTHETIC_CSV.open(encoding="utf-8") as handle:
        return [
            {
                "study": row["study"],
                "estimate": float(row["estimate"]),
                "std_error": float(row["std_error"]),
                "n": int(row["n"]),
                "ideology": float(row["ideology"]),
            }
            for row in csv.DictReader(handle)
        ]


def metafor_reference(name: str) -> dict[str, Any]:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))[name]


def synthetic_card(
    row: dict[str, Any],
    *,
    country: str = "KE",
    languages: tuple[str, ...] = ("en", "sw"),
    audience: str = "Adults in Nairobi reached through a panel",
    messenger: str | None = "a nurse",
    value: str = "care",
    rehearsal: bool = False,
) -> dict[str, Any]:
    """A valid card of one synthetic study (half the n in each arm)."""
    n_t = row["n"] // 2
    title, body = f"Care appeal ({row['study']})", "Torture harms people and families."
    card = {
        "schema": cards.SCHEMA,
        "study": {
            "title": f"Synthetic campaign {row['study']}",
            "launched_on": "2026-09-01",
            "closed_on": "2026-10-01",
            "closed_by": "target",
            "country": country,
            "languages": list(languages),
            "audience": audience,
            "audience_moderator": {"name": "audience ideology", "value": row["ideology"]},
            "target_n": row["n"],
            "min_cell_size": 10,
            "rehearsal": rehearsal,
        },
        "frames": [
            {
                "arm": "care",
                "label": "Care (harm)",
                "values": [value],
                "messenger": messenger,
                "text_sha256": cards.frame_text_hash(title, body),
            }
        ],
        "outcomes": {"post_support": {"label": "support for a total ban", "type": "ordinal"}},
        "results": [
            {
                "arm": "care",
                "outcome": "post_support",
                "subgroup": None,
                "scale": "smd",
                "method": "hedges_g",
                "estimate": row["estimate"],
                "std_error": row["std_error"],
                "conf_low": None,
                "conf_high": None,
                "n_treatment": n_t,
                "n_control": row["n"] - n_t,
            }
        ],
    }
    cards.validate_card(card)
    return card
