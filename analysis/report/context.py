"""Read the parts of a results object the report needs, and format numbers.

Nothing here computes a statistic: it looks values up (plan settings, effect
records) and turns them into display strings. Binary outcomes are shown in
percentage points, which is the displayed value times 100 — a change of unit,
not a new estimate. :class:`ReportContext` holds the results with the plan's labels
in the report's language; :class:`Outcome` is one outcome as the report shows it.

Examples
--------
>>> plan = {"control": "control", "language": "fr",
...         "arm_labels": {"care": {"en": "Care", "fr": "Soin"}},
...         "outcomes": [{"name": "y", "type": "binary",
...                       "label": {"en": "sign-ups", "fr": "inscriptions"}}]}
>>> ctx = ReportContext({"meta": {"plan": plan}})
>>> ctx.lang, ctx.frame_name("care"), ctx.outcomes[0].amount(0.216)
('fr', 'le cadre Soin', '21,6 points de pourcentage')
>>> english = ctx.with_language("en")
>>> english.frame_name("care"), english.outcomes[0].amount(0.216), english.confidence
('the Care frame', '21.6 percentage points', '95%')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.report.i18n import Translator, translator
from analysis.report.preregistration import Preregistration
from analysis.report.result_values import is_number, records, short_label

__all__ = ["Outcome", "ReportContext"]

PRIMARY_METHOD_DEFAULT = "difference_in_means"


@dataclass(frozen=True)
class Outcome:
    """An outcome as the report presents it, in the report's language."""

    name: str
    type: str
    label: str
    units: str
    primary: bool
    desired: str = "increase"
    range: tuple[float, float] | None = None
    explicit_units: bool = False  # the plan's own `units` text (shown as given, after the number)
    t: Translator = field(default_factory=lambda: translator("en"), compare=False, repr=False)

    @property
    def scale(self) -> float:
        """Display multiplier: proportions are shown as percentage points."""
        return 100.0 if self.type == "binary" else 1.0

    @property
    def digits(self) -> int:
        return 1 if self.type == "binary" else 2

    @property
    def wants_decrease(self) -> bool:
        return self.desired == "decrease"

    def good(self, estimate: Any) -> bool:
        """True when a change of this sign is the direction the campaign wants."""
        return is_number(estimate) and (estimate < 0 if self.wants_decrease else estimate > 0)

    def show(self, value: Any) -> str:
        """Format an effect on this outcome in its display unit."""
        if not is_number(value):
            return self.t("n/a")
        return self.t.number(value * self.scale, self.digits)

    def amount(self, value: Any) -> str:
        """'21.6 percentage points', '0.42 points on the 1–7 scale': a change with its unit."""
        t = self.t
        if not is_number(value):
            return t("n/a")
        shown = value * self.scale
        if self.type == "binary":
            return t.quantity(
                "{value} percentage point", "{value} percentage points", shown, self.digits
            )
        if self.explicit_units:
            return f"{self.show(value)} {self.units}"
        if self.range is not None:
            low, high = (t.number(v, 0 if float(v).is_integer() else 2) for v in self.range)
            return t.quantity(
                "{value} point on the {low}–{high} scale",
                "{value} points on the {low}–{high} scale",
                shown,
                self.digits,
                low=low,
                high=high,
            )
        return t.quantity("{value} point", "{value} points", shown, self.digits)

    def level(self, mean: Any) -> str:
        """An arm's average in the outcome's terms: '31%' for yes/no, '4.52' otherwise."""
        if not is_number(mean):
            return self.t("n/a")
        if self.type == "binary":
            return self.t.percent(mean)
        return self.t.number(mean, 2)


@dataclass
class ReportContext:
    """Plan settings and lookups shared by the summary, tables and plots.

    ``lang`` picks the language of every campaigner-facing word; labels of
    outcomes, arms, moderators and levels come from the plan in that language
    (falling back to the plan's own language, then to the column name).
    """

    results: Mapping[str, Any]
    lang: str | None = None
    plan: dict[str, Any] = field(init=False)
    outcomes: list[Outcome] = field(init=False)
    t: Translator = field(init=False)

    def __post_init__(self) -> None:
        meta = self.results.get("meta") or {}
        self.plan = dict(meta.get("plan") or {})
        self.lang = self.lang or str(self.plan.get("language") or "en")
        self.t = translator(self.lang)
        self.outcomes = self._outcomes()

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.results.get("meta") or {})

    def with_language(self, lang: str) -> ReportContext:
        """The same results read in another language (the appendix stays in English)."""
        return self if lang == self.lang else ReportContext(self.results, lang)

    @property
    def provenance(self) -> dict[str, Any]:
        return dict(self.meta.get("provenance") or {})

    def setting(self, key: str, default: Any = None) -> Any:
        """A plan setting as the analysis resolved it (meta), else as the plan gave it."""
        meta = self.results.get("meta") or {}
        if meta.get(key) is not None:
            return meta[key]
        return self.plan.get(key, default)

    def text(self, value: Any) -> str | None:
        """A label in the report's language: a text, or a mapping language -> text."""
        if isinstance(value, Mapping):
            for lang in (self.lang, self.plan.get("language"), "en"):
                if lang in value and str(value[lang]).strip():
                    return str(value[lang])
            texts = [str(v) for v in value.values() if str(v).strip()]
            return texts[0] if texts else None
        if value is None or not str(value).strip():
            return None
        return str(value)

    @property
    def alpha(self) -> float:
        alpha = self.setting("alpha", 0.05)
        return float(alpha) if is_number(alpha) else 0.05

    @property
    def confidence(self) -> str:
        """'95%' for alpha 0.05 — the interval level the estimates were computed at."""
        return self.t.percent(1 - self.alpha, 0 if (100 * (1 - self.alpha)).is_integer() else 1)

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

    # ------------------------------------------------------------ pre-registration

    @property
    def preregistration(self) -> Preregistration:
        """Whether the analysed plan was locked before the data it analyses were collected."""
        return Preregistration.from_meta(self.meta)

    @property
    def family_names(self) -> dict[str, str]:
        """Display names of the two families, true to the plan's lock state."""
        if self.preregistration.preregistered:
            return {
                "confirmatory": self.t("confirmatory (pre-registered)"),
                "exploratory": self.t("exploratory"),
            }
        return {
            "confirmatory": self.t("main test (not pre-registered)"),
            "exploratory": self.t("exploratory"),
        }

    # ------------------------------------------------------------ labels

    def arm_label(self, arm: Any) -> str:
        labels = self.setting("arm_labels") or {}
        label = labels.get(arm) if isinstance(labels, Mapping) else None
        return self.text(label) or str(arm)

    def frame_name(self, arm: Any) -> str:
        """'the fairness frame' for use inside a sentence."""
        label = self.arm_label(arm)
        if arm is not None and arm == self.control:
            return self.t("the control message ({label})", label=label)
        if self.lang == "en" and label.lower().endswith("frame"):
            return f"the {label}"
        return self.t("the {label} frame", label=label)

    def column_label(self, column: Any) -> str:
        """A moderator or covariate by its study label ('political views'), never its id."""
        for key in ("labels", "moderator_labels"):
            labels = self.plan.get(key) or {}
            if isinstance(labels, Mapping) and column in labels:
                text = self.text(labels[column])
                if text:
                    return text
        # export columns are named pre_<item>; the item name reads better than the column
        for prefix in ("pre_scale_", "pre_"):
            if str(column).startswith(prefix):
                return str(column)[len(prefix) :].replace("_", " ")
        return str(column).replace("_", " ")

    def level_label(self, column: Any, level: Any) -> str:
        """A level of a moderator by its answer label ('Liberal'), never its code."""
        labels = (self.plan.get("value_labels") or {}).get(column) or {}
        if isinstance(labels, Mapping):
            for key in (level, _level_key(level)):
                if key in labels:
                    text = self.text(labels[key])
                    if text:
                        return text
        return _level_key(level)

    def outcome(self, name: Any) -> Outcome:
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        return Outcome(str(name), "continuous", str(name), self.t("points"), False, t=self.t)

    def _units(self, spec: Mapping[str, Any], kind: str, rng: Any) -> str:
        if kind == "binary":
            return self.t("percentage points")
        explicit = self.text(spec.get("units"))
        if explicit:
            return explicit
        if isinstance(rng, list | tuple) and len(rng) == 2 and all(is_number(v) for v in rng):
            return self.t(
                "points on the {low}–{high} scale",
                low=self.t.number(rng[0], 0 if float(rng[0]).is_integer() else 2),
                high=self.t.number(rng[1], 0 if float(rng[1]).is_integer() else 2),
            )
        return self.t("points")

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
            rng = spec.get("range")
            outcomes.append(
                Outcome(
                    name,
                    kind,
                    short_label(self.text(spec.get("label")), name),
                    self._units(spec, kind, rng),
                    primary,
                    "decrease" if spec.get("desired") == "decrease" else "increase",
                    tuple(rng) if isinstance(rng, list | tuple) and len(rng) == 2 else None,
                    kind != "binary" and bool(self.text(spec.get("units"))),
                    self.t,
                )
            )
        known = {o.name for o in outcomes}
        for e in effects:  # outcomes that only appear in results still get shown
            name = e.get("outcome")
            if name is not None and name not in known:
                known.add(name)
                kind = str(e.get("outcome_type") or "continuous")
                label = short_label(None, str(name))
                outcomes.append(
                    Outcome(
                        str(name),
                        kind,
                        label,
                        self._units({}, kind, None),
                        name in confirmatory,
                        t=self.t,
                    )
                )
        return outcomes

    def mean(self, outcome: str, arm: Any) -> Any:
        """An arm's observed average of an outcome (a share for yes/no), from descriptives."""
        for d in records(self.results, "descriptives"):
            if d.get("outcome") == outcome and d.get("arm") == arm:
                return d.get("mean")
        return None

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

    def warning_records(
        self, outcome: str | None = None, arm: str | None = None, *, method: str | None = None
    ) -> list[dict[str, Any]]:
        """Warning records that apply to an outcome (and arm), or to the whole study.

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
            if w.get("message"):
                out.append(w)
        return out


def _level_key(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
