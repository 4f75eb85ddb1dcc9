"""The pieces the campaigner summary's sentences are built from.

A change with its size, observed levels and interval; the family-correction phrase; why
an estimate is missing; and which groups still lack participants. Every number is a
value of the results, rounded for display, in the reader's language.

Examples
--------
>>> from analysis.report.context import ReportContext
>>> ctx = ReportContext({"meta": {"plan": {"control": "control",
...     "outcomes": [{"name": "y", "label": "support", "range": [1, 7]}]}}})
>>> effect = {"arm": "care", "estimate": 0.42, "conf_low": 0.18, "conf_high": 0.66}
>>> change_sentence(ctx, ctx.outcomes[0], effect, "The care frame")
'The care frame raised support by 0.42 points on the 1–7 scale (95% CI 0.18 to 0.66)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.report.caveats import reason
from analysis.report.context import Outcome, ReportContext
from analysis.report.values import is_number, records, sentence_case, unique

__all__ = [
    "MIN_PER_ARM",
    "change_sentence",
    "family_phrase",
    "interval_note",
    "missing_sentence",
    "reasons",
    "too_few_sentence",
]

# Fewest participants with an answer that an arm needs for any estimate (run.py's rule).
MIN_PER_ARM = 2


def interval_note(
    ctx: ReportContext, outcome: Outcome, effect: Mapping[str, Any], *extra: str
) -> str:
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


def change_sentence(
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
        interval=interval_note(ctx, outcome, effect, *extra),
    )


def family_phrase(ctx: ReportContext, arms: int, outcomes: int, p: Any) -> str:
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


def reasons(ctx: ReportContext, outcome: str, arm: Any) -> str:
    found = [reason(ctx, w) for w in ctx.warning_records(outcome, arm)]
    return ctx.t("; ").join(unique(found)) if found else ctx.t("no reason was recorded")


def missing_sentence(ctx: ReportContext, outcome: Outcome, arm: Any) -> str:
    return ctx.t(
        "{frame}: no estimate for {outcome} ({reason}).",
        frame=sentence_case(ctx.frame_name(arm)),
        outcome=outcome.label,
        reason=reasons(ctx, outcome.name, arm),
    )


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


def too_few_sentence(ctx: ReportContext, outcome: Outcome) -> str | None:
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
