"""The plain-language campaigner summary, generated from a results object.

Every number in these sentences is a value from the results (estimates,
interval ends, p-values, counts, rates, the plan's alpha), rounded for display;
binary outcomes are shown in percentage points. Claims follow the analysis'
own tests: a frame "raised" an outcome when its (family-adjusted) p-value is
below the plan's alpha, "no effect larger than X" only when the results hold
an equivalence test that supports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.report.caveats import caveat_sentences
from analysis.report.context import (
    Outcome,
    ReportContext,
    fmt_num,
    fmt_p,
    is_number,
    is_pooled,
    records,
    sentence_case,
    unique,
)


@dataclass
class Summary:
    """Sections of the summary, each a list of plain-text sentences."""

    headline: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    backlash: list[str] = field(default_factory=list)
    other_outcomes: list[str] = field(default_factory=list)
    subgroups: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)

    def sections(self) -> list[tuple[str, list[str]]]:
        """(heading, sentences) pairs in reading order, empty sections left out."""
        named = [
            ("The answer", self.headline),
            ("Frame by frame", self.findings),
            ("Backlash", self.backlash),
            ("Other outcomes (exploratory)", self.other_outcomes),
            ("Who it works for", self.subgroups),
            ("What to keep in mind", self.caveats),
        ]
        return [(title, items) for title, items in named if items]

    def text(self) -> str:
        """All sentences as one plain-text block (used by tests and the CLI)."""
        return "\n".join(s for _, items in self.sections() for s in items)


def campaigner_summary(results: Mapping[str, Any]) -> Summary:
    """Build the campaigner summary from `analysis.run` results."""
    ctx = ReportContext(results)
    summary = Summary()
    primaries = [o for o in ctx.outcomes if o.primary]
    if not primaries:
        summary.headline.append("These results contain no primary outcome to summarise.")
    for outcome in primaries:
        _primary_outcome(ctx, outcome, summary)
    for outcome in ctx.outcomes:
        if not outcome.primary:
            _secondary_outcome(ctx, outcome, summary)
    _subgroups(ctx, primaries, summary)
    _value_match(ctx, primaries, summary)
    summary.caveats.extend(caveat_sentences(ctx))
    return summary


def _interval(ctx: ReportContext, outcome: Outcome, effect: Mapping[str, Any], *extra: str) -> str:
    """' (95% CI 0.18 to 0.66; p = 0.002)' — the interval and any extra notes in one bracket."""
    parts = []
    low, high = effect.get("conf_low"), effect.get("conf_high")
    if is_number(low) and is_number(high):
        parts.append(f"{ctx.confidence} CI {outcome.show(low)} to {outcome.show(high)}")
    parts.extend(extra)
    return f" ({'; '.join(parts)})" if parts else ""


def _amount(outcome: Outcome, effect: Mapping[str, Any]) -> str:
    """'0.42 points on the 7-point scale' — the size of a change, without its sign."""
    estimate = effect["estimate"]
    return f"{outcome.show(abs(estimate))} {outcome.units}"


def _family_phrase(ctx: ReportContext, arms: int, outcomes: int) -> str:
    if ctx.correction == "none" or arms * outcomes <= 1:
        return "This is unlikely to be chance"
    frames = f"{arms} frame" + ("s" if arms != 1 else "")
    if outcomes > 1:
        frames += f" on {outcomes} outcomes"
    return f"This is unlikely to be chance, even after accounting for testing {frames}"


def _primary_outcome(ctx: ReportContext, outcome: Outcome, summary: Summary) -> None:
    method = ctx.primary_method
    effects = [
        e for e in ctx.effects_for(outcome.name, method) if e.get("family") == "confirmatory"
    ]
    if not effects:
        effects = ctx.effects_for(outcome.name, method)
    n_outcomes = sum(1 for o in ctx.outcomes if o.primary)
    family = _family_phrase(ctx, len(effects), n_outcomes)
    estimated = [e for e in effects if is_number(e.get("estimate"))]
    missing = [e for e in effects if not is_number(e.get("estimate"))]
    winners = sorted(
        (e for e in estimated if ctx.significant(e) and e["estimate"] > 0),
        key=lambda e: e["estimate"],
        reverse=True,
    )
    if winners:
        best = winners[0]
        summary.headline.append(
            f"{sentence_case(ctx.frame_name(best['arm']))} raised {outcome.label} by "
            f"{_amount(outcome, best)}{_interval(ctx, outcome, best)}. "
            f"{family} ({fmt_p(ctx.decisive_p(best))})."
        )
    elif estimated:
        summary.headline.append(
            f"No frame measurably raised {outcome.label} compared with the control message."
        )
    for effect in estimated:
        if winners and effect is winners[0]:
            continue
        name = sentence_case(ctx.frame_name(effect["arm"]))
        if ctx.significant(effect) and effect["estimate"] > 0:
            summary.findings.append(
                f"{name} also raised {outcome.label}, by {_amount(outcome, effect)}"
                f"{_interval(ctx, outcome, effect, fmt_p(ctx.decisive_p(effect)))}."
            )
        elif ctx.significant(effect):
            summary.backlash.append(
                f"{name} lowered {outcome.label} by {_amount(outcome, effect)}"
                f"{_interval(ctx, outcome, effect)}. {family} "
                f"({fmt_p(ctx.decisive_p(effect))}): do not use this frame as it is."
            )
        elif _nominal(ctx, effect):
            _nominal_sentence(ctx, outcome, effect, name, len(effects), summary)
        else:
            summary.findings.append(_null_sentence(ctx, outcome, effect, name))
    for effect in missing:
        reasons = ctx.warnings_for(outcome.name, effect.get("arm")) or ["no reason recorded"]
        summary.findings.append(
            f"{sentence_case(ctx.frame_name(effect.get('arm')))}: no estimate for {outcome.label}"
            f" ({'; '.join(unique(reasons))})."
        )
    if not effects:
        reasons = ctx.warnings_for(outcome.name) or ["the results hold no estimate for it"]
        summary.headline.append(
            f"No effect on {outcome.label} could be estimated: {'; '.join(unique(reasons))}."
        )


def _nominal(ctx: ReportContext, effect: Mapping[str, Any]) -> bool:
    """Below alpha before the family's correction but not after it."""
    p = effect.get("p_value")
    return is_number(p) and p < ctx.alpha and is_number(effect.get("p_adjusted"))


def _nominal_sentence(
    ctx: ReportContext,
    outcome: Outcome,
    effect: Mapping[str, Any],
    name: str,
    frames: int,
    summary: Summary,
) -> None:
    lowered = effect["estimate"] < 0
    sentence = (
        f"{name} {'lowered' if lowered else 'raised'} {outcome.label} by "
        f"{_amount(outcome, effect)}{_interval(ctx, outcome, effect)}, but after accounting "
        f"for testing {frames} frames this could be chance "
        f"(adjusted {fmt_p(effect['p_adjusted'])})."
    )
    if lowered:
        summary.backlash.append("Possible backlash: " + sentence[0].lower() + sentence[1:])
    else:
        summary.findings.append(sentence)


def _null_sentence(
    ctx: ReportContext, outcome: Outcome, effect: Mapping[str, Any], name: str
) -> str:
    equivalence = _equivalence(ctx, outcome.name, effect.get("arm"))
    if equivalence is not None:
        bound = equivalence.get("bound_raw", equivalence.get("bound"))
        return (
            f"{name} made no measurable difference to {outcome.label}, and an equivalence test "
            f"shows no effect larger than {outcome.show(abs(bound))} {outcome.units} either way "
            f"({fmt_p(equivalence.get('p_value'))})."
        )
    return (
        f"{name} made no measurable difference to {outcome.label}: its estimate, "
        f"{fmt_num(effect['estimate'] * outcome.scale, outcome.digits)} {outcome.units}"
        f"{_interval(ctx, outcome, effect)}, could be chance, and effects as large as the interval ends "
        f"cannot be ruled out."
    )


def _equivalence(ctx: ReportContext, outcome: str, arm: Any) -> dict[str, Any] | None:
    """The equivalence record that supports 'no effect larger than X', if any."""
    for record in records(ctx.results, "equivalence"):
        if record.get("outcome") != outcome or record.get("arm") != arm:
            continue
        bound = record.get("bound_raw", record.get("bound"))
        if not is_number(bound):
            continue
        verdict = record.get("equivalent")
        if verdict is None:
            p = record.get("p_value")
            verdict = is_number(p) and p < ctx.alpha
        if verdict:
            return record
    return None


def _secondary_outcome(ctx: ReportContext, outcome: Outcome, summary: Summary) -> None:
    effects = ctx.effects_for(outcome.name, ctx.primary_method)
    moved = [e for e in effects if ctx.significant(e)]
    if not effects:
        reasons = ctx.warnings_for(outcome.name)
        if reasons:
            summary.other_outcomes.append(
                f"No effect on {outcome.label} could be estimated: {'; '.join(unique(reasons))}."
            )
        return
    if not moved:
        summary.other_outcomes.append(f"No frame measurably changed {outcome.label} (exploratory).")
    for effect in effects:
        if not is_number(effect.get("estimate")):
            reasons = ctx.warnings_for(outcome.name, effect.get("arm")) or ["no reason recorded"]
            summary.other_outcomes.append(
                f"{sentence_case(ctx.frame_name(effect.get('arm')))}: no estimate for "
                f"{outcome.label} ({'; '.join(unique(reasons))})."
            )
    for effect in moved:
        verb = "raised" if effect["estimate"] > 0 else "lowered"
        sentence = (
            f"{sentence_case(ctx.frame_name(effect['arm']))} {verb} {outcome.label} by "
            f"{_amount(outcome, effect)}"
            f"{_interval(ctx, outcome, effect, fmt_p(ctx.decisive_p(effect)), 'exploratory')}."
        )
        (summary.other_outcomes if effect["estimate"] > 0 else summary.backlash).append(sentence)


def _level(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _subgroups(ctx: ReportContext, primaries: list[Outcome], summary: Summary) -> None:
    """Subgroup claims, gated by the interaction test and kept to one sentence per frame.

    With several moderators and many levels some cells pass alpha by chance, so a
    moderator only speaks when its joint interaction test does (or when the
    results hold no such test), and per frame only the moderator with the
    strongest evidence is spelled out; the others are named with a pointer to
    the appendix.
    """
    names = {o.name for o in primaries}
    joint = {
        (t.get("outcome"), t.get("moderator")): t
        for t in records(ctx.results, "heterogeneity_joint")
        if t.get("outcome") in names and is_number(t.get("p_value"))
    }
    for (outcome_name, moderator), test in joint.items():
        if test["p_value"] < ctx.alpha:
            summary.subgroups.append(
                f"The effect of the frames on {ctx.outcome(outcome_name).label} differs with "
                f"{ctx.moderator_label(moderator)} ({fmt_p(test['p_value'])} for the "
                "difference; exploratory)."
            )
    cells: dict[tuple[Any, Any, bool], list[dict[str, Any]]] = {}
    for cell in records(ctx.results, "subgroups"):
        key = (cell.get("outcome"), cell.get("moderator"))
        if cell.get("outcome") not in names or cell.get("suppressed"):
            continue
        if not ctx.significant({"p_value": cell.get("p_value"), "estimate": cell.get("estimate")}):
            continue
        if key in joint and joint[key]["p_value"] >= ctx.alpha:
            continue
        negative = cell["estimate"] < 0
        differs = key in joint and joint[key]["p_value"] < ctx.alpha
        if not negative and not (differs or _worth_saying(ctx, cell)):
            continue
        cells.setdefault((cell["outcome"], cell.get("arm"), negative), []).append(cell)
    for (outcome_name, arm, negative), found in cells.items():
        outcome = ctx.outcome(outcome_name)
        # the moderator whose cell carries the strongest evidence is spelled out
        best = min(found, key=lambda c: c["p_value"]).get("moderator")
        shown = sorted((c for c in found if c.get("moderator") == best), key=lambda c: c["p_value"])
        label = ctx.moderator_label(best)
        verb = "lowered" if negative else "raised"
        first, rest = shown[0], shown[1:3]
        sentence = (
            f"among participants with {label} = {_level(first.get('level'))}, "
            f"{ctx.frame_name(arm)} {verb} {outcome.label} by {_amount(outcome, first)}"
            f"{_interval(ctx, outcome, first, fmt_p(first['p_value']))}"
        )
        for c in rest:
            sentence += (
                f"; among those with {label} = {_level(c.get('level'))}, by {_amount(outcome, c)}"
                f"{_interval(ctx, outcome, c, fmt_p(c['p_value']))}"
            )
        others = [ctx.moderator_label(m) for m in dict.fromkeys(c.get("moderator") for c in found)]
        others = [m for m in others if m != label]
        if others:
            sentence += (
                f". Splits by {' and '.join(others)} show similar pockets (see the appendix)"
            )
        if negative:
            summary.backlash.append(
                f"Backlash in a subgroup: {sentence}. This is exploratory, but avoid this frame "
                "with that audience until a new study checks it."
            )
        else:
            summary.subgroups.append(f"{sentence_case(sentence)}. This is exploratory.")


def _worth_saying(ctx: ReportContext, cell: Mapping[str, Any]) -> bool:
    """A subgroup gain is news only when the frame did not work overall."""
    overall = [
        e
        for e in ctx.effects_for(str(cell.get("outcome")), ctx.primary_method)
        if e.get("arm") == cell.get("arm")
    ]
    return not any(ctx.significant(e) for e in overall)


def _value_match(ctx: ReportContext, primaries: list[Outcome], summary: Summary) -> None:
    names = {o.name for o in primaries}
    for row in records(ctx.results, "value_match"):
        if row.get("outcome") not in names or not is_pooled(row):
            continue
        if not ctx.significant({"p_value": row.get("p_value"), "estimate": row.get("estimate")}):
            continue
        outcome = ctx.outcome(row["outcome"])
        direction = "more" if row["estimate"] > 0 else "less"
        summary.subgroups.append(
            f"Frames persuaded {direction} the participants who hold the frame's own value "
            f"(estimate {fmt_num(row['estimate'] * outcome.scale, outcome.digits)} "
            f"{outcome.units} per point of value score{_interval(ctx, outcome, row)}; exploratory)."
        )
