"""The report's matplotlib charts: forest plots, answer shares and participant flow.

Every value drawn here is taken as given from the results object; the charts only
place numbers on axes. Each chart function returns an inline SVG string
(:func:`analysis.report.chart_style.figure_to_svg`); :class:`Figure` pairs one with the
caption the page shows under it.

Examples
--------
>>> rows = [IntervalRow("care", 0.12, -0.27, 0.51),
...         IntervalRow("loyalty", None, None, None, "exploratory", "not estimated")]
>>> svg = interval_plot(rows, title="Effect on support", xlabel="Change vs control",
...                     description="Estimates with 95% intervals.")
>>> svg[:100]
'<svg role="img" aria-label="Effect on support. Estimates with 95% intervals." class="figure" focusab'
>>> "not estimated" in svg
True
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure as MplFigure

from analysis.report.chart_style import (
    CHAR_IN,
    CONFIRMATORY,
    MUTED,
    RC,
    TONES,
    WIDTH_IN,
    figure_to_svg,
    locale_ticks,
)

__all__ = ["Figure", "IntervalRow", "distribution_plot", "flow_plot", "interval_plot"]


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


def _title(fig: MplFigure, title: str, height: float) -> float:
    """Put a (wrapped) title at the top left; return the inches it takes."""
    lines = textwrap.wrap(title, 72) or [""]
    fig.text(0.1 / WIDTH_IN, 1 - 0.08 / height, "\n".join(lines), ha="left", va="top", fontsize=11)
    return 0.2 + 0.22 * len(lines)


XLABEL_CHARS = 80  # an axis label longer than this wraps onto another line


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

    Parameters
    ----------
    rows : sequence of IntervalRow
        The estimates, top to bottom, already in display units.
    title : str
        Shown at the top left (wrapped at 72 characters) and as the SVG's title.
    xlabel : str
        The axis label, wrapped to the axes' width.
    description : str
        The figure in words, for the accessible name.
    families : mapping, optional
        Display names of ``confirmatory`` and ``exploratory`` for the legend.
    tones : mapping, optional
        Display names of the tones ``good``, ``bad`` and ``neutral`` for the legend.
    decimal : str, default "."
        The decimal sign of the report's language, for the tick labels.

    Returns
    -------
    str
        The chart as inline SVG (:func:`~analysis.report.chart_style.figure_to_svg`).

    Notes
    -----
    Confirmatory rows are filled circles on solid lines, exploratory rows open
    squares on dashed lines; colour is the row's tone (towards the desired
    direction, against it, or indistinguishable from none), so neither reading
    relies on colour alone. Rows without an estimate show their `note` instead of a
    point. Margins come from the label lengths rather than a tight bounding box,
    which would draw every figure twice.

    Examples
    --------
    >>> rows = [IntervalRow("fairness", 0.42, 0.18, 0.66, tone="good")]
    >>> svg = interval_plot(rows, title="Effect on support", xlabel="Change",
    ...                     description="One frame.", tones={"good": "towards the change"})
    >>> "<title>Effect on support</title>" in svg, "confirmatory: towards the change" in svg
    (True, True)
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
    with matplotlib.rc_context(RC):
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
        locale_ticks(ax.xaxis, decimal)
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
    """Small multiples: for each arm (label, values, shares) a bar chart of shares.

    Parameters
    ----------
    panels : sequence of (str, sequence of str, sequence of float)
        Per arm, top to bottom: its label, the answers (or bins) and each one's share (0-1).
    title : str
        Shown at the top left and as the SVG's title.
    xlabel : str
        The label under the shared answer axis.
    description : str
        The figure in words, for the accessible name.
    ylabel : str, default "% of the arm"
        The unit beside each panel's arm label.

    Returns
    -------
    str
        The chart as inline SVG.

    Notes
    -----
    Bars are the shares times 100 on a common scale (the largest share plus 15%); at
    most about 12 answer labels are shown, so histogram bins stay legible on a phone.

    Examples
    --------
    >>> panels = [("control", ["no", "yes"], [0.6, 0.4]), ("care", ["no", "yes"], [0.5, 0.5])]
    >>> svg = distribution_plot(panels, title="Answers", xlabel="joined", description="Shares.")
    >>> svg[:45], "<title>Answers</title>" in svg
    ('<svg role="img" aria-label="Answers. Shares."', True)
    """
    with matplotlib.rc_context(RC):
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
    """CONSORT-style diagram: shared stages on top, then one column per arm.

    Parameters
    ----------
    overall : sequence of (str, int)
        The stages every participant passes (label, count), top to bottom.
    per_arm : sequence of (str, sequence of (str, int))
        Per arm, its label and its stages with counts.
    title : str
        Shown at the top left and as the SVG's title.
    description : str
        The flow in words, for the accessible name.
    number : callable, default ``"{:,}".format``
        Formats a count in the report's language.

    Returns
    -------
    str
        The diagram as inline SVG.

    Notes
    -----
    The figure widens with the number of arms (1.7 inches each, at least the usual
    width) so that every column keeps its boxes readable.

    Examples
    --------
    >>> svg = flow_plot([("started", 1200), ("assigned", 1100)],
    ...                 [("control", [("completed", 520)]), ("care", [("completed", 498)])],
    ...                 title="Participant flow", description="Counts.")
    >>> "started: 1,200" in svg, "completed" in svg
    (True, True)
    """
    with matplotlib.rc_context(RC):
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
