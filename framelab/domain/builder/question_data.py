"""Building blocks of item data for the question and scale editors.

Public API::

    item_data(spec) -> dict                       # the spec as plain data to edit
    new_text(spec, values) -> str | dict          # a new localized value in the study's shape
    labels_data(spec, original, values)           # likert labels in the original's shape
    optional_text(spec, original, values)         # None when every language is empty
    preset_likert(spec, key, loc) -> (points, labels)
    lines(text) -> list[str]                      # one entry per non-empty line
    validated(data, before=None) -> Study         # items without None keys, validated

A new localized value takes the shape of the study's title (a plain string in a
one-language study written that way); an existing one keeps its shape (see
``editing.localized_data``), so saving an unchanged form never changes the hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framelab.domain.builder.editing import localized_data
from framelab.domain.builder.label_presets import PRESETS
from framelab.domain.errors import StudyError
from framelab.domain.study import Study, study_from_data
from framelab.domain.translation import text_units


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r\n", "\n").split("\n") if line.strip()]


def item_data(spec: Study) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def new_text(spec: Study, values: Mapping[str, Any]) -> Any:
    """A new localized value in the shape the study's title has (plain when one language)."""
    if isinstance(item_data(spec)["title"], str) and set(values) == {spec.default_language}:
        return values[spec.default_language]
    return {lang: values[lang] for lang in spec.languages if lang in values}


def labels_data(spec: Study, original: Any, values: Mapping[str, list[str]]) -> Any:
    if original is None:
        return new_text(spec, values)
    if isinstance(original, list) and set(values) == {spec.default_language}:
        return values[spec.default_language]
    return dict(values)


def optional_text(spec: Study, original: Any, values: Mapping[str, str]) -> Any:
    """A localized text that may be left out: None when every language is empty."""
    if not any((v or "").strip() for v in values.values()):
        return None
    if original is None:
        return new_text(spec, {k: (v or "").strip() for k, v in values.items()})
    return localized_data(original, values, spec.default_language)


def preset_likert(spec: Study, key: str, loc: str) -> tuple[int, Any]:
    if key not in PRESETS:
        raise StudyError(
            [(f"{loc}.labels", f"'{key}' is not a preset (known: {', '.join(PRESETS)})")]
        )
    preset = PRESETS[key]
    return preset.points, new_text(spec, preset.labels_for(spec.languages, f"{loc}.labels"))


def validated(data: dict[str, Any], before: Study | None = None) -> Study:
    """The edited study; with ``before``, texts the edit changed in a language are no
    longer listed as untranslated there (the translation view's list)."""
    data["items"] = [{k: v for k, v in item.items() if v is not None} for item in data["items"]]
    if before is not None:
        _drop_translated(before, data)
    return study_from_data(data)


def _drop_translated(before: Study, data: dict[str, Any]) -> None:
    notes = data.get("translation") or {}
    listed = notes.get("untranslated") or {}
    if not listed:
        return
    after = study_from_data({**data, "translation": None})
    old = {unit.key: unit for unit in text_units(before)}
    new = {unit.key: unit for unit in text_units(after)}
    default = after.default_language
    remaining = {}
    for lang, keys in listed.items():
        still = []
        for key in keys:
            unit = new.get(key)
            if unit is None or key not in old:
                still.append(key)  # a text the study no longer has is ignored there
                continue
            text = unit.text(after, lang)
            if text == old[key].text(before, lang) or text == unit.text(after, default):
                still.append(key)
        if still:
            remaining[lang] = still
    data["translation"] = {**notes, "untranslated": remaining}
