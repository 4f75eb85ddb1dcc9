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
The pieces of sentences live in :mod:`analysis.report.summary_phrases`, the subgroup
and value-match sentences in :mod:`analysis.report.subgroup_sentences`.

Examples
--------
>>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support", "range": [1, 7]}]}
>>> effect = {"outcome": "y", "arm": "fairness", "method": "difference_in_means",
...           "estimate": 0.42, "conf_low": 0.18, "conf_high": 0.66, "p_value": 0.0006,
...           "family": "confirmatory"}
>>> summary = campaigner_summary({"meta": {"plan": plan}, "effects": [effect]})
>>> print(summary.text())
The fairness frame raised support by 0.42 points on the 1–7 scale (95% CI 0.18 to 0.66). This is unlikely to be chance (p < 0.001).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.report.caveats import caveat_sentences
from analysis.report.context import Outcome, ReportContext
from analysis.report.design_sections import manipulation_sentences
from analysis.report.i18n import Translator
from analysis.report.result_values import is_number, records, sentence_case
from analysis.report.subgroup_sentences import subgroup_sentences, value_match_sentences
from analysis.report.summary_phrases import (
    change_sentence,
    family_phrase,
    interval_note,
    missing_sentence,
    reasons,
    too_few_sentence,
)

__all__ = ["Summary", "campaigner_summary"]


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
    """Build the campaigner summary from `analysis.run` results, in `lang`.

    Parameters
    ----------
    results : mapping or ReportContext
        The object returned by `analysis.run` (or its JSON read back), or a context
        already built from it.
    lang : str, optional
        The reader's language (``analysis.report.i18n.LANGUAGES``); default the plan's
        ``language``, else English. Ignored when `results` is a context.

    Returns
    -------
    Summary
        The sentences by section; ``Summary.sections()`` gives them in reading order
        with their headings, ``Summary.text()`` as one block.

    Notes
    -----
    Primary outcomes make the headline and the frame-by-frame findings (a frame's claim
    rests on its family-adjusted p-value against the plan's alpha; "no effect larger
    than X" needs a supporting equivalence test); other outcomes are exploratory; a
    change against the desired direction goes to Backlash. Manipulation checks,
    subgroups, value match and caveats follow.

    Examples
    --------
    >>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}]}
    >>> effect = {"outcome": "y", "arm": "loyalty", "method": "difference_in_means",
    ...           "estimate": -0.1, "conf_low": -0.4, "conf_high": 0.2, "p_value": 0.5}
    >>> summary = campaigner_summary({"meta": {"plan": plan}, "effects": [effect]}, lang="fr")
    >>> [heading for heading, sentences in summary.sections()]
    ["L'essentiel", 'Cadre par cadre']
    """
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
    subgroups, backlash = subgroup_sentences(ctx, primaries)
    summary.subgroups.extend(subgroups)
    summary.backlash.extend(backlash)
    summary.subgroups.extend(value_match_sentences(ctx, primaries))
    summary.caveats.extend(caveat_sentences(ctx))
    return summary


# ------------------------------------------------------------------ primary outcomes


def _primary_outcome(ctx: ReportContext, outcome: Outcome, summary: Summary) -> None:
    t = ctx.t
    method = ctx.primary_method
    effects = [
        e for e in ctx.effects_for(outcome.name, method) if e.get("family") == "confirmatory"
    ]
    if not effects:
        effects = ctx.effects_for(outcome.name, method)
    too_few = too_few_sentence(ctx, outcome)
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
        family = family_phrase(ctx, len(effects), n_outcomes, ctx.decisive_p(best))
        sentence = change_sentence(ctx, outcome, best, sentence_case(ctx.frame_name(best["arm"])))
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
                    sentence=change_sentence(ctx, outcome, effect, name, p),
                )
            )
        elif ctx.significant(effect):
            family = family_phrase(ctx, len(effects), n_outcomes, ctx.decisive_p(effect))
            summary.backlash.append(
                t(
                    "{sentence}: the opposite of the change the campaign wants. {family} "
                    "Do not use this frame as it is.",
                    sentence=change_sentence(ctx, outcome, effect, name),
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
            summary.findings.append(missing_sentence(ctx, outcome, effect.get("arm")))
    if not effects and not too_few:
        summary.headline.append(
            t(
                "No effect on {outcome} could be estimated: {reason}.",
                outcome=outcome.label,
                reason=reasons(ctx, outcome.name, None),
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
        sentence=change_sentence(
            ctx, outcome, effect, name if good else ctx.frame_name(effect["arm"])
        ),
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
        interval=interval_note(ctx, outcome, effect),
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


# ------------------------------------------------------------------ other outcomes


def _secondary_outcome(ctx: ReportContext, outcome: Outcome, summary: Summary) -> None:
    t = ctx.t
    effects = ctx.effects_for(outcome.name, ctx.primary_method)
    moved = [e for e in effects if ctx.significant(e)]
    too_few = too_few_sentence(ctx, outcome)
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
                    reason=reasons(ctx, outcome.name, None),
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
                summary.other_outcomes.append(missing_sentence(ctx, outcome, effect.get("arm")))
    for effect in moved:
        sentence = change_sentence(
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
