"""The live view's drawing: a frame's confidence sequence as an inline SVG (no matplotlib).

The estimate and its anytime-valid band are drawn against the participants so far; every
drawn look carries its values as ``data-`` attributes, so a reader or a test can check the
drawing against the results. framelab's studio dashboard and the interim report use it.

Examples
--------
>>> record = {"arm": "care", "outcome": "support", "path": [
...     {"look_n": 20, "estimate": 0.2, "cs_low": -1.0, "cs_high": 1.4}]}
>>> svg = sequence_svg(record, max_n=40)
>>> svg[:42]
Markup('<svg class="sequence" id="seq-support-care')
>>> 'data-n="20" data-estimate="0.2"' in svg
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

from markupsafe import Markup

from analysis.report.i18n import Translator
from analysis.report.interim_words import arm_and_outcome, english_if_none, number_or_dash

__all__ = ["sequence_svg"]

# Plot geometry (viewBox units; CSS scales the figure to the page).
WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44
BAND = "#b9d3ea"
LINE = "#0b4f8a"
MUTED = "#555555"


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

    Parameters
    ----------
    record : mapping
        One ``sequential`` record; its ``path`` lists the looks (``look_n``,
        ``estimate``, ``cs_low``, ``cs_high``).
    max_n : int, optional
        The planned sample, drawn as a target line once it is within twice the last look.
    uid : str, default ""
        A prefix for the element ids, when one page holds several studies' plots.
    t : Translator, optional
        The reader's language; English by default.

    Returns
    -------
    markupsafe.Markup
        An ``<svg class="sequence">``, or a ``<p class="missing">`` when there is no look yet.

    Notes
    -----
    Each look is a ``<circle class="look">`` whose ``data-n``, ``data-estimate``,
    ``data-cs-low`` and ``data-cs-high`` are the ``path`` values as written in the
    results (``repr`` of the float), so a reader or a test can check the drawing. The
    futility bound, when declared, is a dotted line on the desired side of zero.

    Examples
    --------
    >>> sequence_svg({"arm": "care", "outcome": "support", "path": []})
    Markup('<p class="missing" id="seq-support-care">No interval yet: too few participants.</p>')
    """
    t = english_if_none(t)
    path = list(record.get("path") or [])
    arm, outcome = arm_and_outcome(record)
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
            f'fill="{MUTED}">{escape(number_or_dash(tick, t))}</text>'
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
