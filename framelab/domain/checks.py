"""Cross-field rules of a study: the checks no single field can make.

``study_problems(study) -> list[tuple[str, str]]`` returns every problem as
``(location, message)``; ``Study`` raises them as a ``StudyError``. Each
message names what was found and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from framelab.domain.design_checks import design_problems
from framelab.domain.items import check_identifier
from framelab.domain.localized import LANGUAGE_PATTERN, Localized, LocalizedLabels
from framelab.domain.monitoring import monitoring_problems
from framelab.domain.panel import panel_problems
from framelab.domain.screening import screening_problems
from framelab.domain.translation import translation_problems
from framelab.domain.values import VALUES, known_values
from framelab.domain.waves import wave_problems

if TYPE_CHECKING:
    from framelab.domain.study_fields import StudyFields

Problems = list[tuple[str, str]]


def study_problems(study: StudyFields) -> Problems:
    problems: Problems = []
    problems += _language_problems(study)
    problems += _id_problems(study)
    problems += _arm_problems(study)
    problems += _value_problems(study)
    problems += _manipulation_problems(study)
    problems += _scale_problems(study)
    problems += design_problems(study)
    problems += _analysis_problems(study)
    problems += monitoring_problems(study)
    problems += translation_problems(study)
    problems += screening_problems(study) + panel_problems(study)
    problems += wave_problems(study)
    return problems


def _language_problems(study: StudyFields) -> Problems:
    problems: Problems = []
    for i, lang in enumerate(study.languages):
        if not LANGUAGE_PATTERN.match(lang):
            problems.append(
                (
                    f"languages[{i}]",
                    f"'{lang}' is not a language code (expected e.g. en, es, pt-BR)",
                )
            )
        elif lang in study.languages[:i]:
            problems.append((f"languages[{i}]", f"language '{lang}' is listed twice"))
    if not study.languages:
        return [*problems, ("languages", "expected at least one language")]
    if study.default_language not in study.languages:
        problems.append(
            (
                "default_language",
                f"'{study.default_language}' is not in languages ({', '.join(study.languages)})",
            )
        )
        return problems
    declared = set(study.languages)
    for loc, text in _localized_fields(study, ""):
        present = text.languages(study.default_language)
        for lang in study.languages:
            if lang not in present:
                problems.append((f"{loc}.{lang}", f"missing text for language '{lang}'"))
        for lang in sorted(present - declared):
            problems.append(
                (
                    f"{loc}.{lang}",
                    f"text for '{lang}', which is not in languages ({', '.join(study.languages)})",
                )
            )
    return problems


def _localized_fields(node: Any, loc: str) -> Iterator[tuple[str, Localized | LocalizedLabels]]:
    """Every localized text in the study with its location, in document order."""
    if isinstance(node, Localized | LocalizedLabels):
        yield loc, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _localized_fields(getattr(node, name), f"{loc}.{name}" if loc else name)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _localized_fields(child, f"{loc}[{i}]")


def _duplicates(kind: str, ids: list[str]) -> Problems:
    problems: Problems = []
    first: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in first:
            problems.append(
                (f"{kind}[{i}].id", f"duplicate id '{ident}' (also {kind}[{first[ident]}])")
            )
        first.setdefault(ident, i)
    return problems


def _id_problems(study: StudyFields) -> Problems:
    problems = _duplicates("arms", [a.id for a in study.arms])
    problems += _duplicates("items", [i.id for i in study.items])
    problems += _duplicates("scales", [s.id for s in study.scales])
    item_ids = {i.id for i in study.items}
    for i, scale in enumerate(study.scales):
        if scale.id in item_ids:
            problems.append(
                (
                    f"scales[{i}].id",
                    f"'{scale.id}' is already an item id; scales and items share names",
                )
            )
    return problems


def _arm_problems(study: StudyFields) -> Problems:
    problems: Problems = []
    if not study.arms:
        return [("arms", "expected a control arm and at least one frame arm")]
    controls = [i for i, a in enumerate(study.arms) if a.control]
    if not controls:
        problems.append(("arms", "no control arm: exactly one arm needs control: true"))
    for i in controls[1:]:
        problems.append(
            (
                f"arms[{i}].control",
                f"a second control arm ('{study.arms[i].id}'); exactly one arm may have control: true (first: '{study.arms[controls[0]].id}')",
            )
        )
    if len(study.arms) - len(controls) < 1:
        problems.append(("arms", "expected at least one frame arm besides the control"))
    for i, arm in enumerate(study.arms):
        if not arm.control and arm.frame is None:
            problems.append(
                (f"arms[{i}].frame", f"frame arm '{arm.id}' needs a frame (title and body)")
            )
        if arm.control and arm.frame is not None and arm.frame.values:
            problems.append(
                (f"arms[{i}].frame.values", "the control's placebo text must not carry value tags")
            )
        if arm.factors is not None and study.design.scheme != "factorial":
            problems.append(
                (
                    f"arms[{i}].factors",
                    f"factors are only for factorial designs; the scheme is {study.design.scheme}",
                )
            )
    return problems


def _unknown_value(tag: str, known: list[str]) -> str:
    return f"'{tag}' is not a known value (known: {', '.join(known)})"


def _value_problems(study: StudyFields) -> Problems:
    problems: Problems = []
    for i, tag in enumerate(study.custom_values):
        try:
            check_identifier(tag)
        except ValueError as exc:
            problems.append((f"custom_values[{i}]", str(exc)))
        if tag in VALUES:
            problems.append(
                (
                    f"custom_values[{i}]",
                    f"'{tag}' is already a built-in value; remove it from custom_values",
                )
            )
    known = known_values(study.custom_values)
    for i, arm in enumerate(study.arms):
        for j, tag in enumerate(arm.frame.values if arm.frame else []):
            if tag not in known:
                problems.append((f"arms[{i}].frame.values[{j}]", _unknown_value(tag, known)))
    for i, item in enumerate(study.items):
        if item.value is not None and item.value not in known:
            problems.append((f"items[{i}].value", _unknown_value(item.value, known)))
    for i, scale in enumerate(study.scales):
        if scale.value is not None and scale.value not in known:
            problems.append((f"scales[{i}].value", _unknown_value(scale.value, known)))
    return problems


def _manipulation_problems(study: StudyFields) -> Problems:
    """What a manipulation check's options mean: a known value, or arms of this study."""
    problems: Problems = []
    known = known_values(study.custom_values)
    arms = [a.id for a in study.arms]
    for i, item in enumerate(study.items):
        for j, option in enumerate(item.options or []):
            loc = f"items[{i}].options[{j}]"
            if option.value_tag is not None and option.value_tag not in known:
                problems.append((f"{loc}.value_tag", _unknown_value(option.value_tag, known)))
            for k, arm in enumerate(option.correct_for or []):
                if arm not in arms:
                    problems.append(
                        (
                            f"{loc}.correct_for[{k}]",
                            f"'{arm}' is not an arm of this study (arms: {', '.join(arms)})",
                        )
                    )
    return problems


def _scale_problems(study: StudyFields) -> Problems:
    problems: Problems = []
    items = {i.id: i for i in study.items}
    for i, scale in enumerate(study.scales):
        loc = f"scales[{i}]"
        if len(scale.items) < 2:
            problems.append(
                (f"{loc}.items", f"a scale needs at least two items, got {len(scale.items)}")
            )
        members = []
        for j, item_id in enumerate(scale.items):
            if item_id not in items:
                problems.append(
                    (f"{loc}.items[{j}]", f"'{item_id}' is not an item (items: {', '.join(items)})")
                )
            elif items[item_id].type not in ("likert", "slider"):
                problems.append(
                    (
                        f"{loc}.items[{j}]",
                        f"'{item_id}' is a {items[item_id].type} item; scales average likert or slider items",
                    )
                )
            else:
                members.append((j, items[item_id]))
            if item_id in scale.items[:j]:
                problems.append((f"{loc}.items[{j}]", f"'{item_id}' is listed twice"))
        if members:
            _, first = members[0]
            for j, item in members[1:]:
                if item.phase != first.phase:
                    problems.append(
                        (
                            f"{loc}.items[{j}]",
                            f"'{item.id}' is asked in {'+'.join(item.phase)} but '{first.id}' in {'+'.join(first.phase)}; scale items need the same phase",
                        )
                    )
                if (item.type, item.points) != (first.type, first.points):
                    problems.append(
                        (
                            f"{loc}.items[{j}]",
                            f"'{item.id}' does not match '{first.id}' in type and points; scale items must be on the same response scale",
                        )
                    )
    return problems


def _analysis_problems(study: StudyFields) -> Problems:
    plan = study.analysis
    items = {i.id: i for i in study.items}
    scales = {s.id: s for s in study.scales}
    names = ", ".join([*items, *scales])
    problems: Problems = []

    def phases_of(name: str) -> list[str]:
        if name in items:
            return items[name].phase
        # A scale without items is reported by the scale checks; it has no phase here.
        first = scales[name].items[0] if scales[name].items else None
        return items[first].phase if first in items else []

    if not plan.primary:
        problems.append(("analysis.primary", "expected at least one primary outcome"))
    listed: dict[str, str] = {}
    for field in ("primary", "secondary"):
        for j, name in enumerate(getattr(plan, field)):
            loc = f"analysis.{field}[{j}]"
            if name in listed:
                # A repeated outcome would be tested twice and skew the correction.
                problems.append((loc, f"'{name}' is already listed at {listed[name]}"))
                continue
            listed[name] = loc
            if name not in items and name not in scales:
                problems.append((loc, f"'{name}' is not an item or scale (known: {names})"))
            elif name in items and items[name].type == "text":
                problems.append((loc, f"'{name}' is a free-text item and cannot be an outcome"))
            elif "post" not in phases_of(name):
                problems.append(
                    (
                        loc,
                        f"'{name}' is not measured in the post phase; outcomes are measured after the message",
                    )
                )
    for field in ("covariates", "moderators"):
        for j, name in enumerate(getattr(plan, field)):
            loc = f"analysis.{field}[{j}]"
            if name not in items and name not in scales:
                problems.append((loc, f"'{name}' is not an item or scale (known: {names})"))
            elif name in items and items[name].type == "text":
                problems.append((loc, f"'{name}' is a free-text item and cannot be a {field[:-1]}"))
            elif "pre" not in phases_of(name):
                problems.append(
                    (
                        loc,
                        f"'{name}' is a post-phase item; {field} must be measured before treatment",
                    )
                )
    if "speeder" in plan.exclude and study.quality.speeder_seconds is None:
        problems.append(
            (
                f"analysis.exclude[{plan.exclude.index('speeder')}]",
                "'speeder' excludes nobody without quality.speeder_seconds (the fewest "
                "seconds a real participant needs); set it or drop 'speeder'",
            )
        )
    return problems
