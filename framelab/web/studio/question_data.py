"""Building blocks of item data for the question and scale editors.

Public API::

    item_data(spec) -> dict                       # the spec as plain data to edit
    new_text(spec, values) -> str | dict          # a new localized value in the study's shape
    labels_data(spec, original, values)           # likert labels in the original's shape
    optional_text(spec, original, values)         # None when every language is empty
    preset_likert(spec, key, loc) -> (points, labels)
    lines(text) -> list[str]                      # one entry per non-empty line
    validated(data) -> Study                      # items without None keys, validated

A new localized value takes the shape of the study's title (a plain string in a
one-language study written that way); an existing one keeps its shape (see
``editing.localized_data``), so saving an unchanged form never changes the hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framelab.domain.errors import StudyError
from framelab.domain.study import Study, study_from_data
from framelab.web.studio.editing import localized_data
from framelab.web.studio.label_presets import PRESETS


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


def validated(data: dict[str, Any]) -> Study:
    data["items"] = [{k: v for k, v in item.items() if v is not None} for item in data["items"]]
    return study_from_data(data)
