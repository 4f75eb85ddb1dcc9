"""The analysis plan that goes with a study's export: what `analysis.run` reads.

`analysis_plan(spec)` names the export's columns (framelab.services.codebook) for the
study's pre-registered analysis and carries what the report shows a reader: labels in
every language, each outcome's desired direction and answer range, the declared order
of answer options, the design's factors and manipulation checks
(framelab.services.plan_design). It reads only the study definition, never the database.
"""

from __future__ import annotations

import re
from typing import Any

from framelab.domain.study import Study as StudySpec
from framelab.services.codebook import item_column, scale_column, scale_phases
from framelab.services.export_waves import wave_plan
from framelab.services.plan_design import factor_plan, manipulation_plan

__all__ = ["OUTCOME_TYPES", "analysis_plan"]

OUTCOME_TYPES = {
    "likert": "ordinal",
    "binary": "binary",
    "slider": "continuous",
    "choice": "ordinal",
}


def analysis_plan(spec: StudySpec) -> dict[str, Any]:
    """The analysis package's plan dict for this study's pre-registered analysis.

    Besides the columns and settings, the plan carries what the report shows a
    reader: every label in each of the study's languages (outcomes, arms, moderator
    and covariate questions and their answers), the desired direction of each
    outcome, its answer range, and the declared order of answer options (the first
    option is a moderator's reference level, never the alphabetically first).
    """
    plan = spec.analysis
    scale_ids = {s.id for s in spec.scales}

    def outcome(name: str, primary: bool) -> dict[str, Any]:
        if name in scale_ids:
            scale = spec.scale(name)
            items = [spec.item(i) for i in scale.items]
            phases = scale_phases(spec, scale)
            record = {"name": scale_column("post", name), "type": "continuous"}
            baseline = scale_column("pre", name) if "pre" in phases else None
            label = _texts(spec, scale.label) if scale.label else _scale_name(spec, scale)
            desired = scale.desired
            ranges = {_answer_range(item) for item in items}
            answer_range = ranges.pop() if len(ranges) == 1 else None
        else:
            item = spec.item(name)
            record = {
                "name": item_column("post", name),
                "type": OUTCOME_TYPES.get(item.type, "continuous"),
            }
            baseline = item_column("pre", name) if item.in_phase("pre") else None
            label = _item_label(spec, item)
            desired = item.desired
            answer_range = _answer_range(item)
        if baseline:
            record["baseline"] = baseline
        record["primary"] = primary
        record["label"] = label
        record["desired"] = desired or "increase"
        if answer_range is not None and record["type"] != "binary":
            record["range"] = list(answer_range)
        return record

    def pre_column(name: str) -> str:
        if name in scale_ids:
            return scale_column("pre", name)
        return item_column("pre", name)

    labels: dict[str, Any] = {}
    value_labels: dict[str, Any] = {}
    levels: dict[str, list[int]] = {}
    for name in dict.fromkeys([*plan.covariates, *plan.moderators]):
        column = pre_column(name)
        if name in scale_ids:
            scale = spec.scale(name)
            labels[column] = _texts(spec, scale.label) if scale.label else _scale_name(spec, scale)
            continue
        item = spec.item(name)
        labels[column] = _item_label(spec, item)
        codes = item.allowed_values() or []
        if item.type in ("choice", "binary"):
            # unordered answers: declared option order, the first is the reference level
            # (Likert and slider answers stay numeric: one slope, not a dummy per point)
            levels[column] = list(codes)
        if item.type in ("choice", "binary", "likert"):
            answers = {
                str(code): {
                    lang: item.value_labels(lang, spec.default_language).get(code)
                    for lang in spec.languages
                }
                for code in codes
            }
            value_labels[column] = {
                code: {lang: text for lang, text in texts.items() if text}
                for code, texts in answers.items()
                if any(texts.values())
            }

    result: dict[str, Any] = {
        "arm": "arm",
        "control": spec.control_arm.id,
        "outcomes": [outcome(n, True) for n in plan.primary]
        + [outcome(n, False) for n in plan.secondary],
        "covariates": [pre_column(n) for n in plan.covariates],
        "moderators": [pre_column(n) for n in plan.moderators],
        "alpha": plan.alpha,
        "correction": plan.correction,
        "exclude": {**{flag: True for flag in plan.exclude}, "pilot": True},
        "status": "status",
        "weights": spec.weights(),
        "min_cell_size": spec.quality.min_cell_size,
        "seed": spec.design.seed,
        "language": spec.default_language,
        "arm_labels": {
            a.id: {lang: a.label_for(lang, spec.default_language) for lang in spec.languages}
            for a in spec.arms
        },
        "labels": labels,
        "value_labels": value_labels,
        "levels": levels,
        # Declared, not left to analysis's default, so the plan file says which df it used.
        "small_sample": plan.small_sample or "bell_mccaffrey",
    }
    for key in ("backlash_delta", "backlash_prior_sd"):  # in pooled SDs, like the bound
        if getattr(plan, key) is not None:
            result[key] = getattr(plan, key)
    scales = {
        scale_column(phase, scale.id): [item_column(phase, i) for i in scale.items]
        for scale in spec.scales
        for phase in scale_phases(spec, scale)
    }
    if scales:  # multi-item scales: their reliability is in the report's appendix
        result["scales"] = scales
    if spec.design.scheme == "blocked":
        result["blocks"] = "stratum"
    matches = _value_match(spec)
    if matches:
        result["value_match"] = matches
    checks = manipulation_plan(spec)  # issue 19: what each manipulation check should show
    if checks:
        result["manipulation_checks"] = checks
    result.update(factor_plan(spec))
    if plan.monitoring is not None:  # anytime-valid looks up to the locked target
        result["monitoring"] = plan.monitoring.plan_dict(spec.target_n)
    if spec.waves:  # follow-up waves: items named by their wave-1 columns (export_waves)
        result["waves"] = wave_plan(spec)
    return result


def _texts(spec: StudySpec, localized: Any) -> dict[str, str]:
    """A localized study text as {language: text} for every language of the study."""
    return {lang: spec.text(localized, lang) for lang in spec.languages}


def _item_label(spec: StudySpec, item: Any) -> dict[str, str]:
    """An item's short label in every language; without one, the question's last sentence.

    Campaigners write questions, not variable names: "Would you like to join?" names
    the outcome truthfully where the id `join_sms` would not.
    """
    if item.label is not None:
        return _texts(spec, item.label)
    return {lang: _last_sentence(spec.text(item.text, lang)) for lang in spec.languages}


def _scale_name(spec: StudySpec, scale: Any) -> dict[str, str]:
    first = spec.item(scale.items[0])
    if first.label is not None:
        return _texts(spec, first.label)
    return dict.fromkeys(spec.languages, scale.id.replace("_", " "))


_SENTENCE_END = re.compile(r"(?<=[.!?;:؟。！？])\s+")


def _last_sentence(text: str) -> str:
    """'… asking them to act. Would you like to join?' -> '“Would you like to join?”'."""
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip()) if p.strip()]
    tail = parts[-1] if parts else text.strip()
    return f"“{tail}”"


def _answer_range(item: Any) -> tuple[int, int] | None:
    values = item.allowed_values()
    if not values or item.type == "choice":
        return None
    return (min(values), max(values))


def _value_match(spec: StudySpec) -> dict[str, str]:
    """Frame arm -> pre-measured score on the value its frame appeals to (a scale or item)."""
    by_value: dict[str, str] = {}
    for scale in spec.scales:
        if scale.value and "pre" in scale_phases(spec, scale):
            by_value.setdefault(scale.value, scale_column("pre", scale.id))
    for item in spec.items_for("pre"):
        if item.value and item.type != "text":
            by_value.setdefault(item.value, item_column("pre", item.id))
    matches = {}
    for arm in spec.frame_arms:
        values = (arm.frame.values if arm.frame else None) or []
        found = [by_value[v] for v in values if v in by_value]
        if found:
            matches[arm.id] = found[0]
    return matches
