"""Changing a question's kind of answer (likert, slider, binary, choice, text).

Public API::

    change_type(spec, item_id, new_type, preset=None) -> Study

Answers carry over where they fit: the options of a 5- or 7-option choice become the
points of a scale and the labelled points of a scale become options; otherwise a scale
starts from the agree-disagree preset (when it covers the study's languages) and a
choice from two numbered options, to be edited next. Fields of the old type go.
"""

from __future__ import annotations

from framelab.domain.builder.label_presets import PRESETS, option_label
from framelab.domain.builder.question_data import item_data, new_text, preset_likert, validated
from framelab.domain.builder.question_references import position
from framelab.domain.errors import StudyError
from framelab.domain.study import Item, Study

# Fields that belong to one item type (items.py rejects them on any other type).
TYPE_FIELDS = ("points", "labels", "reverse", "min_label", "max_label", "yes_label")
TYPE_FIELDS += ("no_label", "options", "max_length")


def change_type(spec: Study, item_id: str, new_type: str, preset: str | None = None) -> Study:
    """The question as another type, with answers carried over where they fit."""
    index = position(spec, item_id)
    loc = f"items[{index}]"
    item = spec.items[index]
    if new_type == item.type and not preset:
        return spec
    data = item_data(spec)
    target = data["items"][index]
    for name in TYPE_FIELDS:
        target.pop(name, None)
    target["type"] = new_type
    langs = spec.languages
    answers = _answer_labels(spec, item)
    if new_type == "likert":
        if preset:
            target["points"], target["labels"] = preset_likert(spec, preset, loc)
        elif answers and len(answers[spec.default_language]) in (5, 7):
            target["points"] = len(answers[spec.default_language])
            target["labels"] = new_text(spec, answers)
        elif PRESETS["agree_5"].covers(langs):
            target["points"], target["labels"] = preset_likert(spec, "agree_5", loc)
        else:
            target["points"] = 5
    elif new_type == "choice":
        count = len(answers[spec.default_language]) if answers else 2
        target["options"] = [
            {
                "value": n + 1,
                "label": new_text(
                    spec,
                    {
                        lang: answers[lang][n] if answers else option_label(lang, n + 1)
                        for lang in langs
                    },
                ),
            }
            for n in range(count)
        ]
    elif new_type not in ("slider", "binary", "text"):
        raise StudyError(
            [(f"{loc}.type", f"expected likert, slider, binary, choice or text, got {new_type!r}")]
        )
    return validated(data)


def _answer_labels(spec: Study, item: Item) -> dict[str, list[str]] | None:
    """Every answer's label per language when the item labels all of them (else None)."""
    if item.type == "choice" and item.options:
        return {
            lang: [o.label.get(lang, spec.default_language) for o in item.options]
            for lang in spec.languages
        }
    if item.type == "likert" and item.labels is not None:
        labels = {lang: item.labels.get(lang, spec.default_language) for lang in spec.languages}
        if all(len(v) == item.points for v in labels.values()):
            return labels
    return None
