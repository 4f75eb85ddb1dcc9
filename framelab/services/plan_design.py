"""The parts of the analysis plan that follow from the design: manipulation checks, factors.

`analysis_plan` (framelab.services.export_plan) adds these keys; the analysis package
reads them (analysis.manipulation, analysis.factorial, docs/analysis.md).

- `manipulation_checks`: one entry per manipulation-check item whose options say
  what they mean. For each arm, the answer codes that count as perceiving what the
  arm was meant to convey: the options whose `value_tag` is one of the arm's frame
  values, and those whose `correct_for` lists the arm. For each factor of a
  factorial design, the codes of each level, when every arm at that level shares
  them (a messenger check: "who was speaking?").
- `factors`: factor column -> levels in the design's order, and
  `control_in_main_effects`.
"""

from __future__ import annotations

from typing import Any

from framelab.domain.manipulation import has_meanings, target_codes
from framelab.domain.study import Item
from framelab.domain.study import Study as StudySpec
from framelab.services.codebook import factor_column, item_column

__all__ = ["factor_plan", "manipulation_plan"]


def _labels(spec: StudySpec, item: Item, codes: list[int]) -> dict[str, str]:
    options = {o.value: o for o in item.options or []}
    return {
        lang: " / ".join(spec.text(options[c].label, lang) for c in codes)
        for lang in spec.languages
    }


def manipulation_plan(spec: StudySpec) -> list[dict[str, Any]]:
    """The plan's `manipulation_checks` (empty when no check says what its options mean)."""
    checks = []
    for item in spec.items:
        if item.type != "choice" or not has_meanings(item):
            continue
        phase = "post" if item.in_phase("post") else "pre"
        targets: dict[str, list[int]] = {}
        labels: dict[str, dict[str, str]] = {}
        for arm in spec.arms:
            codes = target_codes(spec, item, arm.id)
            if codes:
                targets[arm.id] = codes
                labels[arm.id] = _labels(spec, item, codes)
        factor_targets: dict[str, dict[str, list[int]]] = {}
        if spec.design.scheme == "factorial":
            for factor, levels in (spec.design.factors or {}).items():
                per_level = {}
                for level in levels:
                    arms = [a.id for a in spec.arms if (a.factors or {}).get(factor) == level]
                    sets = {tuple(target_codes(spec, item, a)) for a in arms}
                    if len(sets) == 1 and (codes := list(next(iter(sets)))):
                        per_level[level] = codes
                # a check of this factor: each level has its own answers
                if len(per_level) == len(levels) and len(
                    {tuple(c) for c in per_level.values()}
                ) == len(levels):
                    factor_targets[factor_column(factor)] = per_level
        checks.append(
            {
                "column": item_column(phase, item.id),
                "item": item.id,
                "targets": targets,
                "target_labels": labels,
                "factor_targets": factor_targets,
            }
        )
    return checks


def factor_plan(spec: StudySpec) -> dict[str, Any]:
    """`factors` and `control_in_main_effects` of a factorial design ({} otherwise)."""
    if spec.design.scheme != "factorial" or not spec.design.factors:
        return {}
    return {
        "factors": {factor_column(f): list(levels) for f, levels in spec.design.factors.items()},
        "control_in_main_effects": bool(spec.design.control_in_main_effects),
    }
