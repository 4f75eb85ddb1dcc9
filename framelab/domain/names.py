"""Names a campaigner reads for the parts of a study, never the identifiers the data uses.

An arm is called by its label when it has one, else by its role and place: "Control",
"Frame 1", "Frame 2", ... (frames numbered in their order, the control left out). The arm's
id stays what the data and links use; only what people read changes.

A translatable text (a `TextUnit` key such as ``arms.frame_1.frame.body`` or
``items.politics.options.3.label``) is described in words: "Frame 1 – message body",
"Question 'politics' – option 3".

Pure: no Flask, no database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from framelab.domain.items import Item
    from framelab.domain.study import Study

CONTROL = "Control"

_STUDY_TEXTS = {
    "title": "Study title",
    "consent": "Consent page",
    "debrief": "Debrief page",
}
_ARM_TEXTS = {
    "label": "name",
    "frame.title": "message title",
    "frame.body": "message body",
}
_ITEM_TEXTS = {
    "text": "question",
    "label": "short name in the report",
    "min_label": "label of the lowest end",
    "max_label": "label of the highest end",
    "yes_label": "“yes” answer",
    "no_label": "“no” answer",
}


def arm_name(study: Study, arm_id: str, lang: str | None = None) -> str:
    """The arm's label in `lang` (default language when None), else "Control" / "Frame N"."""
    arm = study.arm(arm_id)
    if arm.label is not None:
        label = study.text(arm.label, lang or study.default_language).strip()
        if label:
            return label
    return place_name(study, arm_id)


def place_name(study: Study, arm_id: str) -> str:
    """The arm's name by its role and place, whatever its label: "Control", "Frame 2"."""
    if study.arm(arm_id).control:
        return CONTROL
    return f"Frame {[a.id for a in study.frame_arms].index(arm_id) + 1}"


def arm_names(study: Study, lang: str | None = None) -> dict[str, str]:
    """Arm id -> its name, for every arm in order."""
    return {arm.id: arm_name(study, arm.id, lang) for arm in study.arms}


def text_name(study: Study, key: str) -> str:
    """What a translatable text is, in words, from its key (the key itself when unknown)."""
    if key in _STUDY_TEXTS:
        return _STUDY_TEXTS[key]
    head, _, rest = key.partition(".")
    ident, _, part = rest.partition(".")
    if head == "arms" and ident in study.arm_ids:
        arm = study.arm(ident)
        what = _ARM_TEXTS.get(part, part)
        if arm.control and part.startswith("frame."):
            what = what.replace("message", "placebo")
        return f"{arm_name(study, ident)} – {what}"
    items = {item.id: item for item in study.items}
    if head == "items" and ident in items:
        return f"Question '{ident}' – {_item_part(items[ident], part)}"
    if head == "scales" and any(scale.id == ident for scale in study.scales):
        return f"Scale '{ident}' – name in the report"
    return key


def _item_part(item: Item, part: str) -> str:
    if part in _ITEM_TEXTS:
        return _ITEM_TEXTS[part]
    pieces = part.split(".")
    if pieces[0] == "labels" and len(pieces) == 2:
        return f"answer {pieces[1]}"
    if pieces[0] == "options" and len(pieces) == 3:
        # Keys name an option by its stored value; people count options by their place.
        values = [str(option.value) for option in item.options or []]
        place = values.index(pieces[1]) + 1 if pieces[1] in values else pieces[1]
        return f"option {place}"
    return part
