"""Eligibility screener and quotas: who takes part before anyone is assigned (pure; issue 21).

A study may ask screening questions on a page of their own, right after the consent::

    screener:
      items: [age_group, country]          # asked on the screener page, in this order
      screen_out:                          # who is thanked and let go, never assigned
        any:
          - {item: age_group, in: [0]}
          - all: [{item: country, not_in: [1, 2]}, {item: age_group, in: [5]}]
    quota:                                 # completed real participants per cell
      ideology: {left: 400, right: 400}

A rule is ``{item, in}``, ``{item, not_in}``, ``{all: [rules]}`` or ``{any: [rules]}``;
`screens_out` evaluates one against the screener page's stored answers. A quota names a
required screener or pre item; its cells are the item's stored values (``"1": 400``) or,
for the design's blocking item with named strata, the strata's labels. `quota_cells`
says which cells a page's answers fall in; the participant store counts and fills them.
`screening_problems` is the cross-field check (``location: message``) the study runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ConfigDict, Field, RootModel, StrictInt, field_validator, model_validator

from framelab.domain.items import Item, OmitsUnsetFields
from framelab.domain.study_sections import MAX_TARGET_N

if TYPE_CHECKING:
    from framelab.domain.study_fields import StudyFields

Problems = list[tuple[str, str]]
MAX_RULE_DEPTH = 8


class Rule(OmitsUnsetFields):
    """One screen-out rule: an item's answer in (or not in) a list, or all/any of rules."""

    model_config = ConfigDict(
        extra="forbid", serialize_by_alias=True, validate_by_alias=True, validate_by_name=True
    )
    _omit_when_none: ClassVar[tuple[str, ...]] = ("item", "in", "not_in", "all", "any")

    item: str | None = None
    in_: list[int] | None = Field(default=None, alias="in")
    not_in: list[int] | None = None
    all_: Rules | None = Field(default=None, alias="all")
    any_: Rules | None = Field(default=None, alias="any")

    @model_validator(mode="after")
    def _one_form(self) -> Rule:
        combined = [name for name, v in (("all", self.all_), ("any", self.any_)) if v is not None]
        tests = [name for name, v in (("in", self.in_), ("not_in", self.not_in)) if v is not None]
        if combined:
            if len(combined) > 1 or tests or self.item is not None:
                raise ValueError(
                    "expected one of {item, in}, {item, not_in}, {all: [...]} or {any: [...]}, "
                    f"got {', '.join([*(['item'] if self.item else []), *tests, *combined])}"
                )
            if not (self.all_ or self.any_).root:
                raise ValueError(f"'{combined[0]}' needs at least one rule")
            return self
        if self.item is None or len(tests) != 1:
            raise ValueError(
                "expected one of {item, in}, {item, not_in}, {all: [...]} or {any: [...]}"
            )
        if not (self.in_ or self.not_in):
            raise ValueError(f"'{tests[0]}' needs at least one value")
        return self


class Rules(RootModel[list[Rule]]):
    """The rules an ``all`` or ``any`` combines (a list; its own type ends the recursion
    for tools that walk the study's keys)."""

    def __iter__(self):  # type: ignore[override]
        return iter(self.root)


class Screener(OmitsUnsetFields):
    """The screener page's items and the rule that screens a participant out."""

    _omit_when_none: ClassVar[tuple[str, ...]] = ("screen_out",)

    items: list[str]
    screen_out: Rule | None = None

    @field_validator("items")
    @classmethod
    def _some_items(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("expected at least one item to ask on the screener page")
        return value


def quota_limits(value: Any) -> Any:
    """``quota`` as written, with cell keys as text (YAML reads ``1: 400`` as a number)."""
    if isinstance(value, dict):
        return {
            k: {str(c): n for c, n in v.items()} if isinstance(v, dict) else v
            for k, v in value.items()
        }
    return value


# Limits are whole numbers as written (a YAML `yes` is no limit).
QuotaLimits = dict[str, dict[str, StrictInt]]


def _matches(rule: Rule, answers: Mapping[str, Any]) -> bool:
    if rule.all_ is not None:
        return all(_matches(r, answers) for r in rule.all_)
    if rule.any_ is not None:
        return any(_matches(r, answers) for r in rule.any_)
    value = answers.get(rule.item or "")
    if rule.in_ is not None:
        return value in rule.in_
    return value is not None and value not in (rule.not_in or [])


def screens_out(spec: StudyFields, answers: Mapping[str, Any]) -> bool:
    """Whether the screener page's stored answers screen the participant out."""
    screener = spec.screener
    return bool(screener and screener.screen_out and _matches(screener.screen_out, answers))


def quota_cell(spec: StudyFields, variable: str, value: Any) -> str | None:
    """The quota cell of a stored answer of `variable` (None when the answer names none)."""
    if value is None:
        return None
    design = spec.design
    if design.scheme == "blocked" and design.block_by == variable and design.strata:
        return next((label for label, vals in design.strata.items() if value in vals), None)
    return str(value)


def quota_cells(spec: StudyFields, answers: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(variable, cell) of every quota whose item was answered in `answers` with a limit."""
    cells = []
    for variable, limits in (spec.quota or {}).items():
        if variable in answers:
            cell = quota_cell(spec, variable, answers[variable])
            if cell is not None and cell in limits:
                cells.append((variable, cell))
    return tuple(cells)


# ---------------------------------------------------------------- checks


def _choice_values(item: Item) -> list[int] | None:
    return None if item.type in ("text", "slider") else item.allowed_values()


def _rule_problems(
    rule: Rule, loc: str, asked: list[str], items: dict[str, Item], depth: int
) -> Problems:
    if depth > MAX_RULE_DEPTH:
        return [(loc, f"rules nest at most {MAX_RULE_DEPTH} levels deep")]
    parts = rule.all_ if rule.all_ is not None else rule.any_
    if parts is not None:
        name = "all" if rule.all_ is not None else "any"
        problems: Problems = []
        for i, sub in enumerate(parts):
            problems += _rule_problems(sub, f"{loc}.{name}[{i}]", asked, items, depth + 1)
        return problems
    item_id = rule.item or ""
    if item_id not in asked:
        where = "an item" if item_id not in items else "asked on the screener page"
        return [
            (
                f"{loc}.item",
                f"'{item_id}' is not {where}; rules read screener items "
                f"(screener.items: {', '.join(asked)})",
            )
        ]
    allowed = _choice_values(items[item_id]) or []
    key = "in" if rule.in_ is not None else "not_in"
    out: Problems = []
    for j, value in enumerate(rule.in_ if rule.in_ is not None else rule.not_in or []):
        if value not in allowed:
            out.append(
                (
                    f"{loc}.{key}[{j}]",
                    f"{value} is not an answer of '{item_id}' "
                    f"(its values: {', '.join(str(v) for v in allowed)})",
                )
            )
    return out


def _screener_problems(study: StudyFields) -> Problems:
    screener = study.screener
    if screener is None:
        return []
    items = {i.id: i for i in study.items}
    problems: Problems = []
    for j, item_id in enumerate(screener.items):
        loc = f"screener.items[{j}]"
        item = items.get(item_id)
        if item is None:
            problems.append((loc, f"'{item_id}' is not an item (items: {', '.join(items)})"))
        elif item_id in screener.items[:j]:
            problems.append((loc, f"'{item_id}' is listed twice"))
        elif "pre" not in item.phase:
            problems.append((loc, f"'{item_id}' is a post item; screening comes before treatment"))
        elif not item.required:
            problems.append(
                (loc, f"'{item_id}' is optional; every screener question needs an answer")
            )
        elif _choice_values(item) is None:
            problems.append(
                (
                    loc,
                    f"'{item_id}' is a {item.type} item; screen with choice, binary or likert items",
                )
            )
    if screener.screen_out is not None:
        asked = [i for i in screener.items if i in items and _choice_values(items[i])]
        problems += _rule_problems(screener.screen_out, "screener.screen_out", asked, items, 1)
    return problems


def _quota_problems(study: StudyFields) -> Problems:
    items = {i.id: i for i in study.items}
    screener = study.screener.items if study.screener else []
    problems: Problems = []
    for variable, limits in (study.quota or {}).items():
        loc = f"quota.{variable}"
        item = items.get(variable)
        if item is None:
            problems.append((loc, f"'{variable}' is not an item (items: {', '.join(items)})"))
            continue
        if variable not in screener and "pre" not in item.phase:
            problems.append(
                (loc, f"'{variable}' is a post item; quotas need a screener or pre item")
            )
            continue
        if not item.required or _choice_values(item) is None:
            problems.append(
                (loc, f"'{variable}' must be a required choice, binary or likert item for a quota")
            )
            continue
        design = study.design
        if design.scheme == "blocked" and design.block_by == variable and design.strata:
            cells = list(design.strata)
            kind = "strata of the design"
        else:
            cells = [str(v) for v in _choice_values(item) or []]
            kind = "its values"
        if not limits:
            problems.append((loc, "expected at least one cell with its limit"))
        known = ", ".join(cells)
        for cell, limit in limits.items():
            where = f"{loc}.{cell}"
            if cell not in cells:
                problems.append(
                    (where, f"'{cell}' is not a cell of '{variable}' ({kind}: {known})")
                )
            if not 1 <= limit <= MAX_TARGET_N:
                problems.append((where, f"expected a limit from 1 to {MAX_TARGET_N}, got {limit}"))
    return problems


def screening_problems(study: StudyFields) -> Problems:
    """Every problem of the screener and the quotas, as ``(location, message)``."""
    return _screener_problems(study) + _quota_problems(study)
