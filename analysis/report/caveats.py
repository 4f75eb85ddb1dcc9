"""The caveats at the end of the campaigner summary (sample, drop-out, balance).

Warnings from the analysis are written for analysts (in English, with column
ids); the summary names their reason in plain words in the reader's language
(:func:`reason`), and the analyst appendix keeps the analysis' own wording.

Examples
--------
>>> from analysis.report.context import ReportContext
>>> ctx = ReportContext({"meta": {"n_after_exclusions": 398, "n_input": 420}})
>>> caveat_sentences(ctx)
["Based on 398 participants (420 before the plan's exclusions)."]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.report.context import ReportContext
from analysis.report.result_values import is_number, records, unique

ATTRITION_HIGH = 0.2  # a drop-out share above this is worth a campaigner's attention
# warnings about the analysis machinery rather than the study: the appendix lists them
ANALYST_ONLY = {"unknown_plan_key", "section_failed", "not_available"}


def _rate(record: Mapping[str, Any]) -> Any:
    return record.get("attrition_rate", record.get("rate"))


def _significant(test: Mapping[str, Any], alpha: float) -> bool:
    return is_number(test.get("p_value")) and test["p_value"] < alpha


def _first_significant(tests: list[Mapping[str, Any]], alpha: float) -> float | None:
    """The p-value of the first test below ``alpha`` (None when no test is)."""
    return next((x["p_value"] for x in tests if _significant(x, alpha)), None)


def reason(ctx: ReportContext, warning: Mapping[str, Any]) -> str:
    """Why an estimate is missing, in plain words (the appendix lists the technical message).

    Parameters
    ----------
    ctx : ReportContext
        The results; its translator gives the reader's language.
    warning : mapping
        One ``warnings`` record (``code``, ``message``, optional ``arm``).

    Returns
    -------
    str
        A phrase that fits after "no estimate (...)".

    Notes
    -----
    The warning's ``code`` decides; older results without codes are read by their
    message ("no variance", "separation"). Anything else points to the appendix.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> ctx = ReportContext({})
    >>> reason(ctx, {"code": "too_small_arm", "message": "arm care has 1 participant"})
    'too few participants answered in one of the groups'
    >>> reason(ctx, {"message": "outcome y has no variance in arm care"})
    'every participant in a group gave the same answer'
    """
    t = ctx.t
    code = warning.get("code")
    message = str(warning.get("message") or "")
    if code in ("empty_arm", "too_small_arm"):
        return t("too few participants answered in one of the groups")
    if code == "no_variance" or "no variance" in message:
        if warning.get("arm") is not None or " in arm " in message:
            return t("every participant in a group gave the same answer")
        return t("every participant gave the same answer")
    if code == "separation" or "separation" in message:
        return t("in one group every answer fell on the same side, so this model cannot be fitted")
    if code == "small_arm":
        return t("a group is small, so the estimate is imprecise")
    return t("the analysis could not estimate it (see Warnings in the analyst appendix)")


def caveat_sentences(ctx: ReportContext) -> list[str]:
    """Sample size, drop-out, balance and sample-ratio caveats, from the results' own tests.

    Parameters
    ----------
    ctx : ReportContext
        The results and the plan's settings (``alpha``, the lock).

    Returns
    -------
    list of str
        In order: the sample (and the exclusions' toll), the smallest group, high drop-out,
        differential drop-out, imbalance, a sample-ratio mismatch, and data problems.

    Notes
    -----
    A test speaks when its p-value is below the plan's alpha; drop-out is called high
    above ``ATTRITION_HIGH`` (20%). Warnings about the analysis machinery
    (``ANALYST_ONLY``) stay in the appendix.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> ctx = ReportContext({"attrition": [{"arm": "care", "attrition_rate": 0.25}],
    ...                      "sample_ratio": [{"p_value": 0.001}]})
    >>> for sentence in caveat_sentences(ctx):
    ...     print(sentence)
    High drop-out: 25% of participants assigned to care did not finish.
    The number of participants per frame differs from the planned split more than chance allows (p = 0.001): check the assignment and drop-outs.
    """
    t = ctx.t
    caveats: list[str] = []
    meta = ctx.meta
    # the participants the estimates use (not those never assigned or without an answer)
    n = meta.get("n_analysed", meta.get("n_after_exclusions"))
    if is_number(n):
        text = t.n("Based on {n} participant", "Based on {n} participants", int(n))
        n_input = meta.get("n_input")
        # the aside only when the plan's exclusions removed someone
        if is_number(n_input) and n_input != meta.get("n_after_exclusions", n):
            text += t(
                " ({n} before the pre-registered exclusions)"
                if ctx.preregistration.preregistered
                else " ({n} before the plan's exclusions)",
                n=t.integer(n_input),
            )
        caveats.append(t("{sentence}.", sentence=text))
    shown = any(
        is_number(e.get("conf_low"))
        for o in ctx.outcomes
        if o.primary
        for e in ctx.effects_for(o.name, ctx.primary_method)
    )
    sizes = [
        (d.get("n"), d.get("arm"))
        for d in records(ctx.results, "descriptives")
        if is_number(d.get("n"))
        and any(o.primary and o.name == d.get("outcome") for o in ctx.outcomes)
    ]
    if sizes and shown:
        smallest, arm = min(sizes, key=lambda pair: pair[0])
        caveats.append(
            t.n(
                "The smallest group ({group}) had {n} participant: effects smaller than the "
                "intervals above cannot be told apart from chance.",
                "The smallest group ({group}) had {n} participants: effects smaller than the "
                "intervals above cannot be told apart from chance.",
                int(smallest),
                group=ctx.arm_label(arm),
            )
        )
    rates = [
        (_rate(a), a.get("arm")) for a in records(ctx.results, "attrition") if is_number(_rate(a))
    ]
    if rates:
        worst, arm = max(rates, key=lambda pair: pair[0])
        if worst > ATTRITION_HIGH:
            caveats.append(
                t(
                    "High drop-out: {share} of participants assigned to {group} did not finish.",
                    share=t.percent(worst),
                    group=ctx.arm_label(arm),
                )
            )
    # the overall test (no arm) speaks for the study; per-arm rows only when it is absent
    tests = records(ctx.results, "attrition_test")
    p = _first_significant([x for x in tests if x.get("arm") is None] or tests, ctx.alpha)
    if p is not None:
        caveats.append(
            t(
                "Drop-out differed between frames ({p}), so the people who finished may not "
                "be comparable across frames.",
                p=t.p_value(p),
            )
        )
    failed = [b for b in records(ctx.results, "balance_joint") if _significant(b, ctx.alpha)]
    if failed:
        arms = unique(ctx.arm_label(b.get("arm")) for b in failed if b.get("arm") is not None)
        caveats.append(
            t(
                "The groups differed before seeing any message (balance check {p}{groups}); "
                "prefer the covariate-adjusted estimates in the appendix.",
                p=t.p_value(min(b["p_value"] for b in failed)),
                groups=(t("; ") + t.join(arms)) if arms else "",
            )
        )
    p = _first_significant(records(ctx.results, "sample_ratio"), ctx.alpha)
    if p is not None:
        caveats.append(
            t(
                "The number of participants per frame differs from the planned split more "
                "than chance allows ({p}): check the assignment and drop-outs.",
                p=t.p_value(p),
            )
        )
    general = [
        w
        for w in records(ctx.results, "warnings")
        if w.get("outcome") is None
        and w.get("arm") is None
        and w.get("message")
        and w.get("code") not in ANALYST_ONLY
    ]
    if general:
        caveats.append(
            t.n(
                "The analysis reported {n} problem with the data; the analyst appendix "
                "lists it under Warnings.",
                "The analysis reported {n} problems with the data; the analyst appendix "
                "lists them under Warnings.",
                len(general),
            )
        )
    return caveats
