"""Cross-field rules of the design: weights, blocks, strata and factorial cells.

``design_problems(study) -> list[tuple[str, str]]``; called by ``checks.study_problems``.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from framelab.domain.items import check_identifier

if TYPE_CHECKING:
    from framelab.domain.study_fields import StudyFields

Problems = list[tuple[str, str]]
_BLOCKABLE = ("choice", "binary", "likert")
# Every permuted block is built as a list of arms: bounded, so no weight makes it huge.
MAX_WEIGHT = 100
MAX_BLOCK_SIZE = 1_000


def design_problems(study: StudyFields) -> Problems:
    design = study.design
    problems: Problems = []
    arm_ids = [a.id for a in study.arms]
    if design.weights is not None:
        for arm_id, weight in design.weights.items():
            if arm_id not in arm_ids:
                problems.append(
                    (
                        f"design.weights.{arm_id}",
                        f"'{arm_id}' is not an arm (arms: {', '.join(arm_ids)})",
                    )
                )
            elif not 1 <= weight <= MAX_WEIGHT:
                problems.append(
                    (
                        f"design.weights.{arm_id}",
                        f"expected a whole number from 1 to {MAX_WEIGHT}, got {weight}",
                    )
                )
        for arm_id in arm_ids:
            if arm_id not in design.weights:
                problems.append(
                    (
                        "design.weights",
                        f"no weight for arm '{arm_id}'; give every arm a weight or none",
                    )
                )
    total = sum(w for a, w in (design.weights or {a: 1 for a in arm_ids}).items() if a in arm_ids)
    if design.block_size is not None:
        if design.scheme == "simple":
            problems.append(
                ("design.block_size", "the simple scheme draws independently and has no blocks")
            )
        elif not 1 <= design.block_size <= MAX_BLOCK_SIZE:
            problems.append(
                (
                    "design.block_size",
                    f"expected a whole number from 1 to {MAX_BLOCK_SIZE}, got {design.block_size}",
                )
            )
        elif total and design.block_size % total:
            problems.append(
                (
                    "design.block_size",
                    f"{design.block_size} is not a multiple of sum(weights) = {total}",
                )
            )
    if design.scheme == "blocked":
        problems += _blocking_problems(study)
    else:
        if design.block_by is not None:
            problems.append(
                (
                    "design.block_by",
                    f"only the blocked scheme uses block_by; the scheme is {design.scheme}",
                )
            )
        if design.strata is not None:
            problems.append(
                (
                    "design.strata",
                    f"only the blocked scheme uses strata; the scheme is {design.scheme}",
                )
            )
    if design.scheme == "factorial":
        problems += _factorial_problems(study)
    elif design.control_in_main_effects is not None:
        problems.append(
            (
                "design.control_in_main_effects",
                f"only factorial designs have main effects; the scheme is {design.scheme}",
            )
        )
    if design.scheme != "factorial" and design.factors is not None:
        problems.append(
            (
                "design.factors",
                f"factors are only for the factorial scheme; the scheme is {design.scheme}",
            )
        )
    return problems


def _blocking_problems(study: StudyFields) -> Problems:
    design = study.design
    if design.block_by is None:
        return [
            (
                "design.block_by",
                "the blocked scheme needs block_by: a pre-phase choice, binary or likert item",
            )
        ]
    items = {i.id: i for i in study.items}
    item = items.get(design.block_by)
    if item is None:
        return [
            ("design.block_by", f"'{design.block_by}' is not an item (items: {', '.join(items)})")
        ]
    if not item.in_phase("pre"):
        return [
            (
                "design.block_by",
                f"item '{item.id}' is not a pre-phase item; blocking needs an answer given before assignment",
            )
        ]
    if item.type not in _BLOCKABLE:
        return [
            (
                "design.block_by",
                f"item '{item.id}' is a {item.type} item; blocking needs a choice, binary or likert item",
            )
        ]
    if not item.required:
        return [
            ("design.block_by", f"item '{item.id}' is optional; a blocking item must be required")
        ]
    if design.strata is None:
        return []
    problems: Problems = []
    allowed = item.allowed_values() or []
    seen: dict[int, str] = {}
    for label, values in design.strata.items():
        try:
            check_identifier(label)
        except ValueError as exc:
            problems.append((f"design.strata.{label}", str(exc)))
        if not values:
            problems.append((f"design.strata.{label}", "a stratum needs at least one value"))
        for j, value in enumerate(values):
            if value not in allowed:
                problems.append(
                    (
                        f"design.strata.{label}[{j}]",
                        f"{value} is not a value of item '{item.id}' (allowed: {', '.join(map(str, allowed))})",
                    )
                )
            elif value in seen:
                problems.append(
                    (
                        f"design.strata.{label}[{j}]",
                        f"{value} is already in stratum '{seen[value]}'",
                    )
                )
            else:
                seen[value] = label
    missing = [v for v in allowed if v not in seen]
    if missing and not problems:
        problems.append(
            (
                "design.strata",
                f"values {', '.join(map(str, missing))} of item '{item.id}' are in no stratum; every value needs one",
            )
        )
    return problems


def _factorial_problems(study: StudyFields) -> Problems:
    factors = study.design.factors
    if not factors:
        return [
            (
                "design.factors",
                "the factorial scheme needs factors, e.g. {value: [care, fairness], messenger: [ngo, neighbour]}",
            )
        ]
    problems: Problems = []
    for name, levels in factors.items():
        if len(levels) < 2:
            problems.append(
                (f"design.factors.{name}", f"a factor needs at least two levels, got {len(levels)}")
            )
        if len(set(levels)) != len(levels):
            problems.append((f"design.factors.{name}", "levels must be distinct"))
    cells: dict[tuple[str, ...], str] = {}
    for i, arm in enumerate(study.arms):
        if arm.factors is None:
            if not arm.control:
                problems.append(
                    (
                        f"arms[{i}].factors",
                        f"frame arm '{arm.id}' needs factors ({', '.join(factors)}) in a factorial design",
                    )
                )
            continue
        if set(arm.factors) != set(factors):
            problems.append(
                (
                    f"arms[{i}].factors",
                    f"expected exactly the factors {', '.join(factors)}, got {', '.join(arm.factors) or 'none'}",
                )
            )
            continue
        for name, level in arm.factors.items():
            if level not in factors[name]:
                problems.append(
                    (
                        f"arms[{i}].factors.{name}",
                        f"'{level}' is not a level of {name} (levels: {', '.join(factors[name])})",
                    )
                )
        cell = tuple(arm.factors[name] for name in factors)
        if cell in cells:
            problems.append(
                (
                    f"arms[{i}].factors",
                    f"same cell as arm '{cells[cell]}'; each combination needs exactly one arm",
                )
            )
        cells[cell] = arm.id
    if not problems:
        missing = [c for c in itertools.product(*factors.values()) if c not in cells]
        if missing:
            shown = "; ".join(
                ", ".join(f"{n}={lvl}" for n, lvl in zip(factors, c, strict=True)) for c in missing
            )
            problems.append(
                (
                    "arms",
                    f"factorial arms do not cover every combination of factors; missing: {shown}",
                )
            )
    return problems
