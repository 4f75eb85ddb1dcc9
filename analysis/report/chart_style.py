"""The look every report chart shares, and its output as inline, accessible SVG.

Colours (contrast at least 4.5:1 on white, never the only cue), matplotlib settings
(real text, deterministic ids, no mathtext), the figure width, locale-aware tick labels,
and :func:`figure_to_svg`, which turns a matplotlib figure into an SVG string ready to be
inlined in HTML: no XML prologue, ``role="img"``, a ``<title>`` and an ``aria-label``,
ids prefixed so several figures can share one document, and no fixed size (CSS scales
it), so a phone shows the whole figure.

Examples
--------
>>> from matplotlib.figure import Figure
>>> svg = figure_to_svg(Figure(figsize=(2, 1)), "Empty", "A blank figure.")
>>> svg[:86]
'<svg role="img" aria-label="Empty. A blank figure." class="figure" focusable="false" d'
>>> "<title>Empty</title>" in svg
True
"""

from __future__ import annotations

import io
import itertools
import re
from html import escape
from typing import Any

import matplotlib
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter

__all__ = [
    "CHAR_IN",
    "CONFIRMATORY",
    "EXPLORATORY",
    "INK",
    "MUTED",
    "RC",
    "TONES",
    "WIDTH_IN",
    "figure_to_svg",
    "locale_ticks",
]

# Colours chosen for contrast on white (all >= 4.5:1) and for colour-blind
# readers; styles never rely on colour alone (marker shape and line style too).
INK = "#1a1a1a"
CONFIRMATORY = "#0b4f8a"
EXPLORATORY = "#8a3b00"
MUTED = "#555555"
# Interval colours say which way a change goes relative to what the campaign wants:
# towards it, against it, or not distinguishable from no change. Family (confirmatory or
# exploratory) is marker shape and line style, so neither reading relies on colour alone.
TONES = {"good": "#0b4f8a", "bad": "#a11d21", "neutral": MUTED}

RC = {
    "svg.fonttype": "none",  # real <text>: selectable, scalable, no embedded glyph paths
    "svg.hashsalt": "framelab",  # deterministic ids, so two runs give identical files
    # Labels are campaigners' text ("$5 or $10", "50% more"), never TeX: without this,
    # matplotlib reads $...$ as mathtext, mangles the label or fails the whole report.
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
}

_counter = itertools.count(1)

CHAR_IN = 0.075  # average width of a 10 pt sans-serif character, in inches
WIDTH_IN = 7.0


def figure_to_svg(fig: MplFigure, title: str, description: str) -> str:
    """Serialise a figure to an inline SVG string with an accessible name.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A drawn figure (the report never uses pyplot's global state).
    title : str
        The figure's title: its ``<title>`` and the start of its ``aria-label``.
    description : str
        What the figure shows, in words, appended to the ``aria-label``.

    Returns
    -------
    str
        An ``<svg>`` element without XML prologue, metadata or global style, with
        ``role="img"``, no fixed width or height, and every id prefixed ``f<n>-``.

    Notes
    -----
    Saved under :data:`RC` (real text, ``svg.hashsalt`` for deterministic ids, no date), so
    two runs give identical files; the per-figure id prefix keeps the references of
    several figures in one page apart (duplicate ids fail accessibility checks).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> svg = figure_to_svg(Figure(figsize=(2, 1)), "Empty", "A blank figure.")
    >>> svg.startswith('<svg role="img" aria-label="Empty. A blank figure."'), 'width="' in svg[:300]
    (True, False)
    """
    buf = io.StringIO()
    with matplotlib.rc_context(RC):
        # constrained layout already fits labels; "tight" bbox would render twice
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return _make_inline(buf.getvalue(), title, description)


def _make_inline(svg: str, title: str, description: str) -> str:
    svg = svg[svg.index("<svg") :]
    # matplotlib's RDF metadata and its global `*{...}` style rule would leak into
    # the page; the same rule lives, scoped, in report.css.
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\sxmlns:(?:dc|cc|rdf)="[^"]*"', "", svg)
    prefix = f"f{next(_counter)}-"
    # ids from separate figures can collide (same clip path, same marker), which
    # breaks references and fails accessibility checks on duplicate ids.
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"', r"<svg\1", svg, count=1)
    svg = re.sub(r'<svg([^>]*?)\sheight="[^"]*"', r"<svg\1", svg, count=1)
    label = escape(f"{title}. {description}", quote=True)
    svg = svg.replace(
        "<svg",
        # matplotlib placed every text for left-to-right anchoring: in a right-to-left page
        # an inherited `direction: rtl` would run each text the other way out of its place
        f'<svg role="img" aria-label="{label}" class="figure" focusable="false" direction="ltr"',
        1,
    )
    head_end = svg.index(">") + 1
    return svg[:head_end] + f"<title>{escape(title)}</title>" + svg[head_end:]


def locale_ticks(axis: Any, decimal: str) -> None:
    """Tick numbers with the report language's decimal sign and a true minus sign.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        The axis whose major tick labels to format (``ax.xaxis``, ``ax.yaxis``).
    decimal : str
        The language's decimal sign (``babel.numbers.get_decimal_symbol``).

    Returns
    -------
    None
        The axis gets a ``FuncFormatter``.

    Notes
    -----
    Values print with ``{:g}``; only the decimal sign and the minus change, so the ticks
    match the numbers in the report's sentences.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> locale_ticks(ax.xaxis, ",")
    >>> [ax.xaxis.get_major_formatter()(v, None) for v in (-0.5, 0.25)]
    ['−0,5', '0,25']
    """

    def label(value: float, position: int | None) -> str:
        return f"{value:g}".replace("-", "\u2212").replace(".", decimal)

    axis.set_major_formatter(FuncFormatter(label))
