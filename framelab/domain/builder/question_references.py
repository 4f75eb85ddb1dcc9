"""What else in a study names a question, an answer option or a scale.

Public API::

    Reference(location, uses, effect)
    item_references(spec, item_id) -> list[Reference]       # design, scales, plan
    option_references(spec, item_id, value) -> list[Reference]   # blocking groups, correct answer
    plan_references(spec, name) -> list[Reference]           # the analysis plan's lists
    in_use_error(loc, what, refs, hint) -> StudyError         # one message naming every use
    drop_from_plan(data, names)                               # plan lists without `names`

The question and scale editors refuse to remove something in use unless asked to
remove its uses too; these functions name those uses in words and by location.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from framelab.domain.errors import StudyError
from framelab.domain.study import Study

PLAN_LISTS = {
    "primary": "a primary outcome",
    "secondary": "a secondary outcome",
    "covariates": "a covariate (adjusts the estimates)",
    "moderators": "a moderator (subgroup analysis)",
}


@dataclass(frozen=True)
class Reference:
    """A place in the study that names an item, an option or a scale."""

    location: str
    uses: str  # "the scale 'care_values' averages it"
    effect: str  # what removing it with its uses does there


def item_references(spec: Study, item_id: str) -> list[Reference]:
    """Every place outside the item itself that names it: design, scales, plan."""
    refs: list[Reference] = []
    if spec.design.block_by == item_id:
        groups = f" and its groups ({', '.join(spec.design.strata)})" if spec.design.strata else ""
        refs.append(
            Reference(
                "design.block_by",
                f"the design blocks participants on its answers{groups}",
                "the design stops blocking and assigns in permuted blocks over everyone",
            )
        )
    for i, scale in enumerate(spec.scales):
        if item_id in scale.items:
            left = len(scale.items) - 1
            refs.append(
                Reference(
                    f"scales[{i}]",
                    f"the scale '{scale.id}' averages it",
                    f"the scale '{scale.id}' loses it"
                    + ("" if left >= 2 else " and, with fewer than two items left, is removed"),
                )
            )
    refs += plan_references(spec, item_id)
    return refs


def plan_references(spec: Study, name: str) -> list[Reference]:
    refs = []
    for list_name, role in PLAN_LISTS.items():
        for j, entry in enumerate(getattr(spec.analysis, list_name)):
            if entry == name:
                refs.append(
                    Reference(
                        f"analysis.{list_name}[{j}]",
                        f"the analysis plan lists it as {role}",
                        f"the analysis plan no longer lists it as {role}",
                    )
                )
    return refs


def option_references(spec: Study, item_id: str, value: int) -> list[Reference]:
    """Places that name one answer value of an item: blocking groups, the correct answer."""
    refs: list[Reference] = []
    if spec.design.block_by == item_id and spec.design.strata:
        for label, values in spec.design.strata.items():
            if value in values:
                refs.append(
                    Reference(
                        f"design.strata.{label}",
                        f"the blocking group '{label}' of the design contains it",
                        f"the blocking group '{label}' loses it",
                    )
                )
    item = spec.item(item_id)
    if item.correct == value:
        refs.append(
            Reference(
                f"items[{position(spec, item_id)}].correct",
                "it is the correct answer of this attention check",
                "",
            )
        )
    return refs


def position(spec: Study, item_id: str) -> int:
    for i, item in enumerate(spec.items):
        if item.id == item_id:
            return i
    raise StudyError([("items", f"'{item_id}' is not a question of this study")])


def in_use_error(loc: str, what: str, refs: list[Reference], hint: str) -> StudyError:
    uses = "; ".join(f"{r.uses} ({r.location})" for r in refs)
    return StudyError([(loc, f"{what} is used elsewhere: {uses}. {hint}")])


def drop_from_plan(data: dict[str, Any], names: set[str]) -> None:
    plan = data["analysis"]
    for list_name in PLAN_LISTS:
        plan[list_name] = [n for n in plan[list_name] if n not in names]
    if not plan["primary"]:
        raise StudyError(
            [
                (
                    "analysis.primary",
                    f"{', '.join(sorted(names))} is the only primary outcome of the analysis "
                    "plan; choose another primary outcome on the plan page first",
                )
            ]
        )
