"""Report parts for manipulation checks and factorial designs (issue 19).

- `manipulation_sentences`: the summary says, frame by frame, whether readers
  recognised what the frame was about more often than readers of the control
  text; a frame that was not recognised is named plainly, since its null effect
  then says nothing about the value it was meant to carry.
- `interaction_figures`: a small interaction plot per outcome (cell means with
  their intervals, one line per level of the second factor, the control as a
  dashed reference line).
- `design_parts`: appendix tables of the checks and of the factorial contrasts.

Every number is a value from the results, rounded for display.

Examples
--------
>>> from analysis.report.context import ReportContext
>>> checks = [{"kind": "frame", "comparison": "control", "check": "about", "arm": "care",
...            "target": "care", "share": 0.62, "share_comparison": 0.31, "recognised": False}]
>>> manipulation_sentences(ReportContext({"manipulation_checks": checks}))
['The care frame was not recognised as being about “care” more often than the control text: 62% vs 31%. ...']
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import matplotlib
from babel.numbers import get_decimal_symbol
from markupsafe import Markup
from matplotlib.figure import Figure as MplFigure

from analysis.report import chart_style
from analysis.report.charts import Figure
from analysis.report.context import ReportContext
from analysis.report.result_values import is_number, records
from analysis.report.tables import columns_of, table_html

__all__ = ["design_parts", "interaction_figures", "manipulation_sentences"]

MARKERS = ("o", "s", "^", "D", "v")
LINESTYLES = ("-", "--", ":", "-.")


def _target(ctx: ReportContext, check: str, arm: Any, fallback: Any) -> str:
    """The target answer's words in the report's language (from the plan), else as recorded."""
    for spec in ctx.plan.get("manipulation_checks") or []:
        if spec.get("column") == check:
            label = (spec.get("target_labels") or {}).get(str(arm))
            if label:
                return str(ctx.text(label))
    return str(fallback)


def manipulation_sentences(ctx: ReportContext) -> list[str]:
    """One sentence per frame (vs the control) and per factor level (vs the other levels).

    Parameters
    ----------
    ctx : ReportContext
        The results (``manipulation_checks``) and the plan's check targets.

    Returns
    -------
    list of str
        In results order; records without both shares are skipped.

    Notes
    -----
    "Recognised" is the analysis' verdict (``recognised``), not re-judged here. A check
    of a factor (``factor_targets`` in the plan) is read per level, so its per-frame
    rows are left out.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> checks = [{"kind": "frame", "comparison": "control", "check": "about", "arm": "care",
    ...            "target": "care", "share": 0.62, "share_comparison": 0.31,
    ...            "conf_low": 0.2, "conf_high": 0.42, "recognised": True}]
    >>> manipulation_sentences(ReportContext({"manipulation_checks": checks}))
    ['The care frame was recognised as being about “care” more often than the control text: 62% vs 31% (95% CI 20.0 to 42.0 percentage points).']
    """
    t = ctx.t
    out = []
    # a check of a factor (who spoke?) is read per level, not per cell
    by_factor = {
        c.get("column")
        for c in ctx.plan.get("manipulation_checks") or []
        if c.get("factor_targets")
    }
    for r in records(ctx.results, "manipulation_checks"):
        if r.get("kind") == "frame" and r.get("check") in by_factor:
            continue
        share, other = r.get("share"), r.get("share_comparison")
        if not (is_number(share) and is_number(other)):
            continue
        values = {"share": t.percent(share), "other": t.percent(other)}
        if r.get("kind") == "frame" and r.get("comparison") == "control":
            values["frame"] = ctx.arm_label(r.get("arm"))
            values["target"] = _target(ctx, r.get("check"), r.get("arm"), r.get("target"))
            if r.get("recognised"):
                out.append(
                    t(
                        "The {frame} frame was recognised as being about “{target}” more often "
                        "than the control text: {share} vs {other} ({level} CI {low} to {high} "
                        "percentage points).",
                        level=ctx.confidence,
                        low=t.number(100 * r["conf_low"], 1),
                        high=t.number(100 * r["conf_high"], 1),
                        **values,
                    )
                )
            else:
                out.append(
                    t(
                        "The {frame} frame was not recognised as being about “{target}” more "
                        "often than the control text: {share} vs {other}. Its effect (or lack "
                        "of one) says little about that value.",
                        **values,
                    )
                )
        elif r.get("kind") == "factor" and r.get("comparison") == "other_levels":
            values["level"] = str(r.get("level"))
            values["factor"] = str(r.get("factor") or "").removeprefix("factor_")
            out.append(
                t(
                    "Readers of the {level} messages ({factor}) chose the matching answer more "
                    "often than readers of the other messages: {share} vs {other}.",
                    **values,
                )
                if r.get("recognised")
                else t(
                    "Readers of the {level} messages ({factor}) did not choose the matching "
                    "answer more often than readers of the other messages: {share} vs {other}.",
                    **values,
                )
            )
    return out


def interaction_figures(ctx: ReportContext) -> list[Figure]:
    """Cell means by the first factor, one line per level of the second (two-factor designs).

    Parameters
    ----------
    ctx : ReportContext
        The results (``factorial_cells``) and the plan's ``factors``.

    Returns
    -------
    list of Figure
        One per outcome with cell means; empty unless the plan has exactly two factors.

    Notes
    -----
    Lines are offset a little sideways so their intervals do not overlap; parallel
    lines mean the factors do not interact. The control's mean is a dotted line.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"factors": {"factor_tone": ["warm", "cold"], "factor_source": ["nurse", "mayor"]},
    ...         "outcomes": [{"name": "y", "label": "support"}]}
    >>> cells = [{"outcome": "y", "factor_tone": a, "factor_source": b, "mean": m,
    ...           "conf_low": m - 0.3, "conf_high": m + 0.3}
    ...          for a, b, m in [("warm", "nurse", 4.1), ("cold", "nurse", 3.8),
    ...                          ("warm", "mayor", 4.4), ("cold", "mayor", 3.9)]]
    >>> [figure] = interaction_figures(ReportContext({"meta": {"plan": plan}, "factorial_cells": cells}))
    >>> figure.caption
    'Means with 95% intervals; parallel lines mean the factors do not interact.'
    """
    cells = records(ctx.results, "factorial_cells")
    factors = list((ctx.plan.get("factors") or {}).items())
    if len(factors) != 2 or not cells:
        return []
    (first, first_levels), (second, second_levels) = factors
    t = ctx.t
    figures = []
    for outcome in ctx.outcomes:
        rows = [c for c in cells if c.get("outcome") == outcome.name]
        if not rows:
            continue
        by_cell = {(c.get(first), c.get(second)): c for c in rows}
        control = next((c for c in rows if c.get(first) is None), None)
        title = t("Average {outcome} in each combination of messages", outcome=outcome.label)
        description = t(
            "Means with {level} intervals; parallel lines mean the factors do not interact.",
            level=ctx.confidence,
        )
        with matplotlib.rc_context(chart_style.RC):
            fig = MplFigure(figsize=(chart_style.WIDTH_IN * 0.7, 3.2), layout="constrained")
            ax = fig.subplots()
            xs = list(range(len(first_levels)))
            for j, level in enumerate(second_levels):
                points = [by_cell.get((a, level)) for a in first_levels]
                if any(p is None or not is_number(p.get("mean")) for p in points):
                    continue
                offset = (j - (len(second_levels) - 1) / 2) * 0.06
                means = [p["mean"] for p in points]
                low = [p["mean"] - p["conf_low"] for p in points]
                high = [p["conf_high"] - p["mean"] for p in points]
                ax.errorbar(
                    [x + offset for x in xs],
                    means,
                    yerr=[low, high],
                    marker=MARKERS[j % len(MARKERS)],
                    linestyle=LINESTYLES[j % len(LINESTYLES)],
                    color=chart_style.CONFIRMATORY if j == 0 else chart_style.EXPLORATORY,
                    capsize=3,
                    label=f"{second.removeprefix('factor_')}: {level}",
                )
            if control is not None and is_number(control.get("mean")):
                ax.axhline(control["mean"], color=chart_style.MUTED, linestyle=":", linewidth=1)
                ax.text(
                    -0.35,
                    control["mean"],
                    ctx.arm_label(ctx.control),
                    va="bottom",
                    ha="left",
                    fontsize=8,
                    color=chart_style.MUTED,
                )
            ax.set_xticks(xs, [str(a) for a in first_levels])
            ax.set_xlim(-0.4, xs[-1] + 0.4)
            ax.set_xlabel(first.removeprefix("factor_"))
            fig.suptitle("\n".join(textwrap.wrap(title, 58)), x=0.02, ha="left", fontsize=11)
            chart_style.locale_ticks(ax.yaxis, get_decimal_symbol(t.locale))
            ax.legend(frameon=False, fontsize=8)
        svg = chart_style.figure_to_svg(fig, title, description)
        figures.append(Figure(Markup(svg), description))
    return figures


PART_INTROS = {
    "manipulation_checks": (
        "Manipulation checks",
        "Share of each frame's readers (or each factor level's) who chose the answer the "
        "study names as its intended meaning, against the control's and the other frames' "
        "(or levels') share of the same answers: difference in proportions, HC2 standard "
        "error, Welch degrees of freedom (estimatr::difference_in_means).",
    ),
    "manipulation_omnibus": (
        "Manipulation checks: omnibus test",
        "Pearson chi-square test that the answers to the check are distributed alike in every arm.",
    ),
    "factorial": (
        "Factorial effects",
        "Main effects (averaging over the other factor's levels), interaction contrasts and "
        "each cell vs control, as contrasts of cell means with HC2 standard errors "
        "(estimatr::lm_robust) and Bell-McCaffrey degrees of freedom (the residual-df "
        "figures in the *_residual columns).",
    ),
    "factorial_cells": (
        "Factorial cell means",
        "Mean, HC2 standard error and interval of each cell and of the control.",
    ),
}


def design_parts(
    ctx: ReportContext, labels: Mapping[str, Mapping[Any, str]]
) -> list[tuple[str, str, str, Markup | None]]:
    """(id, heading, intro, body) of the appendix tables present in the results.

    Parameters
    ----------
    ctx : ReportContext
        The results (manipulation checks, factorial contrasts and cells).
    labels : mapping
        Column -> value -> display label (arm ids to arm labels), for the tables.

    Returns
    -------
    list of tuple
        ``(id, heading, intro, body)`` for each of ``PART_INTROS`` the results hold, in
        that order; absent sections are left out (the appendix need not say so).

    Notes
    -----
    The intros name the estimators (HC2 standard errors, Welch or Bell-McCaffrey degrees
    of freedom) so an analyst can reproduce each table.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> rows = [{"check": "about", "arm": "care", "share": 0.62}]
    >>> [part[:2] for part in design_parts(ReportContext({"manipulation_checks": rows}), {})]
    [('manipulation_checks', 'Manipulation checks')]
    """
    parts = []
    for key, (heading, intro) in PART_INTROS.items():
        rows = records(ctx.results, key)
        if rows:
            body = table_html(rows, heading, columns=columns_of(rows), label_values=labels)
            parts.append((key, heading, intro, body))
    return parts
