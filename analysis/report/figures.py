"""Turn result records into the report's figures (values are placed, never computed)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from analysis.report import plots
from analysis.report.context import (
    Outcome,
    ReportContext,
    fmt_num,
    is_number,
    is_pooled,
    records,
)

OVERALL_ARMS = (None, "", "all", "overall", "total")


@dataclass(frozen=True)
class Figure:
    """An inline SVG with the caption shown under it."""

    svg: Markup
    caption: str


def _value_label(value: object) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.3g}"
    return str(value)


def forest_figures(ctx: ReportContext) -> list[Figure]:
    """One forest plot per outcome, in the outcome's own units, for the primary method."""
    figures = []
    for outcome in ctx.outcomes:
        effects = ctx.effects_for(outcome.name, ctx.primary_method)
        if not effects:
            continue
        rows = [_effect_row(ctx, outcome, e) for e in effects]
        family = "confirmatory" if outcome.primary else "exploratory"
        title = f"Effect of each frame on {outcome.label} ({family})"
        desc = "; ".join(
            f"{r.label}: {fmt_num(r.estimate, outcome.digits)} ({fmt_num(r.low, outcome.digits)} to "
            f"{fmt_num(r.high, outcome.digits)})"
            if r.estimate is not None
            else f"{r.label}: {r.note}"
            for r in rows
        )
        svg = plots.interval_plot(
            rows,
            title=title,
            xlabel=f"Change vs control, {outcome.units} ({ctx.confidence} interval)",
            description=f"Estimates with {ctx.confidence} intervals. {desc}.",
        )
        figures.append(
            Figure(
                Markup(svg),
                f"{title}. Each point is the difference from the control message "
                f"({ctx.primary_method.replace('_', ' ')}); the line is its {ctx.confidence} "
                "confidence interval; the dotted line marks no effect.",
            )
        )
    return figures


def _effect_row(ctx: ReportContext, outcome: Outcome, effect: dict) -> plots.IntervalRow:
    label = ctx.arm_label(effect.get("arm"))
    family = str(effect.get("family") or ("confirmatory" if outcome.primary else "exploratory"))
    if not is_number(effect.get("estimate")):
        reasons = ctx.warnings_for(outcome.name, effect.get("arm"))
        return plots.IntervalRow(
            label, None, None, None, family, reasons[0] if reasons else "not estimated"
        )

    def scaled(key: str) -> float | None:
        value = effect.get(key)
        return value * outcome.scale if is_number(value) else None

    return plots.IntervalRow(
        label, scaled("estimate"), scaled("conf_low"), scaled("conf_high"), family
    )


def standardized_figure(ctx: ReportContext) -> Figure | None:
    """All outcomes on one axis via Hedges' g, confirmatory and exploratory side by side."""
    sizes = [s for s in records(ctx.results, "effect_sizes") if s.get("arm") != ctx.control]
    if not sizes:
        return None
    primary = {o.name for o in ctx.outcomes if o.primary}
    rows = []
    for s in sizes:
        outcome = ctx.outcome(s.get("outcome"))
        label = f"{outcome.label}: {ctx.arm_label(s.get('arm'))}"
        family = "confirmatory" if s.get("outcome") in primary else "exploratory"
        g = s.get("hedges_g", s.get("cohens_d"))
        if not is_number(g):
            rows.append(plots.IntervalRow(label, None, None, None, family, "not estimated"))
            continue
        low, high = s.get("conf_low"), s.get("conf_high")
        rows.append(
            plots.IntervalRow(
                label, g, low if is_number(low) else None, high if is_number(high) else None, family
            )
        )
    title = "Standardized effects (Hedges' g) on every outcome"
    svg = plots.interval_plot(
        rows,
        title=title,
        xlabel="Hedges' g (difference in standard deviations)",
        description="Filled circles on solid lines: confirmatory (pre-registered) outcomes; "
        "open squares on dashed lines: exploratory outcomes.",
    )
    return Figure(
        Markup(svg),
        f"{title}. Filled circles with solid lines are confirmatory (pre-registered) results; "
        "open squares with dashed lines are exploratory.",
    )


def distribution_figures(ctx: ReportContext) -> list[Figure]:
    """Per outcome, the share of each answer (or bin) within each arm."""
    figures = []
    rows = records(ctx.results, "distributions")
    for outcome in ctx.outcomes:
        mine = [r for r in rows if r.get("outcome") == outcome.name and is_number(r.get("share"))]
        if not mine:
            continue
        seen = list(dict.fromkeys(r.get("arm") for r in mine))
        arms = [a for a in seen if a == ctx.control] + [a for a in seen if a != ctx.control]
        panels = []
        for arm in arms:
            cells = [r for r in mine if r.get("arm") == arm]
            values = [_value_label(r.get("value", r.get("bin"))) for r in cells]
            panels.append((ctx.arm_label(arm), values, [float(r["share"]) for r in cells]))
        title = f"Answers on {outcome.label}, by arm"
        svg = plots.distribution_plot(
            panels,
            title=title,
            xlabel=outcome.label,
            description="Share of participants giving each answer, one panel per arm; "
            "the same numbers are in the distributions table of the appendix.",
        )
        figures.append(Figure(Markup(svg), f"{title}. Bar height is the share of the arm."))
    return figures


def flow_figure(ctx: ReportContext) -> Figure | None:
    """CONSORT-style participant flow from the `flow` records."""
    rows = [r for r in records(ctx.results, "flow") if is_number(r.get("n"))]
    if not rows:
        return None

    def stage(r: dict) -> str:
        return str(r.get("stage")).replace("_", " ")

    overall = [(stage(r), int(r["n"])) for r in rows if r.get("arm") in OVERALL_ARMS]
    arm_rows = [r for r in rows if r.get("arm") not in OVERALL_ARMS]
    arm_rows.sort(key=lambda r: r.get("arm") != ctx.control)  # control first, stable otherwise
    per_arm: dict[str, list[tuple[str, int]]] = {}
    for r in arm_rows:
        per_arm.setdefault(ctx.arm_label(r["arm"]), []).append((stage(r), int(r["n"])))
    title = "Participant flow"
    desc = "; ".join(f"{s}: {n}" for s, n in overall)
    desc += ". " + "; ".join(
        f"{arm}: " + ", ".join(f"{s} {n}" for s, n in st) for arm, st in per_arm.items()
    )
    svg = plots.flow_plot(overall, list(per_arm.items()), title=title, description=desc)
    return Figure(
        Markup(svg), "Participant flow (CONSORT style): how many people reached each stage."
    )


def subgroup_figures(ctx: ReportContext) -> list[Figure]:
    """Per primary outcome and moderator: the effect of each frame within each subgroup."""
    figures = []
    cells = records(ctx.results, "subgroups")
    for outcome in [o for o in ctx.outcomes if o.primary]:
        mine = [
            c for c in cells if c.get("outcome") == outcome.name and c.get("arm") != ctx.control
        ]
        for moderator in dict.fromkeys(c.get("moderator") for c in mine):
            rows = []
            for c in (c for c in mine if c.get("moderator") == moderator):
                label = f"{c.get('level')} · {ctx.arm_label(c.get('arm'))}"
                if c.get("suppressed") or not is_number(c.get("estimate")):
                    note = "suppressed: too few people" if c.get("suppressed") else "not estimated"
                    rows.append(plots.IntervalRow(label, None, None, None, "exploratory", note))
                    continue
                low, high = c.get("conf_low"), c.get("conf_high")
                rows.append(
                    plots.IntervalRow(
                        label,
                        c["estimate"] * outcome.scale,
                        low * outcome.scale if is_number(low) else None,
                        high * outcome.scale if is_number(high) else None,
                        "exploratory",
                    )
                )
            title = f"Effect on {outcome.label} within {moderator} subgroups (exploratory)"
            svg = plots.interval_plot(
                rows,
                title=title,
                xlabel=f"Change vs control, {outcome.units}",
                description="Subgroup estimates with intervals; suppressed cells are labelled.",
            )
            figures.append(Figure(Markup(svg), title + "."))
    return figures


def value_match_figure(ctx: ReportContext) -> Figure | None:
    """The frame × own-value interaction per arm (and pooled), as a forest plot."""
    rows = []
    for r in records(ctx.results, "value_match"):
        outcome = ctx.outcome(r.get("outcome"))
        arm = r.get("arm")
        label = f"{outcome.label}: {'all frames (pooled)' if is_pooled(r) else ctx.arm_label(arm)}"
        est, low, high = r.get("estimate"), r.get("conf_low"), r.get("conf_high")
        if not is_number(est):
            rows.append(plots.IntervalRow(label, None, None, None, "exploratory", "not estimated"))
            continue
        rows.append(
            plots.IntervalRow(
                label,
                est * outcome.scale,
                low * outcome.scale if is_number(low) else None,
                high * outcome.scale if is_number(high) else None,
                "exploratory",
            )
        )
    if not rows:
        return None
    title = "Value match: does a frame persuade more those who hold its value?"
    svg = plots.interval_plot(
        rows,
        title=title,
        xlabel="Extra effect per point of the frame's own value score",
        description="Interaction of each frame with participants' score on the frame's value.",
    )
    return Figure(Markup(svg), title + " (exploratory; Feinberg & Willer 2015).")
