"""The interim report and the live view's pieces: confidence sequences, drawn and said.

Before a study reaches its locked target the results carry ``meta.interim`` and, as
their only inference, the ``sequential`` section (:mod:`analysis.sequential`). This
module renders it: one SVG plot per frame (estimate and anytime-valid band against
participants so far, every drawn point carrying its values as ``data-`` attributes),
the sentence the declared stopping rule implies, and the whole interim report (a page
headed INTERIM). framelab's studio dashboard uses the same plot and sentences.

Like the rest of the report it computes nothing: every number is a value of the
results object, rounded for display. Every campaigner-facing word goes through the
report's :class:`~analysis.report.i18n.Translator` (``t``, English by default), so the
interim report is written in the report's language like the final one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from typing import Any

from markupsafe import Markup

from analysis.report.context import ReportContext
from analysis.report.i18n import Translator, translator
from analysis.sequential import MIN_PER_ARM

__all__ = [
    "decision_sentence",
    "decision_word",
    "interim_banner",
    "overall_sentence",
    "render_interim_html",
    "sequence_svg",
]

STOPS = ("efficacy", "harm", "futility")
# Plot geometry (viewBox units; CSS scales the figure to the page).
WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44
BAND = "#b9d3ea"
LINE = "#0b4f8a"
MUTED = "#555555"


def _t(t: Translator | None) -> Translator:
    return t or translator("en")


def _num(value: Any, t: Translator, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return t.number(value, digits)


def _p(value: Any, t: Translator) -> str:
    if value is None:
        return "–"
    if value < 0.001:
        return t("< {value}", value=t.number(0.001, 3))
    return t.number(value, 3)


def _percent(share: float, t: Translator) -> str:
    """'95%', '97.5%', '98.33%': as few decimals as show the level (two at most)."""
    shown = round(100 * share, 2)
    digits = next(d for d in (0, 1, 2) if round(shown, d) == shown)
    return t.percent(share, digits)


def _family_level(record: Mapping[str, Any], t: Translator) -> str:
    return _percent(1 - (record.get("alpha") or 0.05), t)


def _names(record: Mapping[str, Any]) -> tuple[str, str]:
    return (
        str(record.get("arm_label") or record.get("arm")),
        str(record.get("outcome_label") or record.get("outcome")),
    )


def interim_banner(t: Translator | None = None) -> str:
    """The line at the top of every interim page, in the reader's language."""
    t = _t(t)
    return t(
        "INTERIM — the study has not reached its planned sample; only anytime-valid "
        "intervals are shown"
    )


def decision_word(decision: Any, t: Translator | None = None) -> str:
    """The decision column's words for a ``decision`` code of the sequential section."""
    t = _t(t)
    words = {
        "efficacy": t("may stop: it works"),
        "harm": t("may stop: it backfires"),
        "futility": t("may stop: too small to matter"),
        "continue": t("keep collecting"),
        "too_few": t("too few yet"),
        "complete": t("complete"),
    }
    return words.get(str(decision), str(decision))


def decision_sentence(record: Mapping[str, Any], t: Translator | None = None) -> str:
    """What the declared rule implies for one frame now ("Care: you may stop; …")."""
    t = _t(t)
    arm, outcome = _names(record)
    level = _family_level(record, t)
    decision = record.get("decision")
    increase = record.get("desired", "increase") == "increase"
    if decision == "efficacy":
        if increase:
            return t(
                "{arm}: you may stop; the effect on {outcome} is above zero at every future "
                "look with {level} confidence (all frames together).",
                arm=arm,
                outcome=outcome,
                level=level,
            )
        return t(
            "{arm}: you may stop; the effect on {outcome} is below zero at every future "
            "look with {level} confidence (all frames together).",
            arm=arm,
            outcome=outcome,
            level=level,
        )
    if decision == "harm":
        if increase:
            return t(
                "{arm}: you may stop; this frame moves {outcome} the wrong way (the interval "
                "lies wholly below zero) with {level} confidence.",
                arm=arm,
                outcome=outcome,
                level=level,
            )
        return t(
            "{arm}: you may stop; this frame moves {outcome} the wrong way (the interval "
            "lies wholly above zero) with {level} confidence.",
            arm=arm,
            outcome=outcome,
            level=level,
        )
    if decision == "futility":
        bound = record.get("futility_bound")
        amount = (
            t.quantity("{value} point", "{value} points", float(bound), 2)
            if isinstance(bound, int | float) and math.isfinite(bound)
            else "–"
        )
        return t(
            "{arm}: you may stop; any effect on {outcome} is smaller than the declared "
            "{amount} with {level} confidence, too small to matter by the plan's rule.",
            arm=arm,
            outcome=outcome,
            amount=amount,
            level=level,
        )
    if decision == "too_few":
        return t(
            "{arm}: too few participants yet for an interval (at least {n} in this frame "
            "and in the control).",
            arm=arm,
            n=t.integer(MIN_PER_ARM),
        )
    if decision == "complete":
        return t(
            "{arm}: the planned sample is reached; the final report holds the result.", arm=arm
        )
    return t(
        "{arm}: keep collecting; the interval for {outcome} ({low} to {high}) still includes zero.",
        arm=arm,
        outcome=outcome,
        low=_num(record.get("cs_low"), t),
        high=_num(record.get("cs_high"), t),
    )


def overall_sentence(records: Sequence[Mapping[str, Any]], t: Translator | None = None) -> str:
    """The study's line: may it stop (every frame decided) or keep collecting."""
    t = _t(t)
    if records and all(r.get("decision") in STOPS for r in records):
        return t(
            "The declared rule says the study may stop: every frame has reached a decision. "
            "Stopping is the owner's confirmed Close now; until then participants keep "
            "arriving and the intervals stay valid."
        )
    return t(
        "Keep collecting: not every frame has reached a decision. These intervals stay "
        "valid however often you look, up to the planned sample."
    )


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low
    if span <= 0:
        return [low]
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def sequence_svg(
    record: Mapping[str, Any],
    *,
    max_n: int | None = None,
    uid: str = "",
    t: Translator | None = None,
) -> Markup:
    """The frame's confidence sequence: band and estimate against participants so far.

    Each look is a ``<circle class="look">`` whose ``data-n``, ``data-estimate``,
    ``data-cs-low`` and ``data-cs-high`` are the ``path`` values as written in the
    results (``repr`` of the float), so a reader or a test can check the drawing.
    """
    t = _t(t)
    path = list(record.get("path") or [])
    arm, outcome = _names(record)
    title = t(
        "{arm} versus control on {outcome}: estimate and anytime-valid interval",
        arm=arm,
        outcome=outcome,
    )
    ident = escape(f"seq-{uid}{record.get('outcome')}-{record.get('arm')}", quote=True)
    if not path:
        return Markup('<p class="missing" id="{}">{}</p>').format(
            ident, t("No interval yet: too few participants.")
        )
    # The axis runs to the planned sample once it is in sight; early on, to just past the
    # last look, so that the first looks are not squeezed against the left edge.
    last = max(p["look_n"] for p in path)
    x_max = max_n if max_n and max_n <= 2 * last else math.ceil(last * 1.1)
    values = [v for p in path for v in (p["cs_low"], p["cs_high"])] + [0.0]
    if record.get("futility_bound") is not None:
        bound = float(record["futility_bound"])
        values += [bound, -bound]
    y_low, y_high = min(values), max(values)
    pad = (y_high - y_low) * 0.05 or 1.0
    y_low, y_high = y_low - pad, y_high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(n: float) -> float:
        return LEFT + plot_w * n / x_max

    def y(v: float) -> float:
        return TOP + plot_h * (y_high - v) / (y_high - y_low)

    upper = " ".join(f"{x(p['look_n']):.2f},{y(p['cs_high']):.2f}" for p in path)
    lower = " ".join(f"{x(p['look_n']):.2f},{y(p['cs_low']):.2f}" for p in reversed(path))
    line = " ".join(f"{x(p['look_n']):.2f},{y(p['estimate']):.2f}" for p in path)
    parts = [
        f'<svg class="sequence" id="{ident}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-t" data-arm="{escape(str(record.get("arm")), quote=True)}" '
        f'data-outcome="{escape(str(record.get("outcome")), quote=True)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">{escape(title)}</title>',
    ]
    for tick in _ticks(y_low, y_high):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.2f}" y2="{y(tick):.2f}" '
            f'stroke="#e3e3e3" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.2f}" text-anchor="end" font-size="12" '
            f'fill="{MUTED}">{escape(_num(tick, t))}</text>'
        )
    for tick in _ticks(0, x_max, 4):
        parts.append(
            f'<text x="{x(tick):.2f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="12" fill="{MUTED}">{escape(t.integer(int(tick)))}</text>'
        )
    parts.append(
        f'<polygon class="band" points="{upper} {lower}" fill="{BAND}" stroke="none"/>'
        f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.2f}" y2="{y(0):.2f}" '
        f'stroke="#1a1a1a" stroke-dasharray="4 3" stroke-width="1.2"/>'
        f'<polyline class="estimate" points="{line}" fill="none" stroke="{LINE}" '
        f'stroke-width="2"/>'
    )
    if record.get("futility_bound") is not None:
        sign = 1 if record.get("desired", "increase") == "increase" else -1
        f_y = y(sign * float(record["futility_bound"]))
        parts.append(
            f'<line class="futility" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{f_y:.2f}" '
            f'y2="{f_y:.2f}" stroke="#8a3b00" stroke-dasharray="1 3" stroke-width="1.5"/>'
        )
    if max_n and max_n <= x_max:
        planned = t("planned {n}", n=t.integer(max_n))
        parts.append(
            f'<line class="target" x1="{x(max_n):.2f}" x2="{x(max_n):.2f}" y1="{TOP}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="{MUTED}" stroke-dasharray="2 2"/>'
            f'<text x="{x(max_n) - 4:.2f}" y="{TOP + 12}" text-anchor="end" font-size="12" '
            f'fill="{MUTED}">{escape(planned)}</text>'
        )
    for p in path:
        parts.append(
            f'<circle class="look" cx="{x(p["look_n"]):.2f}" cy="{y(p["estimate"]):.2f}" r="2.5" '
            f'fill="{LINE}" data-n="{p["look_n"]}" data-estimate="{p["estimate"]!r}" '
            f'data-cs-low="{p["cs_low"]!r}" data-cs-high="{p["cs_high"]!r}"/>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'font-size="13" fill="#1a1a1a">{escape(t("participants so far"))}</text>'
        f'<text x="14" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" font-size="13" '
        f'fill="#1a1a1a" transform="rotate(-90 14 {TOP + plot_h / 2:.0f})">'
        f"{escape(t('effect'))}</text>"
        "</svg>"
    )
    return Markup("".join(parts))


def _row(record: Mapping[str, Any], t: Translator) -> Markup:
    arm, outcome = _names(record)
    return Markup(
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        '<td>{}</td><td>{}</td><td data-decision="{}">{}</td></tr>'
    ).format(
        arm,
        outcome,
        t.integer(record["n"]) if isinstance(record.get("n"), int) else "–",
        _num(record.get("estimate"), t),
        t(
            "{low} to {high}",
            low=_num(record.get("cs_low"), t),
            high=_num(record.get("cs_high"), t),
        ),
        _p(record.get("anytime_p"), t),
        _p(record.get("anytime_p_adjusted"), t),
        str(record.get("decision")),
        decision_word(record.get("decision"), t),
    )


def sequential_table(records: Sequence[Mapping[str, Any]], t: Translator | None = None) -> Markup:
    """The sequential section now: one row per frame and primary outcome."""
    t = _t(t)
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

    ``lang`` (default: the plan's ``language``, else English) is the language of every
    campaigner-facing word, as in the final report.
    """
    from analysis.report.render import _when  # the final report's date format

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
        arm, outcome = _names(r)
        level = _percent(r.get("level") or 0.95, t)
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
            _num(d.get("mean"), t),
            _num(d.get("sd"), t),
        )
        for d in results.get("descriptives") or []
    )
    refs = (
        "Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H. & Ramdas, A. (2024). "
        "Time-uniform central limit theory and asymptotic confidence sequences. Annals of "
        "Statistics 52(6)."
    )
    n = meta.get("n_after_exclusions")
    analysed = _when(meta.get("created_at"), t)
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
