"""The caveats at the end of the campaigner summary (sample, drop-out, balance)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.report.context import ReportContext, fmt_num, fmt_p, is_number, records, unique

ATTRITION_HIGH = 0.2  # a drop-out share above this is worth a campaigner's attention
# warnings about the analysis machinery rather than the study: the appendix lists them
ANALYST_ONLY = {"unknown_plan_key", "section_failed", "not_available"}


def _rate(record: Mapping[str, Any]) -> Any:
    return record.get("attrition_rate", record.get("rate"))


def caveat_sentences(ctx: ReportContext) -> list[str]:
    """Sample size, drop-out, balance and sample-ratio caveats, from the results' own tests."""
    caveats: list[str] = []
    meta = ctx.meta
    n = meta.get("n_after_exclusions")
    if is_number(n):
        text = f"Based on {int(n):,} participants"
        n_input = meta.get("n_input")
        if is_number(n_input) and n_input != n:
            text += f" ({int(n_input):,} before the pre-registered exclusions)"
        caveats.append(text + ".")
    sizes = [
        (d.get("n"), d.get("arm"))
        for d in records(ctx.results, "descriptives")
        if is_number(d.get("n"))
        and any(o.primary and o.name == d.get("outcome") for o in ctx.outcomes)
    ]
    if sizes:
        smallest, arm = min(sizes, key=lambda t: t[0])
        caveats.append(
            f"The smallest group ({ctx.arm_label(arm)}) had {int(smallest):,} participants: "
            "effects smaller than the intervals above cannot be told apart from chance."
        )
    rates = [
        (_rate(a), a.get("arm")) for a in records(ctx.results, "attrition") if is_number(_rate(a))
    ]
    if rates:
        worst, arm = max(rates, key=lambda t: t[0])
        if worst > ATTRITION_HIGH:
            caveats.append(
                f"High drop-out: {fmt_num(100 * worst, 0)}% of participants assigned to "
                f"{ctx.arm_label(arm)} did not finish."
            )
    # the overall test (no arm) speaks for the study; per-arm rows only when it is absent
    tests = records(ctx.results, "attrition_test")
    for test in [t for t in tests if t.get("arm") is None] or tests:
        if is_number(test.get("p_value")) and test["p_value"] < ctx.alpha:
            caveats.append(
                f"Drop-out differed between frames ({fmt_p(test['p_value'])}), so the people "
                "who finished may not be comparable across frames."
            )
            break
    failed = [
        b
        for b in records(ctx.results, "balance_joint")
        if is_number(b.get("p_value")) and b["p_value"] < ctx.alpha
    ]
    if failed:
        arms = ", ".join(
            unique(ctx.arm_label(b.get("arm")) for b in failed if b.get("arm") is not None)
        )
        caveats.append(
            "The groups differed before seeing any message (balance check "
            f"{fmt_p(min(b['p_value'] for b in failed))}{'; ' + arms if arms else ''}); "
            "prefer the covariate-adjusted estimates in the appendix."
        )
    for test in records(ctx.results, "sample_ratio"):
        if is_number(test.get("p_value")) and test["p_value"] < ctx.alpha:
            caveats.append(
                "The number of participants per frame differs from the planned split more than "
                f"chance allows ({fmt_p(test['p_value'])}): check the assignment and drop-outs."
            )
            break
    general = [
        str(w.get("message"))
        for w in records(ctx.results, "warnings")
        if w.get("outcome") is None
        and w.get("arm") is None
        and w.get("message")
        and w.get("code") not in ANALYST_ONLY
    ]
    caveats.extend(f"Note: {m}" for m in unique(general))
    return caveats
