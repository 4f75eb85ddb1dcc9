"""Read the parts of a results object the report needs, and format numbers.

Nothing here computes a statistic: it looks values up (plan settings, effect
records) and turns them into display strings. Binary outcomes are shown in
percentage points, which is the displayed value times 100 — a change of unit,
not a new estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MINUS = "\u2212"
PRIMARY_METHOD_DEFAULT = "difference_in_means"


def is_number(value: Any) -> bool:
    """True for a finite int/float that is not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def fmt_num(value: Any, digits: int = 2) -> str:
    """Fixed decimals with a typographic minus; 'n/a' for a missing value."""
    if not is_number(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    if text.startswith("-"):
        # -0.00 after rounding is zero, not a negative number
        return text[1:] if float(text) == 0 else MINUS + text[1:]
    return text


def fmt_p(value: Any) -> str:
    """A p-value as a campaigner-readable 'p = 0.012' / 'p < 0.001'."""
    if not is_number(value):
        return "p not available"
    if value < 0.001:
        return "p < 0.001"
    return f"p = {value:.3f}"


def records(results: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The list of records under `key`, or an empty list when absent or null."""
    value = results.get(key)
    if isinstance(value, list):
        return [r for r in value if isinstance(r, dict)]
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        # column-oriented tables ({"col": [..]}) are accepted as well
        keys = list(value)
        return [dict(zip(keys, row, strict=True)) for row in zip(*value.values(), strict=True)]
    return []


@dataclass(frozen=True)
class Outcome:
    """An outcome as the report presents it."""

    name: str
    type: str
    label: str
    units: str
    primary: bool

    @property
    def scale(self) -> float:
        """Display multiplier: proportions are shown as percentage points."""
        return 100.0 if self.type == "binary" else 1.0

    @property
    def digits(self) -> int:
        return 1 if self.type == "binary" else 2

    def show(self, value: Any) -> str:
        """Format an effect on this outcome in its display unit."""
        if not is_number(value):
            return "n/a"
        return fmt_num(value * self.scale, self.digits)


@dataclass
class ReportContext:
    """Plan settings and lookups shared by the summary, tables and plots."""

    results: Mapping[str, Any]
    plan: dict[str, Any] = field(init=False)
    outcomes: list[Outcome] = field(init=False)

    def __post_init__(self) -> None:
        meta = self.results.get("meta") or {}
        self.plan = dict(meta.get("plan") or {})
        self.outcomes = self._outcomes()

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.results.get("meta") or {})

    def setting(self, key: str, default: Any = None) -> Any:
        """A plan setting as the analysis resolved it (meta), else as the plan gave it."""
        meta = self.results.get("meta") or {}
        if meta.get(key) is not None:
            return meta[key]
        return self.plan.get(key, default)

    @property
    def alpha(self) -> float:
        alpha = self.setting("alpha", 0.05)
        return float(alpha) if is_number(alpha) else 0.05

    @property
    def confidence(self) -> str:
        """'95%' for alpha 0.05 — the interval level the estimates were computed at."""
        level = round(100 * (1 - self.alpha), 1)
        return f"{level:g}%"

    @property
    def correction(self) -> str:
        return str(self.setting("correction", "none") or "none").lower()

    @property
    def control(self) -> str | None:
        control = self.setting("control")
        return None if control is None else str(control)

    @property
    def primary_method(self) -> str:
        method = self.setting("primary_method")
        if method:
            return str(method)
        confirm = [e for e in records(self.results, "effects") if e.get("family") == "confirmatory"]
        with_adjusted = [e for e in confirm if is_number(e.get("p_adjusted"))]
        methods = {e.get("method") for e in with_adjusted}
        if PRIMARY_METHOD_DEFAULT in methods or not methods:
            return PRIMARY_METHOD_DEFAULT
        return str(with_adjusted[0].get("method"))

    def arm_label(self, arm: Any) -> str:
        labels = self.setting("arm_labels") or {}
        label = labels.get(arm, arm) if isinstance(labels, dict) else arm
        return str(label)

    def frame_name(self, arm: Any) -> str:
        """'the fairness frame' for use inside a sentence."""
        label = self.arm_label(arm)
        return f"the {label}" if label.lower().endswith("frame") else f"the {label} frame"

    def moderator_label(self, moderator: Any) -> str:
        """'ideology group' for the export column pre_ideology_group."""
        labels = self.plan.get("moderator_labels") or {}
        if isinstance(labels, dict) and moderator in labels:
            return str(labels[moderator])
        # export columns are named pre_<item>; the item name reads better
        for prefix in ("pre_scale_", "pre_"):
            if str(moderator).startswith(prefix):
                return str(moderator)[len(prefix) :].replace("_", " ")
        return str(moderator).replace("_", " ")

    def outcome(self, name: Any) -> Outcome:
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        return Outcome(str(name), "continuous", str(name), "points", False)

    def _outcomes(self) -> list[Outcome]:
        # meta.outcomes is the analysis' normalised list (primary flags resolved)
        raw = self.setting("outcomes") or []
        effects = records(self.results, "effects")
        confirmatory = {e.get("outcome") for e in effects if e.get("family") == "confirmatory"}
        flagged = {o.get("name") for o in raw if isinstance(o, dict) and o.get("primary")}
        outcomes = []
        for i, item in enumerate(raw):
            spec = {"name": item} if isinstance(item, str) else dict(item)
            name = str(spec.get("name"))
            kind = str(spec.get("type", "continuous"))
            if flagged:
                primary = name in flagged
            elif confirmatory:
                primary = name in confirmatory
            else:
                primary = i == 0  # the analysis' rule: the first outcome when none is flagged
            units = spec.get("units") or ("percentage points" if kind == "binary" else "points")
            outcomes.append(
                Outcome(name, kind, short_label(spec.get("label"), name), units, primary)
            )
        known = {o.name for o in outcomes}
        for e in effects:  # outcomes that only appear in results still get shown
            name = e.get("outcome")
            if name is not None and name not in known:
                known.add(name)
                kind = str(e.get("outcome_type") or "continuous")
                units = "percentage points" if kind == "binary" else "points"
                label = short_label(None, str(name))
                outcomes.append(Outcome(str(name), kind, label, units, name in confirmatory))
        return outcomes

    def effects_for(self, outcome: str, method: str) -> list[dict[str, Any]]:
        """Effect records of one outcome and method, control excluded, in results order."""
        return [
            e
            for e in records(self.results, "effects")
            if e.get("outcome") == outcome
            and e.get("method") == method
            and e.get("arm") != self.control
        ]

    def decisive_p(self, effect: Mapping[str, Any]) -> Any:
        """The p-value a claim rests on: adjusted within its family when available."""
        adjusted = effect.get("p_adjusted")
        return adjusted if is_number(adjusted) else effect.get("p_value")

    def significant(self, effect: Mapping[str, Any]) -> bool:
        p = self.decisive_p(effect)
        return is_number(p) and p < self.alpha and is_number(effect.get("estimate"))

    def warnings_for(
        self, outcome: str | None = None, arm: str | None = None, *, method: str | None = None
    ) -> list[str]:
        """Warning messages that apply to an outcome (and arm), or to the whole study.

        Warnings tied to another method (a failed subgroup section, say) are left
        out: they do not explain a missing estimate of `method` (default: the
        primary method).
        """
        wanted = method or self.primary_method
        out = []
        for w in records(self.results, "warnings"):
            if w.get("method") not in (None, wanted):
                continue
            if outcome is not None and w.get("outcome") not in (None, outcome):
                continue
            if arm is not None and w.get("arm") not in (None, arm):
                continue
            message = w.get("message")
            if message:
                out.append(str(message))
        return out


def is_pooled(record: Mapping[str, Any]) -> bool:
    """The pooled value-match row (all frames together) rather than one frame's."""
    return record.get("method") == "pooled" or record.get("arm") in (None, "pooled", "all")


def short_label(label: Any, name: str) -> str:
    """A label that reads inside a sentence ('raised support by ...').

    A question (an item's full text, as framelab's export passes it) does not,
    so the column name stands in for it: post_join_sms -> 'join sms'.
    """
    text = str(label).strip() if label else ""
    if text and not text.endswith("?") and len(text) <= 60:
        return text
    for prefix in ("post_scale_", "post_"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name.replace("_", " ")


def sentence_case(text: str) -> str:
    """Upper-case the first letter only ('the Fair play frame' -> 'The Fair play frame')."""
    return text[:1].upper() + text[1:]


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
