"""Who it works for: the summary's sentences on subgroups and on value match.

Subgroup claims are gated by the interaction test and kept to one sentence per frame
(the moderator with the strongest evidence is spelled out, the others named); a
subgroup that moves the wrong way is reported as backlash. The value-match sentence
reports the pooled frame × own-value interaction. All of it is exploratory and says so.

Examples
--------
>>> from analysis.report.context import ReportContext
>>> ctx = ReportContext({"meta": {"plan": {"outcomes": [{"name": "y", "label": "support"}]}},
...     "value_match": [{"outcome": "y", "arm": None, "estimate": 0.3, "p_value": 0.01}]})
>>> print(*value_match_sentences(ctx, ctx.outcomes))
Frames moved support more in the direction the campaign wants among participants ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.report.context import Outcome, ReportContext
from analysis.report.result_values import is_number, is_pooled, records, sentence_case
from analysis.report.summary_phrases import change_sentence, interval_note

__all__ = ["subgroup_sentences", "value_match_sentences"]


def subgroup_sentences(ctx: ReportContext, primaries: list[Outcome]) -> tuple[list[str], list[str]]:
    """Subgroup claims, gated by the interaction test and kept to one sentence per frame.

    With several moderators and many levels some cells pass alpha by chance, so a
    moderator only speaks when its joint interaction test does (or when the
    results hold no such test), and per frame only the moderator with the
    strongest evidence is spelled out; the others are named with a pointer to
    the appendix.

    Parameters
    ----------
    ctx : ReportContext
        The results and the plan's labels.
    primaries : list of Outcome
        The primary outcomes; subgroups of other outcomes are left to the appendix.

    Returns
    -------
    subgroups : list of str
        The differences worth saying (joint tests, then gains where the frame did not
        work overall), in results order.
    backlash : list of str
        Subgroups a frame moved the wrong way.

    Notes
    -----
    A cell speaks when its p-value is below the plan's alpha, it is not suppressed, and
    its moderator's joint test (``heterogeneity_joint``), if any, is below alpha too.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> ctx = ReportContext({"meta": {"plan": {"outcomes": [{"name": "y", "label": "support"}]}},
    ...     "heterogeneity_joint": [{"outcome": "y", "moderator": "age", "p_value": 0.003}]})
    >>> subgroup_sentences(ctx, ctx.outcomes)
    (['The effect of the frames on support differs with age (p = 0.003 for the difference; exploratory).'], [])
    """
    t = ctx.t
    subgroups: list[str] = []
    backlash: list[str] = []
    names = {o.name for o in primaries}
    joint = {
        (test.get("outcome"), test.get("moderator")): test
        for test in records(ctx.results, "heterogeneity_joint")
        if test.get("outcome") in names and is_number(test.get("p_value"))
    }
    for (outcome_name, moderator), test in joint.items():
        if test["p_value"] < ctx.alpha:
            subgroups.append(
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
            change=change_sentence(
                ctx, outcome, first, ctx.frame_name(arm), t.p_value(first["p_value"]), levels=False
            ),
        )
        for c in rest:
            sentence += t(
                "; in the subgroup “{level}” ({moderator}), by {amount}{interval}",
                moderator=label,
                level=ctx.level_label(best, c.get("level")),
                amount=outcome.amount(abs(c["estimate"])),
                interval=interval_note(ctx, outcome, c, t.p_value(c["p_value"])),
            )
        others = [ctx.column_label(m) for m in dict.fromkeys(c.get("moderator") for c in found)]
        others = [m for m in others if m != label]
        if others:
            sentence += t(
                ". Splits by {others} show similar pockets (see the appendix)",
                others=t.join(others),
            )
        if bad:
            backlash.append(
                t(
                    "Backlash in a subgroup: {sentence}. This is exploratory, but avoid this "
                    "frame with that audience until a new study checks it.",
                    sentence=sentence,
                )
            )
        else:
            subgroups.append(
                t("{sentence}. This is exploratory.", sentence=sentence_case(sentence))
            )
    return subgroups, backlash


def _worth_saying(ctx: ReportContext, cell: Mapping[str, Any]) -> bool:
    """A subgroup gain is news only when the frame did not work overall."""
    overall = [
        e
        for e in ctx.effects_for(str(cell.get("outcome")), ctx.primary_method)
        if e.get("arm") == cell.get("arm")
    ]
    return not any(ctx.significant(e) for e in overall)


def value_match_sentences(ctx: ReportContext, primaries: list[Outcome]) -> list[str]:
    """Whether frames worked better among those who hold the frame's own value.

    Parameters
    ----------
    ctx : ReportContext
        The results and the plan's labels.
    primaries : list of Outcome
        The primary outcomes.

    Returns
    -------
    list of str
        One sentence per primary outcome whose pooled interaction is below alpha.

    Notes
    -----
    The pooled ``value_match`` row is the frame × own-value-score interaction over every
    frame (moral reframing, Feinberg & Willer 2015); "more" or "less" follows the
    outcome's desired direction.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> ctx = ReportContext({"meta": {"plan": {"outcomes": [{"name": "y", "label": "support"}]}},
    ...     "value_match": [{"outcome": "y", "arm": None, "estimate": -0.3, "p_value": 0.01}]})
    >>> print(*value_match_sentences(ctx, ctx.outcomes))
    Frames moved support less in the direction ... (estimate −0.30 points per point of value score; exploratory).
    """
    t = ctx.t
    sentences: list[str] = []
    names = {o.name for o in primaries}
    for row in records(ctx.results, "value_match"):
        if row.get("outcome") not in names or not is_pooled(row):
            continue
        if not ctx.significant({"p_value": row.get("p_value"), "estimate": row.get("estimate")}):
            continue
        outcome = ctx.outcome(row["outcome"])
        more = outcome.good(row["estimate"])
        sentences.append(
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
                interval=interval_note(ctx, outcome, row),
            )
        )
    return sentences
