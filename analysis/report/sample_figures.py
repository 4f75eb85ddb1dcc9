"""The report's figures of who took part and what they answered: flow and answer shares.

Examples
--------
>>> from analysis.report.context import ReportContext
>>> flow = [{"stage": "started", "arm": None, "n": 1200},
...         {"stage": "completed", "arm": "care", "n": 498}]
>>> figure = flow_figure(ReportContext({"flow": flow}))
>>> figure.caption, "started: 1,200" in figure.svg
('Participant flow (CONSORT style): how many people reached each stage.', True)
"""

from __future__ import annotations

from markupsafe import Markup

from analysis.report import charts
from analysis.report.charts import Figure
from analysis.report.context import Outcome, ReportContext
from analysis.report.result_values import is_number, records

__all__ = ["distribution_figures", "flow_figure"]

OVERALL_ARMS = (None, "", "all", "overall", "total")


def _value_label(value: object) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.3g}"
    return str(value)


def distribution_figures(ctx: ReportContext) -> list[Figure]:
    """Per outcome, the share of each answer (or bin) within each arm.

    Parameters
    ----------
    ctx : ReportContext
        The results (``distributions``) and the plan's labels.

    Returns
    -------
    list of Figure
        One per outcome with distribution records, one panel per arm (control first).

    Notes
    -----
    Yes/no answers are labelled "yes" and "no" in the report's language; the same shares
    are in the appendix's distributions table.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}]}
    >>> rows = [{"outcome": "y", "arm": arm, "value": value, "share": share}
    ...         for arm in ("care", "control") for value, share in ((1, 0.4), (7, 0.6))]
    >>> [figure] = distribution_figures(ReportContext({"meta": {"plan": plan}, "distributions": rows}))
    >>> figure.caption
    'Answers on support, by arm. Bar height is the share of the arm.'
    """
    t = ctx.t
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
            values = [_answer_label(ctx, outcome, r.get("value", r.get("bin"))) for r in cells]
            panels.append((ctx.arm_label(arm), values, [float(r["share"]) for r in cells]))
        title = t("Answers on {outcome}, by arm", outcome=outcome.label)
        svg = charts.distribution_plot(
            panels,
            title=title,
            xlabel=outcome.label,
            ylabel=t("% of the arm"),
            description=t(
                "Share of participants giving each answer, one panel per arm; the same numbers "
                "are in the distributions table of the appendix."
            ),
        )
        figures.append(
            Figure(Markup(svg), t("{title}. Bar height is the share of the arm.", title=title))
        )
    return figures


def _answer_label(ctx: ReportContext, outcome: Outcome, value: object) -> str:
    if outcome.type == "binary" and is_number(value):
        return ctx.t("yes") if float(value) == 1 else ctx.t("no")
    return _value_label(value)


def flow_figure(ctx: ReportContext) -> Figure | None:
    """CONSORT-style participant flow from the `flow` records.

    Parameters
    ----------
    ctx : ReportContext
        The results (``flow``) and the plan's arm labels.

    Returns
    -------
    Figure or None
        None when the results hold no flow counts.

    Notes
    -----
    Rows without an arm (or with ``all``, ``overall``, ``total``) are the shared stages;
    the others make one column per arm, the control first. Stage codes are named in the
    report's language.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> flow = [{"stage": "screened_out", "arm": None, "n": 40}]
    >>> "screened out: 40" in flow_figure(ReportContext({"flow": flow})).svg
    True
    >>> flow_figure(ReportContext({})) is None
    True
    """
    t = ctx.t
    rows = [r for r in records(ctx.results, "flow") if is_number(r.get("n"))]
    if not rows:
        return None
    stages = {
        "started": t("started"),
        "screened_out": t("screened out"),
        "assigned": t("assigned"),
        "completed": t("completed"),
        "withdrawn": t("withdrawn"),
        "excluded": t("excluded"),
        "analysed": t("analysed"),
    }

    def stage(r: dict) -> str:
        key = str(r.get("stage"))
        return stages.get(key, key.replace("_", " "))

    overall = [(stage(r), int(r["n"])) for r in rows if r.get("arm") in OVERALL_ARMS]
    arm_rows = [r for r in rows if r.get("arm") not in OVERALL_ARMS]
    arm_rows.sort(key=lambda r: r.get("arm") != ctx.control)  # control first, stable otherwise
    per_arm: dict[str, list[tuple[str, int]]] = {}
    for r in arm_rows:
        per_arm.setdefault(ctx.arm_label(r["arm"]), []).append((stage(r), int(r["n"])))
    title = t("Participant flow")
    desc = t("; ").join(f"{s}: {t.integer(n)}" for s, n in overall)
    desc += ". " + t("; ").join(
        f"{arm}: " + t(", ").join(f"{s} {t.integer(n)}" for s, n in st)
        for arm, st in per_arm.items()
    )
    svg = charts.flow_plot(
        overall, list(per_arm.items()), title=title, description=desc, number=t.integer
    )
    return Figure(
        Markup(svg),
        t("Participant flow (CONSORT style): how many people reached each stage."),
    )
