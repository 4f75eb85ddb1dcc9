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
from analysis.report.result_values import is_number, records, sentence_case, unique

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
    """' (95% CI 0.18 to 0.66; p = 0.002)' — the interval and any extra notes in one bracket.

    Parameters
    ----------
    ctx : ReportContext
        The results; gives the interval level (from the plan's alpha) and the language.
    outcome : Outcome
        The outcome, for its display unit.
    effect : mapping
        A record with ``conf_low`` and ``conf_high`` (an effect, a subgroup cell...).
    *extra : str
        Further notes for the same bracket (a p-value, "exploratory").

    Returns
    -------
    str
        The bracket with a leading space, or ``""`` when there is nothing to say.

    Notes
    -----
    Interval ends are shown in the outcome's display unit: a yes/no outcome's
    proportions times 100, in percentage points.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> ctx = ReportContext({"meta": {"plan": {"outcomes": [{"name": "y", "type": "binary"}]}}})
    >>> interval_note(ctx, ctx.outcomes[0], {"conf_low": 0.08, "conf_high": 0.35}, "p = 0.002")
    ' (95% CI 8.0 to 35.0; p = 0.002)'
    """
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

    Parameters
    ----------
    ctx : ReportContext
        The results (observed levels come from ``descriptives``).
    outcome : Outcome
        The outcome changed.
    effect : mapping
        The effect record (``arm``, ``estimate``, interval ends).
    frame : str
        How the sentence names the frame ("The care frame").
    *extra : str
        Further notes for the interval's bracket.
    levels : bool, default True
        Whether to add the groups' observed levels.

    Returns
    -------
    str
        The sentence without its full stop, so callers can go on.

    Notes
    -----
    ``levels=False`` leaves out the groups' observed levels: a subgroup's change is not
    the difference of the whole groups' averages. "Raised" or "lowered" follows the
    estimate's sign; whether that is good news is the caller's to say.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "sign-ups", "type": "binary"}]}
    >>> ctx = ReportContext({"meta": {"plan": plan}, "descriptives": [
    ...     {"outcome": "y", "arm": "control", "mean": 0.31}, {"outcome": "y", "arm": "care", "mean": 0.526}]})
    >>> effect = {"arm": "care", "estimate": 0.216, "conf_low": 0.08, "conf_high": 0.35}
    >>> change_sentence(ctx, ctx.outcomes[0], effect, "The care frame")
    'The care frame raised sign-ups by 21.6 percentage points, from 31% in the control group to 53% with this frame (95% CI 8.0 to 35.0)'
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
    """ "This is unlikely to be chance ...", naming the family a correction accounted for.

    Parameters
    ----------
    ctx : ReportContext
        The results; gives the plan's correction and the language.
    arms : int
        Frames tested against the control for the outcome.
    outcomes : int
        Primary outcomes in the family.
    p : float
        The p-value the claim rests on (adjusted within its family when available).

    Returns
    -------
    str
        A full sentence.

    Notes
    -----
    The family is named only when the plan corrects for multiple tests and more than one
    test is in it; otherwise the plain p-value speaks.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> ctx = ReportContext({"meta": {"plan": {"correction": "holm"}}})
    >>> family_phrase(ctx, 3, 2, 0.004)
    'This is unlikely to be chance, even after accounting for testing 3 frames on 2 outcomes (p = 0.004).'
    >>> family_phrase(ctx, 1, 1, 0.004)
    'This is unlikely to be chance (p = 0.004).'
    """
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
    """Why the estimates of an outcome (and arm) are missing, every reason once.

    Parameters
    ----------
    ctx : ReportContext
        The results (``warnings``).
    outcome : str
        The outcome's column name.
    arm : str or None
        The arm, or None for the outcome as a whole.

    Returns
    -------
    str
        The plain reasons (:func:`~analysis.report.caveats.reason`) joined, or "no reason
        was recorded".

    Notes
    -----
    Warnings tied to another method than the primary one are not counted
    (``ReportContext.warning_records``).

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> ctx = ReportContext({"warnings": [{"outcome": "y", "arm": "care", "code": "no_variance",
    ...                                    "message": "no variance in arm care"}]})
    >>> reasons(ctx, "y", "care"), reasons(ctx, "y", "fairness")
    ('every participant in a group gave the same answer', 'no reason was recorded')
    """
    found = [reason(ctx, w) for w in ctx.warning_records(outcome, arm)]
    return ctx.t("; ").join(unique(found)) if found else ctx.t("no reason was recorded")


def missing_sentence(ctx: ReportContext, outcome: Outcome, arm: Any) -> str:
    """'The care frame: no estimate for support (reason).'

    Parameters
    ----------
    ctx : ReportContext
        The results and the plan's labels.
    outcome : Outcome
        The outcome without an estimate.
    arm : str
        The frame without an estimate.

    Returns
    -------
    str
        A full sentence naming the frame, the outcome and the reasons.

    Notes
    -----
    The reasons are :func:`reasons` of the outcome and arm.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> ctx = ReportContext({"meta": {"plan": {"outcomes": [{"name": "y", "label": "support"}]}}})
    >>> missing_sentence(ctx, ctx.outcomes[0], "care")
    'The care frame: no estimate for support (no reason was recorded).'
    """
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
    """One sentence saying which groups lack participants and how many more each needs.

    Parameters
    ----------
    ctx : ReportContext
        The results (``descriptives``) and the plan's arms.
    outcome : Outcome
        The outcome whose answers are counted.

    Returns
    -------
    str or None
        None when every arm of the design has at least ``MIN_PER_ARM`` answers, or when
        the results hold no descriptives to count.

    Notes
    -----
    Counts are participants with an answer, after exclusions; an arm of the design
    (plan ``arm_labels``, ``weights`` or ``meta.arms``) without a row has none.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"control": "control", "arm_labels": {"care": "care"},
    ...         "outcomes": [{"name": "y", "label": "sign-ups"}]}
    >>> ctx = ReportContext({"meta": {"plan": plan}, "descriptives": [
    ...     {"outcome": "y", "arm": "control", "n": 100}, {"outcome": "y", "arm": "care", "n": 1}]})
    >>> too_few_sentence(ctx, ctx.outcomes[0])
    'Not enough participants yet to estimate effects on sign-ups: every group needs at least 2 participants who answered, and the care frame needs 1 more.'
    """
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
