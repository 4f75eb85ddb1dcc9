"""The plain-language campaigner summary, generated from a results object.

Every number in these sentences is a value from the results (estimates,
interval ends, p-values, counts, rates, the plan's alpha), rounded for display;
yes/no outcomes are shown in percentage points, beside the share of the control
group and of the frame's group. Claims follow the analysis' own tests: a frame
"raised" an outcome when its (family-adjusted) p-value is below the plan's
alpha, "no effect larger than X" only when the results hold an equivalence test
that supports it. Good news and backlash follow each outcome's desired
direction: lowering an outcome the campaign wants lower is good news.

Sentences are English message templates translated by
:mod:`analysis.report.i18n`; labels come from the plan in the report's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.report.caveats import caveat_sentences, reason
from analysis.report.context import (
    Outcome,
    ReportContext,
    is_number,
    is_pooled,
    records,
    sentence_case,
    unique,
)
from analysis.report.design_sections import manipulation_sentences
from analysis.report.i18n import Translator

# Fewest participants with an answer that an arm needs for any estimate (run.py's rule).
MIN_PER_ARM = 2
SMALL_SAMPLE_CODES = {"empty_arm", "too_small_arm"}


@dataclass
class Summary:
    """Sections of the summary, each a list of plain-text sentences."""

    t: Translator
    headline: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    manipulation: list[str] = field(default_factory=list)
    backlash: list[str] = field(default_factory=list)
    other_outcomes: list[str] = field(default_factory=list)
    subgroups: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)

    def sections(self) -> list[tuple[str, list[str]]]:
        """(heading, sentences) pairs in reading order, empty sections left out."""
        t = self.t
        named = [
            (t("The answer"), self.headline),
            (t("Frame by frame"), self.findings),
            (t("Did each frame come across?"), self.manipulation),
            (t("Backlash"), self.backlash),
            (t("Other outcomes (exploratory)"), self.other_outcomes),
            (t("Who it works for"), self.subgroups),
            (t("What to keep in mind"), self.caveats),
        ]
        return [(title, items) for title, items in named if items]

    def text(self) -> str:
        """All sentences as one plain-text block (used by tests and the CLI)."""
        return "\n".join(s for _, items in self.sections() for s in items)


def campaigner_summary(results: Mapping[str, Any], lang: str | None = None) -> Summary:
    """Build the campaigner summary from `analysis.run` results, in `lang`."""
    ctx = results if isinstance(results, ReportContext) else ReportContext(results, lang)
    summary = Summary(ctx.t)
    primaries = [o for o in ctx.outcomes if o.primary]
    if not primaries:
        summary.headline.append(ctx.t("These results contain no primary outcome to summarise."))
    for outcome in primaries:
        _primary_outcome(ctx, outcome, summary)
    for outcome in ctx.outcomes:
        if not outcome.primary:
            _secondary_outcome(ctx, outcome, summary)
    summary.manipulation.extend(manipulation_sentences(ctx))
    _subgroups(ctx, primaries, summary)
    _value_match(ctx, primaries, summary)
    summary.caveats.extend(caveat_sentences(ctx))
    return summary


# ------------------------------------------------------------------ pieces of sentences


def _interval(ctx: ReportContext, outcome: Outcome, effect: Mapping[str, Any], *extra: str) -> str:
    """' (95% CI 0.18 to 0.66; p = 0.002)' — the interval and any extra notes in one bracket."""
    t = ctx.t
    parts = []
    low, high = effect.get("conf_low"), effect.get("conf_high")
    if is_number(low) and is_number(high):
        parts.append(
            t(
                "{level} CI {low} to {high}",
                level=ctx.confidence,
                low=outcome.show(low),
                high=outcome.show(high),
            )
        )
    parts.extend(extra)
    return t(" ({notes})", notes=t("; ").join(parts)) if parts else ""


def _amount(outcome: Outcome, effect: Mapping[str, Any]) -> str:
    """'0.42 points on the 1–7 scale' — the size of a change, without its sign."""
    return outcome.amount(abs(effect["estimate"]))


def _levels(ctx: ReportContext, outcome: Outcome, arm: Any) -> str:
    """', from 31% in the control group to 53% with this frame' (observed levels), or ''."""
    before, after = ctx.mean(outcome.name, ctx.control), ctx.mean(outcome.name, arm)
    if not (is_number(before) and is_number(after)):
        return ""
    return ctx.t(
        ", from {before} in the control group to {after} with this frame"
        if outcome.type == "binary"
        else ", from an average of {before} in the control group to {after} with this frame",
        before=outcome.level(before),
        after=outcome.level(after),
    )


def _change(
    ctx: ReportContext,
    outcome: Outcome,
    effect: Mapping[str, Any],
    frame: str,
    *extra: str,
    levels: bool = True,
) -> str:
    """'The Care frame raised X by 21.6 percentage points, from 31% … (95% CI …)' (no full stop).

    ``levels=False`` leaves out the groups' observed levels: a subgroup's change is not
    the difference of the whole groups' averages.
    """
    raised = effect["estimate"] > 0
    return ctx.t(
        "{frame} raised {outcome} by {amount}{levels}{interval}"
        if raised
        else "{frame} lowered {outcome} by {amount}{levels}{interval}",
        frame=frame,
        outcome=outcome.label,
        amount=_amount(outcome, effect),
        levels=_levels(ctx, outcome, effect.get("arm")) if levels else "",
        interval=_interval(ctx, outcome, effect, *extra),
    )


def _family_phrase(ctx: ReportContext, arms: int, outcomes: int, p: Any) -> str:
    t = ctx.t
    if ctx.correction == "none" or arms * outcomes <= 1:
        return t("This is unlikely to be chance ({p}).", p=t.p_value(p))
    tests = t.n("{n} frame", "{n} frames", arms)
    if outcomes > 1:
        tests = t.n("{tests} on {n} outcome", "{tests} on {n} outcomes", outcomes, tests=tests)
    return t(
        "This is unlikely to be chance, even after accounting for testing {tests} ({p}).",
        tests=tests,
        p=t.p_value(p),
    )


# ------------------------------------------------------------------ primary outcomes


def _primary_outcome(ctx: ReportContext, outcome: Outcome, summary: Summary) -> None:
    t = ctx.t
    method = ctx.primary_method
    effects = [
        e for e in ctx.effects_for(outcome.name, method) if e.get("family") == "confirmatory"
    ]
    if not effects:
        effects = ctx.effects_for(outcome.name, method)
    too_few = _too_few_sentence(ctx, outcome)
    if too_few and not any(is_number(e.get("estimate")) for e in effects):
        summary.headline.append(too_few)
        return
    n_outcomes = sum(1 for o in ctx.outcomes if o.primary)
    estimated = [e for e in effects if is_number(e.get("estimate"))]
    missing = [e for e in effects if not is_number(e.get("estimate"))]
    wins = sorted(
        (e for e in estimated if ctx.significant(e) and outcome.good(e["estimate"])),
        key=lambda e: abs(e["estimate"]),
        reverse=True,
    )
    if wins:
        best = wins[0]
        family = _family_phrase(ctx, len(effects), n_outcomes, ctx.decisive_p(best))
        sentence = _change(ctx, outcome, best, sentence_case(ctx.frame_name(best["arm"])))
        summary.headline.append(t("{sentence}. {family}", sentence=sentence, family=family))
    elif estimated:
        summary.headline.append(
            t(
                "No frame measurably lowered {outcome} compared with the control message."
                if outcome.wants_decrease
                else "No frame measurably raised {outcome} compared with the control message.",
                outcome=outcome.label,
            )
        )
    for effect in estimated:
        if wins and effect is wins[0]:
            continue
        name = sentence_case(ctx.frame_name(effect["arm"]))
        p = t.p_value(ctx.decisive_p(effect))
        if ctx.significant(effect) and outcome.good(effect["estimate"]):
            summary.findings.append(
                t(
                    "{sentence}. This too is unlikely to be chance.",
                    sentence=_change(ctx, outcome, effect, name, p),
                )
            )
        elif ctx.significant(effect):
            family = _family_phrase(ctx, len(effects), n_outcomes, ctx.decisive_p(effect))
            summary.backlash.append(
                t(
                    "{sentence}: the opposite of the change the campaign wants. {family} "
                    "Do not use this frame as it is.",
                    sentence=_change(ctx, outcome, effect, name),
                    family=family,
                )
            )
        elif _nominal(ctx, effect):
            _nominal_sentence(ctx, outcome, effect, name, len(effects), summary)
        else:
            summary.findings.append(_null_sentence(ctx, outcome, effect, name))
    if too_few:
        summary.findings.append(too_few)
    else:
        for effect in missing:
            summary.findings.append(_missing_sentence(ctx, outcome, effect.get("arm")))
    if not effects and not too_few:
        summary.headline.append(
            t(
                "No effect on {outcome} could be estimated: {reason}.",
                outcome=outcome.label,
                reason=_reasons(ctx, outcome.name, None),
            )
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
    t = ctx.t
    good = outcome.good(effect["estimate"])
    sentence = t(
        "{sentence}, but after accounting for testing {tests} this could be chance (adjusted {p}).",
        sentence=_change(ctx, outcome, effect, name if good else ctx.frame_name(effect["arm"])),
        tests=t.n("{n} frame", "{n} frames", frames),
        p=t.p_value(effect["p_adjusted"]),
    )
    if good:
        summary.findings.append(sentence)
    else:
        summary.backlash.append(t("Possible backlash: {sentence}", sentence=sentence))


def _null_sentence(
    ctx: ReportContext, outcome: Outcome, effect: Mapping[str, Any], name: str
) -> str:
    t = ctx.t
    equivalence = _equivalence(ctx, outcome.name, effect.get("arm"))
    if equivalence is not None:
        bound = equivalence.get("bound_raw", equivalence.get("bound"))
        return t(
            "{frame} made no measurable difference to {outcome}, and an equivalence test shows "
            "no effect larger than {bound} either way ({p}).",
            frame=name,
            outcome=outcome.label,
            bound=outcome.amount(abs(bound)),
            p=t.p_value(equivalence.get("p_value")),
        )
    return t(
        "{frame} made no measurable difference to {outcome}: its estimate, {estimate}{interval}, "
        "could be chance, and effects as large as the interval ends cannot be ruled out.",
        frame=name,
        outcome=outcome.label,
        estimate=outcome.amount(effect["estimate"]),
        interval=_interval(ctx, outcome, effect),
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


def _reasons(ctx: ReportContext, outcome: str, arm: Any) -> str:
    found = [reason(ctx, w) for w in ctx.warning_records(outcome, arm)]
    return ctx.t("; ").join(unique(found)) if found else ctx.t("no reason was recorded")


def _missing_sentence(ctx: ReportContext, outcome: Outcome, arm: Any) -> str:
    return ctx.t(
        "{frame}: no estimate for {outcome} ({reason}).",
        frame=sentence_case(ctx.frame_name(arm)),
        outcome=outcome.label,
        reason=_reasons(ctx, outcome.name, arm),
    )


# ------------------------------------------------------------------ too few participants


def _all_arms(ctx: ReportContext) -> list[str]:
    """Every arm of the design (plan order), not only those that have participants."""
    arms: list[str] = []
    for key in ("arm_labels", "weights"):
        value = ctx.plan.get(key)
        if isinstance(value, Mapping):
            arms.extend(str(a) for a in value)
    arms.extend(str(a) for a in ctx.meta.get("arms") or [])
    control = ctx.control
    if control is not None:
        arms.insert(0, control)
    return unique(arms)


def _too_few_sentence(ctx: ReportContext, outcome: Outcome) -> str | None:
    """One sentence saying which groups lack participants and how many more each needs."""
    short = _arms_short(ctx, outcome)
    if not short:
        return None
    t = ctx.t
    needs = [
        t.n("{group} needs {n} more", "{group} needs {n} more", more, group=_group_name(ctx, arm))
        for arm, more in short
    ]
    return t(
        "Not enough participants yet to estimate effects on {outcome}: every group needs at "
        "least {minimum} participants who answered, and {needs}.",
        outcome=outcome.label,
        minimum=t.integer(MIN_PER_ARM),
        needs=t.join(needs),
    )


def _arms_short(ctx: ReportContext, outcome: Outcome) -> list[tuple[str, int]]:
    """(arm, how many more it needs) for every arm of the design below the minimum.

    Counts come from the outcome's descriptives (participants with an answer, after
    exclusions); an arm of the design without a row has none. Without descriptives
    the results cannot say, and nothing is claimed.
    """
    counts = {
        d.get("arm"): int(d.get("n") or 0)
        for d in records(ctx.results, "descriptives")
        if d.get("outcome") == outcome.name and is_number(d.get("n"))
    }
    if not counts:
        return []
    return [
        (arm, MIN_PER_ARM - counts.get(arm, 0))
        for arm in _all_arms(ctx)
        if counts.get(arm, 0) < MIN_PER_ARM
    ]


def _group_name(ctx: ReportContext, arm: Any) -> str:
    if arm == ctx.control:
        return ctx.t("the control group ({label})", label=ctx.arm_label(arm))
    return ctx.frame_name(arm)


# ------------------------------------------------------------------ other outcomes


def _secondary_outcome(ctx: ReportContext, outcome: Outcome, summary: Summary) -> None:
    t = ctx.t
    effects = ctx.effects_for(outcome.name, ctx.primary_method)
    moved = [e for e in effects if ctx.significant(e)]
    too_few = _too_few_sentence(ctx, outcome)
    if too_few:
        summary.other_outcomes.append(too_few)
        if not any(is_number(e.get("estimate")) for e in effects):
            return
    if not effects:
        if ctx.warning_records(outcome.name):
            summary.other_outcomes.append(
                t(
                    "No effect on {outcome} could be estimated: {reason}.",
                    outcome=outcome.label,
                    reason=_reasons(ctx, outcome.name, None),
                )
            )
        return
    if not moved:
        summary.other_outcomes.append(
            t("No frame measurably changed {outcome} (exploratory).", outcome=outcome.label)
        )
    if not too_few:
        for effect in effects:
            if not is_number(effect.get("estimate")):
                summary.other_outcomes.append(_missing_sentence(ctx, outcome, effect.get("arm")))
    for effect in moved:
        sentence = _change(
            ctx,
            outcome,
            effect,
            sentence_case(ctx.frame_name(effect["arm"])),
            t.p_value(ctx.decisive_p(effect)),
            t("exploratory"),
        )
        if outcome.good(effect["estimate"]):
            summary.other_outcomes.append(t("{sentence}.", sentence=sentence))
        else:
            summary.backlash.append(
                t(
                    "{sentence}: the opposite of the change the campaign wants.",
                    sentence=sentence,
                )
            )


# ------------------------------------------------------------------ subgroups and values


def _subgroups(ctx: ReportContext, primaries: list[Outcome], summary: Summary) -> None:
    """Subgroup claims, gated by the interaction test and kept to one sentence per frame.

    With several moderators and many levels some cells pass alpha by chance, so a
    moderator only speaks when its joint interaction test does (or when the
    results hold no such test), and per frame only the moderator with the
    strongest evidence is spelled out; the others are named with a pointer to
    the appendix.
    """
    t = ctx.t
    names = {o.name for o in primaries}
    joint = {
        (test.get("outcome"), test.get("moderator")): test
        for test in records(ctx.results, "heterogeneity_joint")
        if test.get("outcome") in names and is_number(test.get("p_value"))
    }
    for (outcome_name, moderator), test in joint.items():
        if test["p_value"] < ctx.alpha:
            summary.subgroups.append(
                t(
                    "The effect of the frames on {outcome} differs with {moderator} ({p} for the "
                    "difference; exploratory).",
                    outcome=ctx.outcome(outcome_name).label,
                    moderator=ctx.column_label(moderator),
                    p=t.p_value(test["p_value"]),
                )
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
        bad = not ctx.outcome(cell["outcome"]).good(cell["estimate"])
        differs = key in joint and joint[key]["p_value"] < ctx.alpha
        if not bad and not (differs or _worth_saying(ctx, cell)):
            continue
        cells.setdefault((cell["outcome"], cell.get("arm"), bad), []).append(cell)
    for (outcome_name, arm, bad), found in cells.items():
        outcome = ctx.outcome(outcome_name)
        # the moderator whose cell carries the strongest evidence is spelled out
        best = min(found, key=lambda c: c["p_value"]).get("moderator")
        shown = sorted((c for c in found if c.get("moderator") == best), key=lambda c: c["p_value"])
        label = ctx.column_label(best)
        first, rest = shown[0], shown[1:3]
        sentence = t(
            "among participants in the subgroup “{level}” ({moderator}), {change}",
            moderator=label,
            level=ctx.level_label(best, first.get("level")),
            change=_change(
                ctx, outcome, first, ctx.frame_name(arm), t.p_value(first["p_value"]), levels=False
            ),
        )
        for c in rest:
            sentence += t(
                "; in the subgroup “{level}” ({moderator}), by {amount}{interval}",
                moderator=label,
                level=ctx.level_label(best, c.get("level")),
                amount=_amount(outcome, c),
                interval=_interval(ctx, outcome, c, t.p_value(c["p_value"])),
            )
        others = [ctx.column_label(m) for m in dict.fromkeys(c.get("moderator") for c in found)]
        others = [m for m in others if m != label]
        if others:
            sentence += t(
                ". Splits by {others} show similar pockets (see the appendix)",
                others=t.join(others),
            )
        if bad:
            summary.backlash.append(
                t(
                    "Backlash in a subgroup: {sentence}. This is exploratory, but avoid this "
                    "frame with that audience until a new study checks it.",
                    sentence=sentence,
                )
            )
        else:
            summary.subgroups.append(
                t("{sentence}. This is exploratory.", sentence=sentence_case(sentence))
            )


def _worth_saying(ctx: ReportContext, cell: Mapping[str, Any]) -> bool:
    """A subgroup gain is news only when the frame did not work overall."""
    overall = [
        e
        for e in ctx.effects_for(str(cell.get("outcome")), ctx.primary_method)
        if e.get("arm") == cell.get("arm")
    ]
    return not any(ctx.significant(e) for e in overall)


def _value_match(ctx: ReportContext, primaries: list[Outcome], summary: Summary) -> None:
    t = ctx.t
    names = {o.name for o in primaries}
    for row in records(ctx.results, "value_match"):
        if row.get("outcome") not in names or not is_pooled(row):
            continue
        if not ctx.significant({"p_value": row.get("p_value"), "estimate": row.get("estimate")}):
            continue
        outcome = ctx.outcome(row["outcome"])
        more = outcome.good(row["estimate"])
        summary.subgroups.append(
            t(
                "Frames moved {outcome} more in the direction the campaign wants among "
                "participants who hold the frame's own value (estimate {estimate} per point "
                "of value score{interval}; exploratory)."
                if more
                else "Frames moved {outcome} less in the direction the campaign wants among "
                "participants who hold the frame's own value (estimate {estimate} per point "
                "of value score{interval}; exploratory).",
                outcome=outcome.label,
                estimate=outcome.amount(row["estimate"]),
                interval=_interval(ctx, outcome, row),
            )
        )
