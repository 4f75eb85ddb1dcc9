"""The interim report and the live view's pieces: confidence sequences, drawn and said.

Before a study reaches its locked target the results carry ``meta.interim`` and, as
their only inference, the ``sequential`` section (:mod:`analysis.sequential`). This
module renders it: one SVG plot per frame (estimate and anytime-valid band against
participants so far, every drawn point carrying its values as ``data-`` attributes),
the sentence the declared stopping rule implies, and the whole interim report (a page
headed INTERIM). framelab's studio dashboard uses the same plot and sentences.

Like the rest of the report it computes nothing: every number is a value of the
results object, rounded for display. The interim pages are in English for now.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from importlib import resources
from typing import Any

from markupsafe import Markup

__all__ = [
    "INTERIM_BANNER",
    "decision_sentence",
    "overall_sentence",
    "render_interim_html",
    "sequence_svg",
]

INTERIM_BANNER = (
    "INTERIM — the study has not reached its planned sample; only anytime-valid intervals are shown"
)
STOPS = ("efficacy", "harm", "futility")
# Plot geometry (viewBox units; CSS scales the figure to the page).
WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44
BAND = "#b9d3ea"
LINE = "#0b4f8a"
MUTED = "#555555"


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}".replace("-", "\u2212")


def _p(value: Any) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _family_level(record: Mapping[str, Any]) -> str:
    alpha = record.get("alpha") or 0.05
    return f"{100 * (1 - alpha):g}%"


def decision_sentence(record: Mapping[str, Any]) -> str:
    """What the declared rule implies for one frame now ("Care: you may stop; …")."""
    arm = record.get("arm_label") or record.get("arm")
    outcome = record.get("outcome_label") or record.get("outcome")
    level = _family_level(record)
    decision = record.get("decision")
    wanted = "above" if record.get("desired", "increase") == "increase" else "below"
    if decision == "efficacy":
        return (
            f"{arm}: you may stop; the effect on {outcome} is {wanted} zero at every future "
            f"look with {level} confidence (all frames together)."
        )
    if decision == "harm":
        other = "below" if wanted == "above" else "above"
        return (
            f"{arm}: you may stop; this frame moves {outcome} the wrong way (the interval "
            f"lies wholly {other} zero) with {level} confidence."
        )
    if decision == "futility":
        return (
            f"{arm}: you may stop; any effect on {outcome} is smaller than the declared "
            f"{_num(record.get('futility_bound'))} points with {level} confidence, too small "
            "to matter by the plan's rule."
        )
    if decision == "too_few":
        return (
            f"{arm}: too few participants yet for an interval (at least 10 in this frame "
            "and in the control)."
        )
    if decision == "complete":
        return f"{arm}: the planned sample is reached; the final report holds the result."
    return (
        f"{arm}: keep collecting; the interval for {outcome} ({_num(record.get('cs_low'))} "
        f"to {_num(record.get('cs_high'))}) still includes zero."
    )


def overall_sentence(records: Sequence[Mapping[str, Any]]) -> str:
    """The study's line: may it stop (every frame decided) or keep collecting."""
    if records and all(r.get("decision") in STOPS for r in records):
        return (
            "The declared rule says the study may stop: every frame has reached a decision. "
            "Stopping is the owner's confirmed Close now; until then participants keep "
            "arriving and the intervals stay valid."
        )
    return (
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


def sequence_svg(record: Mapping[str, Any], *, max_n: int | None = None, uid: str = "") -> Markup:
    """The frame's confidence sequence: band and estimate against participants so far.

    Each look is a ``<circle class="look">`` whose ``data-n``, ``data-estimate``,
    ``data-cs-low`` and ``data-cs-high`` are the ``path`` values as written in the
    results (``repr`` of the float), so a reader or a test can check the drawing.
    """
    path = list(record.get("path") or [])
    arm = str(record.get("arm_label") or record.get("arm"))
    outcome = str(record.get("outcome_label") or record.get("outcome"))
    title = f"{arm} versus control on {outcome}: estimate and anytime-valid interval"
    ident = escape(f"seq-{uid}{record.get('outcome')}-{record.get('arm')}", quote=True)
    if not path:
        return Markup(
            '<p class="missing" id="{}">No interval yet: too few participants.</p>'
        ).format(ident)
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
            f'fill="{MUTED}">{escape(_num(tick))}</text>'
        )
    for tick in _ticks(0, x_max, 4):
        parts.append(
            f'<text x="{x(tick):.2f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="12" fill="{MUTED}">{int(tick)}</text>'
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
        parts.append(
            f'<line class="target" x1="{x(max_n):.2f}" x2="{x(max_n):.2f}" y1="{TOP}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="{MUTED}" stroke-dasharray="2 2"/>'
            f'<text x="{x(max_n) - 4:.2f}" y="{TOP + 12}" text-anchor="end" font-size="12" '
            f'fill="{MUTED}">planned {max_n}</text>'
        )
    for p in path:
        parts.append(
            f'<circle class="look" cx="{x(p["look_n"]):.2f}" cy="{y(p["estimate"]):.2f}" r="2.5" '
            f'fill="{LINE}" data-n="{p["look_n"]}" data-estimate="{p["estimate"]!r}" '
            f'data-cs-low="{p["cs_low"]!r}" data-cs-high="{p["cs_high"]!r}"/>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'font-size="13" fill="#1a1a1a">participants so far</text>'
        f'<text x="14" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" font-size="13" '
        f'fill="#1a1a1a" transform="rotate(-90 14 {TOP + plot_h / 2:.0f})">effect</text>'
        "</svg>"
    )
    return Markup("".join(parts))


def _row(record: Mapping[str, Any]) -> Markup:
    return Markup(
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{} to {}</td>'
        "<td>{}</td><td>{}</td><td>{}</td></tr>"
    ).format(
        record.get("arm_label") or record.get("arm"),
        record.get("outcome_label") or record.get("outcome"),
        record.get("n"),
        _num(record.get("estimate")),
        _num(record.get("cs_low")),
        _num(record.get("cs_high")),
        _p(record.get("anytime_p")),
        _p(record.get("anytime_p_adjusted")),
        record.get("decision"),
    )


def sequential_table(records: Sequence[Mapping[str, Any]]) -> Markup:
    """The sequential section now: one row per frame and primary outcome."""
    head = Markup(
        '<table class="sequential"><caption>Anytime-valid results now</caption><thead><tr>'
        '<th scope="col">Frame</th><th scope="col">Outcome</th><th scope="col">n</th>'
        '<th scope="col">Estimate</th><th scope="col">Anytime-valid interval</th>'
        '<th scope="col">Anytime p</th><th scope="col">Anytime p (all frames)</th>'
        '<th scope="col">Decision</th></tr></thead><tbody>'
    )
    return head + Markup("").join(_row(r) for r in records) + Markup("</tbody></table>")


def _when(stamp: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(stamp)).astimezone(UTC)
    except (TypeError, ValueError):
        return ""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def render_interim_html(results: Mapping[str, Any], *, title: str | None = None) -> str:
    """The interim report: headed INTERIM, the sequential section first and nothing else
    inferential (participant counts and answer summaries follow it)."""
    meta = results.get("meta") or {}
    records = list(results.get("sequential") or [])
    monitoring = meta.get("monitoring") or {}
    max_n = monitoring.get("max_n")
    study = (meta.get("provenance") or {}).get("study")
    title = title or (f"Results: {study}" if study else "Framing experiment results")
    css = resources.files("analysis.report").joinpath("report.css").read_text(encoding="utf-8")
    rehearsal = bool((meta.get("provenance") or {}).get("rehearsal"))
    banner = ("REHEARSAL — simulated participants. " if rehearsal else "") + INTERIM_BANNER
    blocks = []
    for r in records:
        blocks.append(
            Markup(
                '<figure>{}<figcaption>{}</figcaption></figure><p class="decision">{}</p>'
            ).format(
                sequence_svg(r, max_n=max_n),
                f"{r.get('arm_label') or r.get('arm')} versus control on "
                f"{r.get('outcome_label') or r.get('outcome')}: the line is the estimate, the "
                f"band its anytime-valid {100 * (r.get('level') or 0.95):.4g}% interval, "
                "after each group of participants.",
                decision_sentence(r),
            )
        )
    descriptives = "".join(
        f'<tr><th scope="row">{escape(str(d.get("arm")))}</th><td>{escape(str(d.get("outcome")))}'
        f"</td><td>{d.get('n')}</td><td>{_num(d.get('mean'))}</td><td>{_num(d.get('sd'))}</td></tr>"
        for d in results.get("descriptives") or []
    )
    refs = (
        "Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H. & Ramdas, A. (2024). "
        "Time-uniform central limit theory and asymptotic confidence sequences. Annals of "
        "Statistics 52(6)."
    )
    n = meta.get("n_after_exclusions")
    return (
        '<!DOCTYPE html>\n<html lang="en" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="framelab analysis.report">\n'
        '<meta name="framelab-interim" content="true">\n'
        f"<title>INTERIM · {escape(title)}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n"
        '<p class="interim" id="interim" role="note" style="margin:0 0 1rem;padding:.75rem 1rem;'
        "border:3px solid #8a1c00;background:#fff1ec;color:#8a1c00;font-size:1.3rem;"
        f'font-weight:700;text-align:center">{escape(banner)}</p>\n'
        f'<header><p class="kicker">Interim framing experiment report</p>'
        f"<h1>INTERIM: {escape(title)}</h1>"
        f'<p class="meta">Analysed {escape(_when(meta.get("created_at")))}. '
        f"{'' if n is None else f'{n} participants so far'}"
        f"{'' if not max_n else f' of {max_n} planned'}.</p></header>\n<main>\n"
        '<section id="sequential" aria-labelledby="sequential-h">'
        '<h2 id="sequential-h">Anytime-valid results</h2>'
        f'<p class="lead" id="overall-decision">{escape(overall_sentence(records))}</p>'
        "<p>These intervals are wider than the usual ones because they hold at every look at "
        "once, not just at the planned sample; that is what makes it safe to look every day "
        "and to stop when one leaves zero. Fixed-sample p-values and intervals appear only in "
        "the final report, once the planned sample is reached or the owner closes the study.</p>"
        f"{sequential_table(records)}{Markup('').join(blocks)}</section>\n"
        '<section id="descriptives" aria-labelledby="descriptives-h">'
        '<h2 id="descriptives-h">Answers so far</h2><table><thead><tr><th scope="col">Arm</th>'
        '<th scope="col">Outcome</th><th scope="col">n</th><th scope="col">Mean</th>'
        f'<th scope="col">SD</th></tr></thead><tbody>{descriptives}</tbody></table></section>\n'
        f"</main>\n<footer><p>Confidence sequences: {escape(refs)} Several frames: Bonferroni "
        "over frames and primary outcomes.</p></footer>\n</body>\n</html>\n"
    )
