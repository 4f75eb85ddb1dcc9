"""The interim report: a page headed INTERIM with the anytime-valid section only.

Before a study reaches its locked target the results carry ``meta.interim`` and, as
their only inference, the ``sequential`` section (:mod:`analysis.sequential`). This
module renders it as a page: the table of the section now, one plot per frame
(:mod:`analysis.report.sequence_plot`) with the sentence the declared stopping rule
implies (:mod:`analysis.report.interim_words`), then the participant counts and answer
summaries. framelab's studio dashboard uses the same plot and sentences.

Like the rest of the report it computes nothing: every number is a value of the
results object, rounded for display. Every campaigner-facing word goes through the
report's :class:`~analysis.report.i18n.Translator` (``t``, English by default), so the
interim report is written in the report's language like the final one.

Examples
--------
>>> results = {"meta": {"interim": True, "n_after_exclusions": 12},
...            "sequential": [{"arm": "care", "outcome": "support", "decision": "too_few"}]}
>>> html = render_interim_html(results)
>>> html[html.index("<h1>"):html.index("</h1>") + 5]
'<h1>INTERIM: Framing experiment results</h1>'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from typing import Any

from markupsafe import Markup

from analysis.report.context import ReportContext
from analysis.report.i18n import Translator, when
from analysis.report.interim_words import (
    arm_and_outcome,
    decision_sentence,
    decision_word,
    english_if_none,
    interim_banner,
    level_percent,
    number_or_dash,
    overall_sentence,
    p_or_dash,
)
from analysis.report.sequence_plot import sequence_svg

__all__ = ["render_interim_html", "sequential_table"]


def _row(record: Mapping[str, Any], t: Translator) -> Markup:
    arm, outcome = arm_and_outcome(record)
    return Markup(
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        '<td>{}</td><td>{}</td><td data-decision="{}">{}</td></tr>'
    ).format(
        arm,
        outcome,
        t.integer(record["n"]) if isinstance(record.get("n"), int) else "–",
        number_or_dash(record.get("estimate"), t),
        t(
            "{low} to {high}",
            low=number_or_dash(record.get("cs_low"), t),
            high=number_or_dash(record.get("cs_high"), t),
        ),
        p_or_dash(record.get("anytime_p"), t),
        p_or_dash(record.get("anytime_p_adjusted"), t),
        str(record.get("decision")),
        decision_word(record.get("decision"), t),
    )


def sequential_table(records: Sequence[Mapping[str, Any]], t: Translator | None = None) -> Markup:
    """The sequential section now: one row per frame and primary outcome.

    Parameters
    ----------
    records : sequence of mapping
        The ``sequential`` records (labels already in the reader's language).
    t : Translator, optional
        The reader's language; English by default.

    Returns
    -------
    markupsafe.Markup
        A captioned ``table.sequential``: frame, outcome, n, estimate, anytime-valid
        interval, anytime p (alone and over all frames) and the decision.

    Notes
    -----
    Missing values show as a dash; the decision cell keeps the code in
    ``data-decision`` beside its words.

    Examples
    --------
    >>> html = sequential_table([{"arm": "care", "outcome": "support", "n": 40, "estimate": 0.1,
    ...                           "cs_low": -0.5, "cs_high": 0.7, "anytime_p": 0.4,
    ...                           "decision": "continue"}])
    >>> html[html.index("<tbody>"):]
    Markup('<tbody><tr><th scope="row">care</th><td>support</td><td>40</td><td>0.10</td><td>−0.50 to 0.70</td><td>0.400</td><td>–</td><td data-decision="continue">keep collecting</td></tr></tbody></table>')
    """
    t = english_if_none(t)
    head = Markup(
        '<table class="sequential"><caption>{}</caption><thead><tr>'
        '<th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th></tr></thead><tbody>'
    ).format(
        t("Anytime-valid results now"),
        t("Frame"),
        t("Outcome"),
        t("n"),
        t("Estimate"),
        t("Anytime-valid interval"),
        t("Anytime p"),
        t("Anytime p (all frames)"),
        t("Decision"),
    )
    return head + Markup("").join(_row(r, t) for r in records) + Markup("</tbody></table>")


def _localised(record: Mapping[str, Any], ctx: ReportContext) -> dict[str, Any]:
    """The record with its frame and outcome labels in the report's language, when the
    plan has them in it (the analysis wrote them in the plan's own language)."""
    out = dict(record)
    labels = ctx.setting("arm_labels") or {}
    if isinstance(labels, Mapping) and record.get("arm") in labels:
        out["arm_label"] = ctx.arm_label(record.get("arm"))
    for spec in ctx.setting("outcomes") or []:
        if isinstance(spec, Mapping) and spec.get("name") == record.get("outcome"):
            out["outcome_label"] = ctx.text(spec.get("label")) or record.get("outcome_label")
    return out


def render_interim_html(
    results: Mapping[str, Any], *, title: str | None = None, lang: str | None = None
) -> str:
    """The interim report: headed INTERIM, the sequential section first and nothing else
    inferential (participant counts and answer summaries follow it).

    Parameters
    ----------
    results : mapping
        An interim results object (``meta.interim``) with its ``sequential`` section.
    title : str, optional
        The page title; default one naming the study.
    lang : str, optional
        The language of every campaigner-facing word; default the plan's ``language``,
        else English, as in the final report.

    Returns
    -------
    str
        The self-contained HTML page (inline CSS, no script).

    Notes
    -----
    Fixed-sample p-values and intervals never appear here: they are valid only at the
    planned sample. Frame and outcome labels are taken from the plan in the reader's
    language when it has them (the analysis wrote them in the plan's own language).

    Examples
    --------
    >>> html = render_interim_html({"meta": {"interim": True}, "sequential": []}, lang="fr")
    >>> html.splitlines()[1]
    '<html lang="fr" dir="ltr">'
    """
    ctx = ReportContext(results, lang)
    t = ctx.t
    meta = results.get("meta") or {}
    records = [_localised(r, ctx) for r in results.get("sequential") or []]
    monitoring = meta.get("monitoring") or {}
    max_n = monitoring.get("max_n")
    study = (meta.get("provenance") or {}).get("study")
    title = title or (
        t("Results: {study}", study=study) if study else t("Framing experiment results")
    )
    css = resources.files("analysis.report").joinpath("report.css").read_text(encoding="utf-8")
    rehearsal = bool((meta.get("provenance") or {}).get("rehearsal"))
    banner = interim_banner(t)
    if rehearsal:
        banner = t("REHEARSAL — simulated participants. {banner}", banner=banner)
    blocks = []
    for r in records:
        arm, outcome = arm_and_outcome(r)
        level = level_percent(r.get("level") or 0.95, t)
        blocks.append(
            Markup(
                '<figure>{}<figcaption>{}</figcaption></figure><p class="decision">{}</p>'
            ).format(
                sequence_svg(r, max_n=max_n, t=t),
                t(
                    "{arm} versus control on {outcome}: the line is the estimate, the band its "
                    "anytime-valid {level} interval, after each group of participants.",
                    arm=arm,
                    outcome=outcome,
                    level=level,
                ),
                decision_sentence(r, t),
            )
        )
    descriptives = Markup("").join(
        Markup(
            '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'
        ).format(
            str(d.get("arm")),
            str(d.get("outcome")),
            t.integer(d["n"]) if isinstance(d.get("n"), int) else "–",
            number_or_dash(d.get("mean"), t),
            number_or_dash(d.get("sd"), t),
        )
        for d in results.get("descriptives") or []
    )
    refs = (
        "Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H. & Ramdas, A. (2024). "
        "Time-uniform central limit theory and asymptotic confidence sequences. Annals of "
        "Statistics 52(6)."
    )
    n = meta.get("n_after_exclusions")
    analysed = when(meta.get("created_at"), t)
    progress = []
    if analysed:
        progress.append(t("Analysed {time}.", time=analysed))
    if isinstance(n, int):
        if max_n:
            progress.append(
                t.n(
                    "{n} participant so far, of {target} planned.",
                    "{n} participants so far, of {target} planned.",
                    n,
                    target=t.integer(max_n),
                )
            )
        else:
            progress.append(t.n("{n} participant so far.", "{n} participants so far.", n))
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(t.lang)}" dir="{t.direction}">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="framelab analysis.report">\n'
        '<meta name="framelab-interim" content="true">\n'
        f"<title>{escape(t('INTERIM · {title}', title=title))}</title>\n"
        f"<style>\n{css}\n</style>\n</head>\n<body>\n"
        '<p class="interim" id="interim" role="note" style="margin:0 0 1rem;padding:.75rem 1rem;'
        "border:3px solid #8a1c00;background:#fff1ec;color:#8a1c00;font-size:1.3rem;"
        f'font-weight:700;text-align:center">{escape(banner)}</p>\n'
        f'<header><p class="kicker">{escape(t("Interim framing experiment report"))}</p>'
        f"<h1>{escape(t('INTERIM: {title}', title=title))}</h1>"
        f'<p class="meta">{escape(" ".join(progress))}</p></header>\n<main>\n'
        '<section id="sequential" aria-labelledby="sequential-h">'
        f'<h2 id="sequential-h">{escape(t("Anytime-valid results"))}</h2>'
        f'<p class="lead" id="overall-decision">{escape(overall_sentence(records, t))}</p>'
        "<p>"
        + escape(
            t(
                "These intervals are wider than the usual ones because they hold at every look "
                "at once, not just at the planned sample; that is what makes it safe to look "
                "every day and to stop when one leaves zero. Fixed-sample p-values and "
                "intervals appear only in the final report, once the planned sample is reached "
                "or the owner closes the study."
            )
        )
        + "</p>"
        f"{sequential_table(records, t)}{Markup('').join(blocks)}</section>\n"
        '<section id="descriptives" aria-labelledby="descriptives-h">'
        f'<h2 id="descriptives-h">{escape(t("Answers so far"))}</h2><table><thead><tr>'
        f'<th scope="col">{escape(t("Arm"))}</th><th scope="col">{escape(t("Outcome"))}</th>'
        f'<th scope="col">{escape(t("n"))}</th><th scope="col">{escape(t("Mean"))}</th>'
        f'<th scope="col">{escape(t("SD"))}</th></tr></thead><tbody>{descriptives}</tbody>'
        "</table></section>\n</main>\n<footer><p>"
        + escape(
            t(
                "Confidence sequences: {reference} Several frames: Bonferroni over frames and "
                "primary outcomes.",
                reference=refs,
            )
        )
        + "</p></footer>\n</body>\n</html>\n"
    )
