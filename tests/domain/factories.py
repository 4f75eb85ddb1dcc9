"""Small studies for domain tests, built as plain data so one field can be changed.

small_study_data(**changes) -> dict     # a valid bilingual blocked study
small_study(**changes) -> Study
with_change(data, "design.block_size", 10) -> dict   # dotted path, [i] for list items
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from framelab.domain.study import Study, study_from_data

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
AGREE = {
    "en": ["Strongly disagree", "Strongly agree"],
    "es": ["Muy en desacuerdo", "Muy de acuerdo"],
}

_SMALL: dict[str, Any] = {
    "slug": "small-study",
    "title": {"en": "Small study", "es": "Estudio pequeño"},
    "languages": ["en", "es"],
    "consent": {"en": "You may stop at any time.", "es": "Puedes parar cuando quieras."},
    "debrief": {"en": "Thank you.", "es": "Gracias."},
    "arms": [
        {
            "id": "control",
            "control": True,
            "frame": {
                "title": {"en": "Parks", "es": "Parques"},
                "body": {"en": "Parks are open.", "es": "Los parques abren."},
            },
        },
        {
            "id": "care",
            "frame": {
                "title": {"en": "Harm", "es": "Daño"},
                "body": {"en": "No one should suffer.", "es": "Nadie debería sufrir."},
                "values": ["care"],
            },
        },
        {
            "id": "liberty",
            "frame": {
                "title": {"en": "Power", "es": "Poder"},
                "body": {"en": "Limit the state.", "es": "Limitar al Estado."},
                "values": ["liberty"],
            },
        },
    ],
    "items": [
        {
            "id": "ideology",
            "type": "likert",
            "points": 5,
            "phase": "pre",
            "text": {"en": "Left or right?", "es": "¿Izquierda o derecha?"},
        },
        {
            "id": "care_1",
            "type": "likert",
            "points": 5,
            "phase": "pre",
            "value": "care",
            "labels": AGREE,
            "text": {"en": "Suffering hurts me.", "es": "El sufrimiento me duele."},
        },
        {
            "id": "care_2",
            "type": "likert",
            "points": 5,
            "phase": "pre",
            "value": "care",
            "labels": AGREE,
            "text": {"en": "I protect the weak.", "es": "Protejo a los débiles."},
        },
        {
            "id": "attn",
            "type": "choice",
            "phase": "pre",
            "role": "attention_check",
            "correct": 2,
            "text": {"en": "Choose Blue.", "es": "Elige Azul."},
            "options": [
                {"value": 1, "label": {"en": "Red", "es": "Rojo"}},
                {"value": 2, "label": {"en": "Blue", "es": "Azul"}},
            ],
        },
        {
            "id": "support",
            "type": "likert",
            "points": 7,
            "phase": ["pre", "post"],
            "role": "outcome",
            "text": {"en": "Support the ban?", "es": "¿Apoyas la prohibición?"},
        },
        {
            "id": "join_sms",
            "type": "binary",
            "phase": "post",
            "role": "intent",
            "text": {"en": "Join?", "es": "¿Unirte?"},
        },
        {
            "id": "donate",
            "type": "slider",
            "phase": "post",
            "role": "intent",
            "text": {"en": "Donate?", "es": "¿Donar?"},
        },
        {
            "id": "comment",
            "type": "text",
            "phase": "post",
            "required": False,
            "max_length": 20,
            "text": {"en": "Anything else?", "es": "¿Algo más?"},
        },
    ],
    "scales": [{"id": "care_values", "items": ["care_1", "care_2"], "value": "care"}],
    "design": {
        "scheme": "blocked",
        "block_by": "ideology",
        "strata": {"left": [1, 2], "centre": [3], "right": [4, 5]},
        "block_size": 6,
        "seed": 7,
    },
    "analysis": {
        "primary": ["support"],
        "secondary": ["join_sms"],
        "covariates": ["ideology", "care_values"],
        "moderators": ["ideology"],
    },
}

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def with_change(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with the value at ``path`` (``arms[1].frame.values``) replaced.

    ``value=...`` (Ellipsis) deletes the key instead.
    """
    data = copy.deepcopy(data)
    steps: list[str | int] = [int(index) if index else key for key, index in _STEP.findall(path)]
    target: Any = data
    for step in steps[:-1]:
        target = target[step]
    if value is ...:
        del target[steps[-1]]
    else:
        target[steps[-1]] = value
    return data


def small_study_data(**changes: Any) -> dict[str, Any]:
    """The small study as data; keyword ``a__b=v`` sets ``a.b`` (``__0`` indexes lists)."""
    data = copy.deepcopy(_SMALL)
    for key, value in changes.items():
        path = re.sub(r"__(\d+)", r"[\1]", key).replace("__", ".")
        data = with_change(data, path, value)
    return data


def small_study(**changes: Any) -> Study:
    return study_from_data(small_study_data(**changes))
