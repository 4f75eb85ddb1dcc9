"""Pure edits of a study's scales (averaged value indices): spec in, new spec out.

Public API::

    scale_candidates(spec) -> list[Item]          # items a scale may average (likert, slider)
    save_scale(spec, scale_id, items, reverse, value, new=False) -> Study
    remove_scale(spec, scale_id, drop_references=False) -> Study
    scale_references(spec, scale_id) -> list[Reference]

A scale is built by ticking its items; reverse-coded items are ticked separately
(ticking one as reversed also makes it a member). Reverse coding is a property of the
likert item in the study format (``reverse: true``): it applies in every index the item
is part of, and is cleared when the item leaves its last scale through this editor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from framelab.domain.builder.question_data import optional_text
from framelab.domain.builder.question_references import Reference, drop_from_plan, plan_references
from framelab.domain.errors import StudyError
from framelab.domain.study import Item, Study, study_from_data


def scale_candidates(spec: Study) -> list[Item]:
    """Questions a scale may average: likert and slider items, in study order."""
    return [i for i in spec.items if i.type in ("likert", "slider")]


def _scale_index(spec: Study, scale_id: str) -> int:
    for i, scale in enumerate(spec.scales):
        if scale.id == scale_id:
            return i
    raise StudyError([("scales", f"'{scale_id}' is not a scale of this study")])


def save_scale(
    spec: Study,
    scale_id: str,
    items: Iterable[str],
    reverse: Iterable[str],
    value: str | None,
    *,
    label: Mapping[str, str] | None = None,
    desired: str | None = None,
    new: bool = False,
) -> Study:
    """The spec with the scale's members, reverse-coded members, value tag, short name and
    desired direction set (the direction "increase" stays unset when it was unset)."""
    data = spec.model_dump(mode="json")
    index = len(spec.scales) if new else _scale_index(spec, scale_id)
    loc = f"scales[{index}]"
    reversed_ids = set(reverse)
    chosen = set(items) | reversed_ids
    known = {i.id: i for i in spec.items}
    problems = [
        (f"{loc}.items", f"'{name}' is not a question of this study")
        for name in sorted(chosen - set(known))
    ]
    problems += [
        (
            f"{loc}.items",
            f"'{name}' is a {known[name].type} question; only agree/support scales "
            "(likert) can be reverse-coded",
        )
        for name in sorted(reversed_ids & set(known))
        if known[name].type != "likert"
    ]
    if problems:
        raise StudyError(problems)
    scale: dict[str, Any] = {"id": scale_id.strip()} if new else data["scales"][index]
    before = [] if new else list(scale["items"])
    # Members keep the order they had; newly ticked ones follow in question order.
    members = [i for i in before if i in chosen]
    members += [i.id for i in spec.items if i.id in chosen and i.id not in before]
    scale["items"] = members
    scale["value"] = value or None
    if label is not None:
        scale["label"] = optional_text(spec, scale.get("label"), label)
    if desired == "decrease" or (desired == "increase" and scale.get("desired")):
        scale["desired"] = desired
    if new:
        data["scales"].append(scale)
    data["scales"] = [{k: v for k, v in s.items() if v is not None} for s in data["scales"]]
    _set_reverse(data, members, reversed_ids, left=set(before) - set(members))
    return study_from_data(data)


def _set_reverse(
    data: dict[str, Any], members: list[str], reversed_ids: set[str], left: set[str]
) -> None:
    """Reverse flags of the scale's likert members; cleared on items that left their last scale."""
    in_scales = {i for s in data["scales"] for i in s["items"]}
    for item in data["items"]:
        if item["type"] != "likert":
            continue
        if item["id"] in members:
            item["reverse"] = item["id"] in reversed_ids
        elif item["id"] in left and item["id"] not in in_scales:
            item["reverse"] = False


def scale_references(spec: Study, scale_id: str) -> list[Reference]:
    """Places of the analysis plan that name the scale."""
    return plan_references(spec, scale_id)


def remove_scale(spec: Study, scale_id: str, drop_references: bool = False) -> Study:
    """The spec without the scale; plan entries naming it are removed only when asked."""
    index = _scale_index(spec, scale_id)
    refs = scale_references(spec, scale_id)
    if refs and not drop_references:
        uses = "; ".join(f"{r.uses} ({r.location})" for r in refs)
        raise StudyError(
            [
                (
                    f"scales[{index}]",
                    f"The scale '{scale_id}' is used elsewhere: {uses}. Remove those uses "
                    "first, or remove the scale together with its uses.",
                )
            ]
        )
    data = spec.model_dump(mode="json")
    left = set(data["scales"][index]["items"])
    del data["scales"][index]
    _set_reverse(data, [], set(), left=left)
    drop_from_plan(data, {scale_id})
    return study_from_data(data)
