"""Turn submitted studio forms into a new study spec (pure: no Flask request, no database).

Each function takes the current spec and the submitted values and returns the edited
spec, raising StudyError with study-file locations (shown next to the fields).
A localized text keeps its original shape (a plain string stays a plain string when
the study has one language) so that saving an unchanged form changes no hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from framelab.domain.study import Study, study_from_data


def localized_data(original: Any, values: Mapping[str, str], default_language: str) -> Any:
    """Submitted texts per language in the shape of the original localized value.

    Browsers send CRLF line ends and may drop a trailing newline; a text that differs
    from the original only in that way is kept exactly as it was.
    """
    before = original if isinstance(original, dict) else {default_language: original}
    cleaned: dict[str, str] = {}
    for lang, text in values.items():
        value = (text or "").replace("\r\n", "\n")
        old = before.get(lang)
        if isinstance(old, str) and old.strip() == value.strip():
            value = old
        cleaned[lang] = value.strip() if value.strip() != (old or "").strip() else value
    if isinstance(original, str) and set(cleaned) == {default_language}:
        return cleaned[default_language]
    return cleaned


def keep_order(before: Sequence[str], chosen: Sequence[str]) -> list[str]:
    """Ticked boxes in the order they had in the study; newly ticked ones after, in form
    order. A group of checkboxes sends page order, and the order is part of the study
    (the first primary outcome, the hash), so an unchanged form must not reorder it."""
    kept = [name for name in before if name in chosen]
    return kept + [name for name in dict.fromkeys(chosen) if name not in kept]


def _data(spec: Study) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def edit_frame(
    spec: Study,
    arm_index: int,
    titles: Mapping[str, str],
    bodies: Mapping[str, str],
    values: Sequence[str],
) -> Study:
    """The spec with one arm's frame texts and value tags replaced."""
    data = _data(spec)
    frame = data["arms"][arm_index].get("frame") or {}
    lang = spec.default_language
    frame["title"] = localized_data(frame.get("title"), titles, lang)
    frame["body"] = localized_data(frame.get("body"), bodies, lang)
    if values or frame.get("values"):
        frame["values"] = keep_order(frame.get("values") or [], values)
    data["arms"][arm_index]["frame"] = frame
    return study_from_data(data)


def edit_texts(
    spec: Study,
    texts: Mapping[str, Mapping[str, str]],
    target_n: int | None,
    speeder_seconds: int | None,
) -> Study:
    """The spec with title/consent/debrief per language, target_n and speeder threshold."""
    data = _data(spec)
    for key, per_language in texts.items():
        data[key] = localized_data(data.get(key), per_language, spec.default_language)
    data["target_n"] = target_n
    quality = dict(data.get("quality") or {})
    quality["speeder_seconds"] = speeder_seconds
    data["quality"] = quality
    return study_from_data(data)


def set_target(spec: Study, target_n: int | None) -> Study:
    """The spec with a new target sample (completed participants); None removes it."""
    data = _data(spec)
    data["target_n"] = target_n
    return study_from_data(data)


def edit_plan(spec: Study, plan: Mapping[str, Any]) -> Study:
    """The spec with a new analysis plan section."""
    data = _data(spec)
    plan = {
        name: keep_order(data["analysis"].get(name) or [], value)
        if isinstance(value, list | tuple)
        else value
        for name, value in plan.items()
    }
    data["analysis"] = {**data["analysis"], **plan}
    return study_from_data(data)


def edit_design(spec: Study, design: Mapping[str, Any], weights: Mapping[str, int]) -> Study:
    """The spec with scheme, seed, block size, blocking item and weights replaced."""
    data = _data(spec)
    merged = {**data["design"], **design}
    merged["weights"] = dict(weights) if any(w != 1 for w in weights.values()) else None
    if merged.get("scheme") != "blocked":
        merged["block_by"] = None
        merged["strata"] = None
    elif merged.get("block_by") != data["design"].get("block_by"):
        merged["strata"] = None
    data["design"] = {k: v for k, v in merged.items() if v is not None}
    return study_from_data(data)
