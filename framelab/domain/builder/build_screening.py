"""Pure edits of a study's screener: spec in, new spec out (issue 21).

Public API::

    screener_candidates(spec) -> list[Item]     # items a screener may ask (required pre choices)
    screener_rows(spec, most) -> FlatRule | None  # the rule as rows; None when nested or longer
    save_screener(spec, items, combine, conditions) -> Study

The studio's form writes a flat rule: one condition, or `all`/`any` of several
(`{item, in}` or `{item, not_in}` each). A rule nested deeper is kept as written and
edited in the study file; the form then only shows it. Quotas and panel codes are
edited in the study file too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from framelab.domain.builder.editing import keep_order
from framelab.domain.study import Item, Study, study_from_data

Condition = tuple[str, str, tuple[int, ...]]  # item, "in" | "not_in", values


@dataclass(frozen=True)
class FlatRule:
    """A screen-out rule the form can show: how its conditions combine, and each one."""

    combine: str  # "any" | "all"
    conditions: tuple[Condition, ...]


def screener_candidates(spec: Study) -> list[Item]:
    """Questions a screener may ask: required pre items with fixed answers, in study order."""
    return [
        i
        for i in spec.items
        if "pre" in i.phase and i.required and i.type in ("choice", "binary", "likert")
    ]


def _condition(rule: Any) -> Condition | None:
    if rule.item is None:
        return None
    if rule.in_ is not None:
        return (rule.item, "in", tuple(rule.in_))
    return (rule.item, "not_in", tuple(rule.not_in or ()))


def screener_rows(spec: Study, most: int = 4) -> FlatRule | None:
    """The screen-out rule as rows (no rule: no rows); None when it nests deeper than a
    flat rule or has more than `most` conditions (the form could not show it whole)."""
    rule = spec.screener.screen_out if spec.screener else None
    if rule is None:
        return FlatRule("any", ())
    single = _condition(rule)
    if single is not None:
        return FlatRule("any", (single,))
    combine = "all" if rule.all_ is not None else "any"
    conditions = [_condition(r) for r in (rule.all_ if rule.all_ is not None else rule.any_)]
    if any(c is None for c in conditions) or len(conditions) > most:
        return None
    return FlatRule(combine, tuple(c for c in conditions if c is not None))


def save_screener(
    spec: Study, items: Sequence[str], combine: str, conditions: Sequence[Condition]
) -> Study:
    """The study with this screener (none when no item is ticked); StudyError names mistakes.

    Conditions become `screener.screen_out`: one alone, several under `combine`; none
    screens nobody out. Items already asked keep their order, new ones follow; a rule
    the form shows unchanged is kept exactly as written (so saving changes nothing).
    """
    data = spec.model_dump(mode="json", exclude_none=True)
    before = list(spec.screener.items) if spec.screener else []
    asked = keep_order(before, items)
    if not asked:
        data.pop("screener", None)
        return study_from_data(data)
    screener: dict[str, Any] = {"items": asked}
    written = data.get("screener", {}).get("screen_out")
    rows = FlatRule("all" if combine == "all" else "any", tuple(conditions))
    if written is not None and screener_rows(spec) == rows:
        screener["screen_out"] = written
    else:
        rules = [{"item": item, op: list(values)} for item, op, values in conditions]
        if len(rules) == 1:
            screener["screen_out"] = rules[0]
        elif rules:
            screener["screen_out"] = {rows.combine: rules}
    data["screener"] = screener
    return study_from_data(data)
