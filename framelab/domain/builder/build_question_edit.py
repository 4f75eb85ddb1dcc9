"""The edit-question form's changes to one question (pure): spec in, new validated spec out.

Public API::

    ItemEdit                                  # what the edit form submitted
    edit_item(spec, item_id, edit) -> Study

Texts, phase, role and the type's own parts (labels, points, options, length) change
together in one submission; like ``build_questions``, every function raises StudyError
with study-file locations and keeps each localized value's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from framelab.domain.builder.build_questions import phases_from_ui, role_fields
from framelab.domain.builder.editing import localized_data
from framelab.domain.builder.label_presets import PRESETS, matching_preset, sibling
from framelab.domain.builder.question_data import (
    item_data,
    labels_data,
    lines,
    new_text,
    optional_text,
    preset_likert,
    validated,
)
from framelab.domain.builder.question_references import (
    in_use_error,
    option_references,
    position,
)
from framelab.domain.errors import StudyError
from framelab.domain.study import Item, Study


@dataclass
class ItemEdit:
    """The edit-question form (type-specific parts are ignored for other types)."""

    texts: dict[str, str]
    phase: str
    role: str
    required: bool
    value: str | None = None
    desired: str | None = None
    correct: int | None = None
    points: int | None = None
    preset: str = ""  # "" = the labels typed below, "none" = numbers only, else a preset key
    labels: dict[str, str] = field(default_factory=dict)  # one label per line
    min_label: dict[str, str] = field(default_factory=dict)
    max_label: dict[str, str] = field(default_factory=dict)
    yes_label: dict[str, str] = field(default_factory=dict)
    no_label: dict[str, str] = field(default_factory=dict)
    option_labels: dict[int, dict[str, str]] = field(default_factory=dict)
    remove_options: set[int] = field(default_factory=set)
    # manipulation checks: option value -> the value it names ("" removes the tag)
    option_tags: dict[int, str] = field(default_factory=dict)
    new_option: dict[str, str] = field(default_factory=dict)
    max_length: int | None = None
    label: dict[str, str] | None = None  # short name for reports; None: not on the form
    drop_references: bool = False


def edit_item(spec: Study, item_id: str, edit: ItemEdit) -> Study:
    """The spec with one question's wording, answers, phase, role and flags replaced."""
    index = position(spec, item_id)
    loc = f"items[{index}]"
    item = spec.items[index]
    data = item_data(spec)
    target = data["items"][index]
    target["text"] = localized_data(target["text"], edit.texts, spec.default_language)
    target["required"] = bool(edit.required)
    try:
        target["phase"] = phases_from_ui(edit.phase)
        role_fields(spec, target, edit.role, edit.value, edit.desired)
    except StudyError as exc:
        raise StudyError([(f"{loc}.{at}", msg) for at, msg in exc.errors]) from None
    target["correct"] = edit.correct if edit.role == "attention_check" else None
    if edit.label is not None:
        target["label"] = optional_text(spec, target.get("label"), edit.label)
    if item.type == "likert":
        _edit_likert(spec, item, target, edit, loc)
    elif item.type == "slider":
        target["min_label"] = optional_text(spec, target.get("min_label"), edit.min_label)
        target["max_label"] = optional_text(spec, target.get("max_label"), edit.max_label)
    elif item.type == "binary":
        target["yes_label"] = optional_text(spec, target.get("yes_label"), edit.yes_label)
        target["no_label"] = optional_text(spec, target.get("no_label"), edit.no_label)
    elif item.type == "choice":
        _edit_options(spec, item, data, target, edit, loc)
    else:
        target["max_length"] = edit.max_length
    return validated(data, before=spec)


def _edit_likert(spec: Study, item: Item, target: dict[str, Any], edit: ItemEdit, loc: str) -> None:
    points = edit.points or item.points
    current = matching_preset(item, spec.languages, spec.default_language)
    if edit.preset == "none":
        target["points"], target["labels"] = points, None
    elif edit.preset and edit.preset != current:
        target["points"], target["labels"] = preset_likert(spec, edit.preset, loc)
    elif current and points != item.points:
        other = sibling(current, points)
        if other is None:
            raise StudyError(
                [
                    (
                        f"{loc}.labels",
                        f"the labels '{PRESETS[current].name}' have no {points}-point version; "
                        "choose another label set or type your own",
                    )
                ]
            )
        target["points"], target["labels"] = preset_likert(spec, other, loc)
    else:
        target["points"] = points
        typed = {lang: lines(edit.labels.get(lang)) for lang in spec.languages}
        if item.labels is not None:
            # A label written with surrounding spaces comes back stripped: keep the original.
            for lang, words in typed.items():
                original = item.labels.get(lang, spec.default_language)
                if words == [w.strip() for w in original]:
                    typed[lang] = original
        has_any = any(typed.values())
        target["labels"] = labels_data(spec, target.get("labels"), typed) if has_any else None


def _edit_options(
    spec: Study,
    item: Item,
    data: dict[str, Any],
    target: dict[str, Any],
    edit: ItemEdit,
    loc: str,
) -> None:
    values = [o.value for o in item.options or []]
    removed = {v for v in edit.remove_options if v in values}
    refs = [
        r
        for v in sorted(removed)
        for r in option_references(spec, item.id, v)
        if not r.location.endswith(".correct")
    ]
    if refs and not edit.drop_references:
        raise in_use_error(
            f"{loc}.options",
            "An option you chose to remove",
            refs,
            "Tick 'also remove removed options from the blocking groups', or change the "
            "groups on the design page first.",
        )
    options = []
    for option in target["options"]:
        if option["value"] in removed:
            continue
        labels = edit.option_labels.get(option["value"])
        if labels is not None:
            option["label"] = localized_data(option["label"], labels, spec.default_language)
        tag = edit.option_tags.get(option["value"])
        if tag is not None:
            if tag:
                option["value_tag"] = tag
            else:
                option.pop("value_tag", None)
        options.append(option)
    new_label = {lang: (edit.new_option.get(lang) or "").strip() for lang in spec.languages}
    if any(new_label.values()):
        options.append({"value": max(values, default=0) + 1, "label": new_text(spec, new_label)})
    target["options"] = options
    strata = data["design"].get("strata")
    if removed and strata and data["design"].get("block_by") == item.id:
        kept = {k: [v for v in vs if v not in removed] for k, vs in strata.items()}
        data["design"]["strata"] = {k: vs for k, vs in kept.items() if vs} or None
