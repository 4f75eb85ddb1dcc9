"""The report's figures of effects: per outcome, standardized, by subgroup and by value match.

Each function reads the result records through a :class:`ReportContext` and returns
:class:`~analysis.report.charts.Figure` objects (an inline SVG and its caption, in the
report's language). Values are placed, never computed: an outcome's estimates are only
rescaled to its display unit (percentage points for yes/no outcomes).

Examples
--------
>>> from analysis.report.context import ReportContext
>>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}]}
>>> effect = {"outcome": "y", "arm": "care", "method": "difference_in_means",
...           "estimate": 0.42, "conf_low": 0.18, "conf_high": 0.66, "family": "confirmatory"}
>>> [figure] = forest_figures(ReportContext({"meta": {"plan": plan}, "effects": [effect]}))
>>> figure.caption
'Effect of each frame on support (main test (not pre-registered)). Each point is ...'
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_decimal_symbol
from markupsafe import Markup

from analysis.report import charts
from analysis.report.caveats import reason
from analysis.report.charts import Figure
from analysis.report.context import Outcome, ReportContext
from analysis.report.result_values import is_number, is_pooled, records

__all__ = ["forest_figures", "standardized_figure", "subgroup_figures", "value_match_figure"]


def _tones(ctx: ReportContext) -> dict[str, str]:
    t = ctx.t
    return {
        "good": t("towards the change the campaign wants"),
        "bad": t("against the change the campaign wants"),
        "neutral": t("interval includes no change"),
    }


def _tone(outcome: Outcome, estimate: Any, low: Any, high: Any) -> str:
    """Whether an interval lies wholly towards the desired direction, against it, or spans 0."""
    if not (is_number(low) and is_number(high)) or low <= 0 <= high:
        return "neutral"
    return "good" if outcome.good(estimate) else "bad"


def _axis_label(ctx: ReportContext, outcome: Outcome, with_interval: bool = True) -> str:
    t = ctx.t
    label = (
        t(
            "Change vs control, {units} ({level} interval)",
            units=outcome.units,
            level=ctx.confidence,
        )
        if with_interval
        else t("Change vs control, {units}", units=outcome.units)
    )
    if outcome.wants_decrease:
        label += t("; lower is what the campaign wants")
    return label


def forest_figures(ctx: ReportContext) -> list[Figure]:
    """One forest plot per outcome, in the outcome's own units, for the primary method.

    Parameters
    ----------
    ctx : ReportContext
        The results, the plan's labels and the report's language.

    Returns
    -------
    list of Figure
        One per outcome with effects of the primary method, in the plan's outcome order.

    Notes
    -----
    A frame without an estimate gets a row with the reason (its first warning) instead
    of a point; a row's colour says whether its interval lies wholly in the desired
    direction, against it, or spans zero.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}]}
    >>> effects = [{"outcome": "y", "arm": "care", "method": "difference_in_means",
    ...             "estimate": None}]
    >>> [figure] = forest_figures(ReportContext({"meta": {"plan": plan}, "effects": effects}))
    >>> "not estimated" in figure.svg
    True
    """
    t = ctx.t
    figures = []
    for outcome in ctx.outcomes:
        effects = ctx.effects_for(outcome.name, ctx.primary_method)
        if not effects:
            continue
        rows = [_effect_row(ctx, outcome, e) for e in effects]
        family = ctx.family_names["confirmatory" if outcome.primary else "exploratory"]
        title = t(
            "Effect of each frame on {outcome} ({family})", outcome=outcome.label, family=family
        )
        desc = t("; ").join(
            t(
                "{label}: {estimate} ({low} to {high})",
                label=r.label,
                estimate=t.number(r.estimate, outcome.digits),
                low=t.number(r.low, outcome.digits),
                high=t.number(r.high, outcome.digits),
            )
            if r.estimate is not None
            else f"{r.label}: {r.note}"
            for r in rows
        )
        svg = charts.interval_plot(
            rows,
            title=title,
            xlabel=_axis_label(ctx, outcome),
            description=t("Estimates with {level} intervals.", level=ctx.confidence) + " " + desc,
            families=ctx.family_names,
            tones=_tones(ctx),
            decimal=get_decimal_symbol(t.locale),
        )
        figures.append(
            Figure(
                Markup(svg),
                t(
                    "{title}. Each point is the difference from the control message; the line is "
                    "its {level} confidence interval; the dotted line marks no effect.",
                    title=title,
                    level=ctx.confidence,
                ),
            )
        )
    return figures


def _effect_row(ctx: ReportContext, outcome: Outcome, effect: dict) -> charts.IntervalRow:
    label = ctx.arm_label(effect.get("arm"))
    family = str(effect.get("family") or ("confirmatory" if outcome.primary else "exploratory"))
    if not is_number(effect.get("estimate")):
        warnings = ctx.warning_records(outcome.name, effect.get("arm"))
        note = reason(ctx, warnings[0]) if warnings else ctx.t("not estimated")
        return charts.IntervalRow(label, None, None, None, family, note)

    def scaled(key: str) -> float | None:
        value = effect.get(key)
        return value * outcome.scale if is_number(value) else None

    return charts.IntervalRow(
        label,
        scaled("estimate"),
        scaled("conf_low"),
        scaled("conf_high"),
        family,
        tone=_tone(
            outcome, effect.get("estimate"), effect.get("conf_low"), effect.get("conf_high")
        ),
    )


def standardized_figure(ctx: ReportContext) -> Figure | None:
    """All outcomes on one axis via Hedges' g, confirmatory and exploratory side by side.

    Parameters
    ----------
    ctx : ReportContext
        The results (``effect_sizes``) and the plan's labels.

    Returns
    -------
    Figure or None
        None when the results hold no effect sizes.

    Notes
    -----
    Hedges' g keeps the sign of the raw difference, so an outcome the campaign wants
    lower is flipped here (and its label says so): right is always the desired side.
    Cohen's d stands in when a record has no g.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> sizes = [{"outcome": "y", "arm": "care", "hedges_g": 0.3, "conf_low": 0.1, "conf_high": 0.5}]
    >>> standardized_figure(ReportContext({"effect_sizes": sizes})).caption
    "Standardized effects (Hedges' g) on every outcome. Filled circles with solid lines: ..."
    >>> standardized_figure(ReportContext({})) is None
    True
    """
    t = ctx.t
    sizes = [s for s in records(ctx.results, "effect_sizes") if s.get("arm") != ctx.control]
    if not sizes:
        return None
    primary = {o.name for o in ctx.outcomes if o.primary}
    rows = []
    for s in sizes:
        outcome = ctx.outcome(s.get("outcome"))
        name = outcome.label + (
            t(" (sign flipped: lower is better)") if outcome.wants_decrease else ""
        )
        label = f"{name}: {ctx.arm_label(s.get('arm'))}"
        family = "confirmatory" if s.get("outcome") in primary else "exploratory"
        g = s.get("hedges_g", s.get("cohens_d"))
        if not is_number(g):
            rows.append(charts.IntervalRow(label, None, None, None, family, t("not estimated")))
            continue
        sign = -1.0 if outcome.wants_decrease else 1.0
        low, high = s.get("conf_low"), s.get("conf_high")
        ends = sorted(sign * v for v in (low, high)) if is_number(low) and is_number(high) else None
        rows.append(
            charts.IntervalRow(
                label,
                sign * g,
                ends[0] if ends else None,
                ends[1] if ends else None,
                family,
                tone=_tone(ctx.outcome(None), sign * g, *(ends or (None, None))),
            )
        )
    title = t("Standardized effects (Hedges' g) on every outcome")
    svg = charts.interval_plot(
        rows,
        title=title,
        xlabel=t("Hedges' g (difference in standard deviations; right is the desired direction)"),
        description=t(
            "Filled circles on solid lines: {confirmatory}; open squares on dashed lines: "
            "{exploratory}.",
            **ctx.family_names,
        ),
        families=ctx.family_names,
        tones=_tones(ctx),
        decimal=get_decimal_symbol(t.locale),
    )
    return Figure(
        Markup(svg),
        t(
            "{title}. Filled circles with solid lines: {confirmatory}; open squares with dashed "
            "lines: {exploratory}.",
            title=title,
            **ctx.family_names,
        ),
    )


def subgroup_figures(ctx: ReportContext) -> list[Figure]:
    """Per primary outcome and moderator: the effect of each frame within each subgroup.

    Parameters
    ----------
    ctx : ReportContext
        The results (``subgroups``) and the plan's labels of moderators and levels.

    Returns
    -------
    list of Figure
        One per primary outcome and moderator, all exploratory.

    Notes
    -----
    Cells suppressed to protect participants (too few people) are labelled as such
    rather than drawn.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}]}
    >>> cells = [{"outcome": "y", "arm": "care", "moderator": "age", "level": "young",
    ...           "estimate": 0.5, "conf_low": 0.1, "conf_high": 0.9},
    ...          {"outcome": "y", "arm": "care", "moderator": "age", "level": "old",
    ...           "suppressed": True}]
    >>> [figure] = subgroup_figures(ReportContext({"meta": {"plan": plan}, "subgroups": cells}))
    >>> figure.caption, "suppressed: too few people" in figure.svg
    ('Effect on support within age subgroups (exploratory).', True)
    """
    t = ctx.t
    figures = []
    cells = records(ctx.results, "subgroups")
    for outcome in [o for o in ctx.outcomes if o.primary]:
        mine = [
            c for c in cells if c.get("outcome") == outcome.name and c.get("arm") != ctx.control
        ]
        for moderator in dict.fromkeys(c.get("moderator") for c in mine):
            rows = []
            for c in (c for c in mine if c.get("moderator") == moderator):
                label = (
                    f"{ctx.level_label(moderator, c.get('level'))} · {ctx.arm_label(c.get('arm'))}"
                )
                if c.get("suppressed") or not is_number(c.get("estimate")):
                    note = (
                        t("suppressed: too few people")
                        if c.get("suppressed")
                        else t("not estimated")
                    )
                    rows.append(charts.IntervalRow(label, None, None, None, "exploratory", note))
                    continue
                low, high = c.get("conf_low"), c.get("conf_high")
                rows.append(
                    charts.IntervalRow(
                        label,
                        c["estimate"] * outcome.scale,
                        low * outcome.scale if is_number(low) else None,
                        high * outcome.scale if is_number(high) else None,
                        "exploratory",
                        tone=_tone(outcome, c["estimate"], low, high),
                    )
                )
            title = t(
                "Effect on {outcome} within {moderator} subgroups (exploratory)",
                outcome=outcome.label,
                moderator=ctx.column_label(moderator),
            )
            svg = charts.interval_plot(
                rows,
                title=title,
                xlabel=_axis_label(ctx, outcome, with_interval=False),
                description=t("Subgroup estimates with intervals; suppressed cells are labelled."),
                families=ctx.family_names,
                tones=_tones(ctx),
            )
            figures.append(Figure(Markup(svg), t("{title}.", title=title)))
    return figures


def value_match_figure(ctx: ReportContext) -> Figure | None:
    """The frame × own-value interaction per arm (and pooled), as a forest plot.

    Parameters
    ----------
    ctx : ReportContext
        The results (``value_match``) and the plan's labels.

    Returns
    -------
    Figure or None
        None when the results hold no value-match rows.

    Notes
    -----
    Each row is the extra effect per point of the participant's score on the frame's own
    value (moral reframing; Feinberg & Willer 2015), exploratory.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> rows = [{"outcome": "y", "arm": None, "estimate": 0.3, "conf_low": 0.1, "conf_high": 0.5}]
    >>> value_match_figure(ReportContext({"value_match": rows})).caption
    'Value match: does a frame persuade more those who hold its value? (exploratory; ...'
    """
    t = ctx.t
    rows = []
    for r in records(ctx.results, "value_match"):
        outcome = ctx.outcome(r.get("outcome"))
        arm = r.get("arm")
        which = t("all frames (pooled)") if is_pooled(r) else ctx.arm_label(arm)
        label = f"{outcome.label}: {which}"
        est, low, high = r.get("estimate"), r.get("conf_low"), r.get("conf_high")
        if not is_number(est):
            rows.append(
                charts.IntervalRow(label, None, None, None, "exploratory", t("not estimated"))
            )
            continue
        rows.append(
            charts.IntervalRow(
                label,
                est * outcome.scale,
                low * outcome.scale if is_number(low) else None,
                high * outcome.scale if is_number(high) else None,
                "exploratory",
                tone=_tone(outcome, est, low, high),
            )
        )
    if not rows:
        return None
    title = t("Value match: does a frame persuade more those who hold its value?")
    svg = charts.interval_plot(
        rows,
        title=title,
        xlabel=t("Extra effect per point of the frame's own value score"),
        description=t("Interaction of each frame with participants' score on the frame's value."),
        families=ctx.family_names,
        tones=_tones(ctx),
        decimal=get_decimal_symbol(t.locale),
    )
    return Figure(Markup(svg), t("{title} (exploratory; Feinberg & Willer 2015).", title=title))
