"""Matplotlib figures rendered to inline, accessible SVG.

Every value drawn here is taken as given from the results object; the plots
only place numbers on axes. Each function returns an SVG string ready to be
inlined in HTML: no XML prologue, `role="img"`, a `<title>` and an
`aria-label`, ids prefixed so several figures can share one document, and no
fixed size (CSS scales it), so a phone shows the whole figure.
"""

from __future__ import annotations

import io
import itertools
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter

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

_RC = {
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


@dataclass(frozen=True)
class Figure:
    """An inline SVG with the caption shown under it."""

    svg: Markup
    caption: str


@dataclass(frozen=True)
class IntervalRow:
    """One labelled estimate with its interval; `note` replaces a missing estimate."""

    label: str
    estimate: float | None
    low: float | None
    high: float | None
    family: str = "confirmatory"
    note: str = ""
    tone: str = "neutral"  # good | bad | neutral: the change against the desired direction


def figure_to_svg(fig: MplFigure, title: str, description: str) -> str:
    """Serialise a figure to an inline SVG string with an accessible name."""
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
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


CHAR_IN = 0.075  # average width of a 10 pt sans-serif character, in inches
WIDTH_IN = 7.0


def _title(fig: MplFigure, title: str, height: float) -> float:
    """Put a (wrapped) title at the top left; return the inches it takes."""
    lines = textwrap.wrap(title, 72) or [""]
    fig.text(0.1 / WIDTH_IN, 1 - 0.08 / height, "\n".join(lines), ha="left", va="top", fontsize=11)
    return 0.2 + 0.22 * len(lines)


XLABEL_CHARS = 80  # an axis label longer than this wraps onto another line


def _locale_ticks(axis: Any, decimal: str) -> None:
    """Tick numbers with the report language's decimal sign and a true minus sign."""

    def label(value: float, position: int | None) -> str:
        return f"{value:g}".replace("-", "\u2212").replace(".", decimal)

    axis.set_major_formatter(FuncFormatter(label))


def _legend_label(
    family: str, tone: str, families: Mapping[str, str], tones: Mapping[str, str] | None
) -> str:
    name = families["confirmatory" if family == "confirmatory" else "exploratory"]
    return f"{name}: {tones[tone]}" if tones and tone in tones else name


def _left_margin(labels: Sequence[str], extra: float = 0.0) -> float:
    """Fraction of the width the y tick labels need (capped, so the plot keeps room)."""
    longest = max((len(s) for s in labels), default=0)
    return min(0.45, (0.3 + extra + CHAR_IN * longest) / WIDTH_IN)


# Figures are laid out by hand (margins from label lengths) rather than with
# matplotlib's constrained layout or a tight bounding box: those draw every
# figure twice, and a report holds a dozen figures.


def interval_plot(
    rows: Sequence[IntervalRow],
    *,
    title: str,
    xlabel: str,
    description: str,
    families: Mapping[str, str] | None = None,
    tones: Mapping[str, str] | None = None,
    decimal: str = ".",
) -> str:
    """Forest plot: one row per estimate with its interval and a zero line.

    Confirmatory rows are filled circles on solid lines, exploratory rows open
    squares on dashed lines; colour is the row's tone (towards the desired
    direction, against it, or indistinguishable from none). The legend spells
    both out with the names given in ``families`` and ``tones`` (the report's
    language). Rows without an estimate show their `note` instead of a point.
    """
    families = families or {"confirmatory": "confirmatory", "exploratory": "exploratory"}
    entries = {(r.family, r.tone) for r in rows if r.estimate is not None}
    longest = max((len(_legend_label(f, t, families, tones)) for f, t in entries), default=0)
    # two legend columns only when two labels fit side by side within the figure
    columns = 2 if len(entries) == 2 and 2 * (longest * CHAR_IN + 0.6) < WIDTH_IN else 1
    left = _left_margin([r.label for r in rows])
    # the axis label is centred under the axes: wrap it to the axes' own width
    axes_chars = int((WIDTH_IN * (1 - left) - 0.35) / CHAR_IN)
    xlabel_lines = textwrap.wrap(xlabel, min(XLABEL_CHARS, axes_chars)) or [""]
    with matplotlib.rc_context(_RC):
        legend_in = 0.15 + 0.2 * -(-len(entries) // columns) if entries else 0.1
        title_lines = len(textwrap.wrap(title, 72)) or 1
        axis_in = 0.55 + 0.17 * len(xlabel_lines)
        height = 0.42 * max(len(rows), 1) + axis_in + legend_in + 0.2 + 0.22 * title_lines
        fig = MplFigure(figsize=(WIDTH_IN, height))
        top = _title(fig, title, height)
        fig.subplots_adjust(
            left=left,
            right=1 - 0.25 / WIDTH_IN,
            top=1 - top / height,
            bottom=(axis_in + legend_in) / height,
        )
        ax = fig.subplots()
        ys = list(range(len(rows)))[::-1]
        seen: set[str] = set()
        for y, row in zip(ys, rows, strict=True):
            if row.estimate is None:
                # DejaVu Sans Oblique has no Arabic or Hebrew glyphs: such notes stay upright
                upright = any("\u0590" <= c <= "\u08ff" for c in row.note)
                ax.text(0.0, y, row.note, va="center", ha="center", color=MUTED, fontsize=9,
                        style="normal" if upright else "italic")  # fmt: skip
                continue
            confirm = row.family == "confirmatory"
            colour = TONES.get(row.tone, MUTED)
            legend = _legend_label(row.family, row.tone, families, tones)
            if row.low is not None and row.high is not None:
                ax.hlines(y, row.low, row.high, color=colour, linewidth=2,
                          linestyles="solid" if confirm else (0, (4, 2)))  # fmt: skip
            ax.plot(
                [row.estimate],
                [y],
                marker="o" if confirm else "s",
                markersize=7,
                color=colour,
                markerfacecolor=colour if confirm else "white",
                markeredgewidth=1.6,
                linestyle="none",
                label=None if legend in seen else legend,
            )
            seen.add(legend)
        ax.axvline(0.0, color=MUTED, linewidth=1, linestyle=":")
        ax.set_yticks(ys, [r.label for r in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel("\n".join(xlabel_lines))
        _locale_ticks(ax.xaxis, decimal)
        ax.spines[["top", "right"]].set_visible(False)
        if seen:
            fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.02), ncol=columns,
                       frameon=False, fontsize=9)  # fmt: skip
    return figure_to_svg(fig, title, description)


def distribution_plot(
    panels: Sequence[tuple[str, Sequence[str], Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    description: str,
    ylabel: str = "% of the arm",
) -> str:
    """Small multiples: for each arm (label, values, shares) a bar chart of shares."""
    with matplotlib.rc_context(_RC):
        n = max(len(panels), 1)
        title_lines = len(textwrap.wrap(title, 72)) or 1
        height = 1.05 * n + 0.8 + 0.2 + 0.22 * title_lines
        fig = MplFigure(figsize=(WIDTH_IN, height))
        top = _title(fig, title, height)
        fig.subplots_adjust(
            left=_left_margin([p[0] for p in panels] + [f"({ylabel})"], extra=0.35),
            right=1 - 0.25 / WIDTH_IN,
            top=1 - top / height,
            bottom=0.75 / height,
            hspace=0.45,
        )
        axes = fig.subplots(n, 1, sharex=True, squeeze=False)
        categories = list(dict.fromkeys(v for _, values, _ in panels for v in values))
        position = {c: i for i, c in enumerate(categories)}
        top = max((s for _, _, shares in panels for s in shares), default=1.0) or 1.0
        for ax, (label, values, shares) in zip(axes[:, 0], panels, strict=False):
            ax.bar([position[v] for v in values], [100 * s for s in shares],
                   color=CONFIRMATORY, width=0.7)  # fmt: skip
            ax.set_ylim(0, 100 * top * 1.15)
            ax.set_ylabel(f"{label}\n({ylabel})", rotation=0, ha="right", va="center")
            ax.tick_params(axis="y", labelsize=8)
            ax.spines[["top", "right"]].set_visible(False)
        # label at most ~12 ticks so histogram bins stay legible on a phone
        step = max(1, -(-len(categories) // 12))
        shown = range(0, len(categories), step)
        axes[-1, 0].set_xticks(list(shown), [categories[i] for i in shown])
        axes[-1, 0].set_xlabel(xlabel)
    return figure_to_svg(fig, title, description)


def flow_plot(
    overall: Sequence[tuple[str, int]],
    per_arm: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    *,
    title: str,
    description: str,
    number: Callable[[int], str] = "{:,}".format,
) -> str:
    """CONSORT-style diagram: shared stages on top, then one column per arm."""
    with matplotlib.rc_context(_RC):
        cols = max(len(per_arm), 1)
        depth = max((len(stages) for _, stages in per_arm), default=0)
        rows = len(overall) + 1 + depth
        height = 0.75 * rows + 0.6
        fig = MplFigure(figsize=(max(WIDTH_IN, 1.7 * cols), height))
        top = _title(fig, title, height)
        fig.subplots_adjust(left=0.01, right=0.99, top=1 - top / height, bottom=0.02)
        ax = fig.subplots()
        ax.set_xlim(0, cols)
        ax.set_ylim(0, rows)
        ax.axis("off")
        box = {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": MUTED}
        y = rows - 0.5
        for stage, n in overall:
            ax.text(cols / 2, y, f"{stage}: {number(n)}", ha="center", va="center", bbox=box)
            ax.annotate("", xy=(cols / 2, y - 0.62), xytext=(cols / 2, y - 0.3),
                        arrowprops={"arrowstyle": "->", "color": MUTED})  # fmt: skip
            y -= 1
        for i, (arm, stages) in enumerate(per_arm):
            x = i + 0.5
            ax.text(x, y, arm, ha="center", va="center", fontweight="bold")
            for j, (stage, n) in enumerate(stages):
                ax.text(x, y - 1 - j, f"{stage}\n{number(n)}", ha="center", va="center",
                        fontsize=8.5, linespacing=1.8, bbox=box)  # fmt: skip
    return figure_to_svg(fig, title, description)
