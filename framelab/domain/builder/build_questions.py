"""Pure edits of a study's questions (items): spec in, new validated spec out.

Public API::

    NewQuestion                               # what the add form submitted
    add_item(spec, new) -> Study
    move_item(spec, item_id, direction, phase=None) -> Study     # "up" | "down"
    rename_item(spec, item_id, new_id) -> Study                  # its uses follow
    remove_item(spec, item_id, drop_references=False) -> Study
    suggest_id(spec, text) -> str
    ui_role(item) / ui_phase(item)            # the form's view of role and phase

What else names a question is found by ``question_references``; a change of answer
kind is ``question_types.change_type``; the edit form's changes are
``build_question_edit.edit_item``.
Every function raises StudyError with study-file locations (``items[3].labels.es``),
so the studio shows each message next to its field. A localized value keeps the
shape it had (see ``editing.localized_data``); a new one takes the shape of the
study's title, so saving an unchanged form never changes the content hash.
The studio's "value-scale item" role is the study format's ``covariate`` with a
``value`` tag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from framelab.domain.builder.question_data import (
    item_data,
    lines,
    new_text,
    preset_likert,
    validated,
)
from framelab.domain.builder.question_references import (
    PLAN_LISTS,
    drop_from_plan,
    in_use_error,
    item_references,
    position,
)
from framelab.domain.errors import StudyError
from framelab.domain.study import Item, Study, study_from_data

ROLES_WITH_DIRECTION = ("outcome", "intent")
# English words left out of an identifier made from a question ("How much do you support
# the ban?" -> support_ban).
# fmt: off
_STOP_WORDS = frozenset((
    "a", "an", "the", "do", "does", "you", "your", "we", "our", "how", "much", "many", "what",
    "which", "is", "are", "be", "to", "of", "on", "in", "at", "for", "by", "with", "and", "or",
    "would", "will", "should", "this", "that", "it",
))
# fmt: on


@dataclass
class NewQuestion:
    """The add-a-question form: one submission makes a complete question."""

    texts: dict[str, str]
    type: str
    phase: str  # pre | post | both
    role: str  # a ui_role
    item_id: str = ""
    required: bool = True
    preset: str | None = None  # likert: a label_presets key, or None for numbers only
    options: dict[str, str] = field(default_factory=dict)  # choice: one option per line
    value: str | None = None
    desired: str | None = None
    correct: int | None = None


# ------------------------------------------------------------------ reading


def ui_role(item: Item) -> str:
    return "value_item" if item.role == "covariate" and item.value else item.role


def ui_phase(item: Item) -> str:
    return "both" if len(item.phase) == 2 else item.phase[0]


def phases_from_ui(ui: str) -> list[str]:
    if ui not in ("pre", "post", "both"):
        raise StudyError([("phase", f"expected pre, post or both, got {ui!r}")])
    return ["pre", "post"] if ui == "both" else [ui]


def suggest_id(spec: Study, text: str) -> str:
    """An unused identifier from the question's first words (``question_4`` when none fit)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    stop = _STOP_WORDS
    chosen = [w for w in words if w not in stop][:3]
    base = "_".join(chosen)[:40]
    if not base or not base[0].isalpha():
        base = f"question_{len(spec.items) + 1}"
    taken = {i.id for i in spec.items} | {s.id for s in spec.scales}
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def role_fields(
    spec: Study, data: dict[str, Any], role: str, value: str | None, desired: str | None
) -> None:
    """Set role, value tag and desired direction on item data from the form's choices."""
    if role == "value_item":
        if not value:
            raise StudyError([("value", "a value-scale item needs the value it measures")])
        data["role"], data["value"] = "covariate", value
    else:
        data["role"] = role
        data["value"] = None if role == "covariate" else (value or None)
    if role in ROLES_WITH_DIRECTION and desired in ("increase", "decrease"):
        before = data.get("desired")
        # "increase" is what an unset direction means: keep it unset.
        if not (before is None and desired == "increase"):
            data["desired"] = desired
    else:
        data.pop("desired", None)


# ------------------------------------------------------------------ add, move, remove


def add_item(spec: Study, new: NewQuestion) -> Study:
    """The spec with one complete question appended."""
    index = len(spec.items)
    loc = f"items[{index}]"
    texts = {lang: (new.texts.get(lang) or "").strip() for lang in spec.languages}
    item_id = (new.item_id or "").strip() or suggest_id(spec, texts[spec.default_language])
    item: dict[str, Any] = {
        "id": item_id,
        "type": new.type,
        "text": new_text(spec, texts),
        "phase": phases_from_ui(new.phase),
        "required": new.required,
    }
    try:
        role_fields(spec, item, new.role, new.value, new.desired)
    except StudyError as exc:
        raise StudyError([(f"{loc}.{at}", msg) for at, msg in exc.errors]) from None
    if new.type == "likert":
        if new.preset:
            item["points"], item["labels"] = preset_likert(spec, new.preset, loc)
        else:
            item["points"] = 5
    elif new.type == "choice":
        item["options"] = _options_from_lines(spec, new.options, loc)
    if new.role == "attention_check":
        item["correct"] = new.correct
    data = item_data(spec)
    data["items"].append(item)
    return validated(data)


def _options_from_lines(spec: Study, lines_by_lang: Mapping[str, str], loc: str) -> list[dict]:
    given = {lang: lines(lines_by_lang.get(lang)) for lang in spec.languages}
    first = given[spec.default_language]
    if len(first) < 2:
        raise StudyError(
            [(f"{loc}.options", "a choice question needs at least two options, one per line")]
        )
    problems = [
        (
            f"{loc}.options.{lang}",
            f"{len(got)} options in '{lang}' but {len(first)} in '{spec.default_language}'; "
            "give every language the same options, one per line, in the same order",
        )
        for lang, got in given.items()
        if len(got) != len(first)
    ]
    if problems:
        raise StudyError(problems)
    return [
        {"value": n + 1, "label": new_text(spec, {lang: given[lang][n] for lang in given})}
        for n in range(len(first))
    ]


def move_item(spec: Study, item_id: str, direction: str, phase: str | None = None) -> Study:
    """Swap the item with its neighbour in ``phase``'s list (the whole list when None)."""
    if direction not in ("up", "down"):
        raise StudyError([("direction", f"expected up or down, got {direction!r}")])
    data = item_data(spec)
    items = data["items"]
    here = position(spec, item_id)
    group = [j for j, it in enumerate(items) if phase is None or phase in it["phase"]]
    if here not in group:
        raise StudyError([("phase", f"'{item_id}' is not asked in the {phase} phase")])
    pos = group.index(here)
    target = pos - 1 if direction == "up" else pos + 1
    if not 0 <= target < len(group):
        return spec
    there = group[target]
    items[here], items[there] = items[there], items[here]
    return study_from_data(data)


def rename_item(spec: Study, item_id: str, new_id: str) -> Study:
    """The question under a new short name; the design, scales, plan and translation list
    that name it follow."""
    new_id = new_id.strip()
    index = position(spec, item_id)
    if new_id == item_id:
        return spec
    taken = {i.id for i in spec.items} | {s.id for s in spec.scales}
    if new_id in taken:
        raise StudyError([(f"items[{index}].id", f"'{new_id}' is already a question or scale")])
    data = item_data(spec)
    data["items"][index]["id"] = new_id
    if data["design"].get("block_by") == item_id:
        data["design"]["block_by"] = new_id
    for scale in data["scales"]:
        scale["items"] = [new_id if i == item_id else i for i in scale["items"]]
    for list_name in PLAN_LISTS:
        plan = data["analysis"]
        plan[list_name] = [new_id if n == item_id else n for n in plan[list_name]]
    notes = data.get("translation") or {}
    if notes.get("untranslated"):
        old, new = f"items.{item_id}.", f"items.{new_id}."
        notes["untranslated"] = {
            lang: [new + k.removeprefix(old) if k.startswith(old) else k for k in keys]
            for lang, keys in notes["untranslated"].items()
        }
    return validated(data)


def remove_item(spec: Study, item_id: str, drop_references: bool = False) -> Study:
    """The spec without the item; its uses are removed too only when asked."""
    index = position(spec, item_id)
    refs = item_references(spec, item_id)
    if refs and not drop_references:
        raise in_use_error(
            f"items[{index}]",
            f"The question '{item_id}'",
            refs,
            "Remove those uses first, or remove the question together with its uses.",
        )
    data = item_data(spec)
    del data["items"][index]
    removed = {item_id}
    if data["design"].get("block_by") == item_id:
        data["design"]["scheme"] = "complete"
        data["design"]["block_by"] = None
        data["design"]["strata"] = None
    kept_scales = []
    for scale in data["scales"]:
        scale["items"] = [i for i in scale["items"] if i != item_id]
        if len(scale["items"]) >= 2:
            kept_scales.append(scale)
        else:
            removed.add(scale["id"])
    data["scales"] = kept_scales
    drop_from_plan(data, removed)
    data["design"] = {k: v for k, v in data["design"].items() if v is not None}
    return study_from_data(data)
