"""Assemble the self-contained HTML report from a results object.

The campaigner part (summary, figures with their key tables, backlash) comes first,
in the reader's language; the analyst appendix (:mod:`analysis.report.appendix`)
follows, in English. The page is the Jinja template ``templates/report.html.j2``.

Examples
--------
>>> results = {"meta": {"plan": {"title": "Ban the billboards", "outcomes": ["y"]}}}
>>> html = render_html(results)
>>> html.splitlines()[:2], "<h1>Ban the billboards</h1>" in html
(['<!DOCTYPE html>', '<html lang="en" dir="ltr">'], True)
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from analysis.report import effect_figures, sample_figures
from analysis.report.appendix import appendix_parts
from analysis.report.backlash_section import backlash_blocks
from analysis.report.caveats import reason
from analysis.report.charts import Figure
from analysis.report.context import ReportContext
from analysis.report.design_sections import interaction_figures
from analysis.report.i18n import when
from analysis.report.lasting import lasting_waves
from analysis.report.preregistration import plan_statement
from analysis.report.result_values import is_number, unique
from analysis.report.summary import campaigner_summary
from analysis.report.tables import table_html


def _environment() -> jinja2.Environment:
    loader = jinja2.PackageLoader("analysis.report", "templates")
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals["figure"] = _figure_html
    return env


def _figure_html(fig: Figure) -> Markup:
    return Markup("<figure>{}<figcaption>{}</figcaption></figure>").format(fig.svg, fig.caption)


def render_html(
    results: Mapping[str, Any], *, title: str | None = None, lang: str | None = None
) -> str:
    """Render `analysis.run` results as one self-contained HTML document.

    Parameters
    ----------
    results : mapping
        The object returned by `analysis.run` (or read back from its JSON).
    title : str, optional
        The page title; default the plan's ``title``, else one naming the study.
    lang : str, optional
        The language of the campaigner-facing parts (``analysis.report.i18n.LANGUAGES``);
        default the plan's ``language``, else English. The analyst appendix is in English.

    Returns
    -------
    str
        The HTML document; the interim report
        (:func:`~analysis.report.interim.render_interim_html`) when ``meta.interim`` is set.

    Notes
    -----
    All CSS is inline, plots are inline SVG, and there is no script and no
    reference to any other host, so the file works offline, by e-mail and in
    print. Missing parts of the results render as an explanation. The report computes
    no statistic: every number shown is a value from the results, rounded for display.

    Examples
    --------
    >>> html = render_html({"meta": {"plan": {"outcomes": ["y"]}}}, lang="ar")
    >>> html.splitlines()[1]
    '<html lang="ar" dir="rtl">'
    """
    if (results.get("meta") or {}).get("interim"):
        # Short of the planned sample: the anytime-valid section only (DECISIONS rule 3).
        from analysis.report.interim import render_interim_html

        return render_interim_html(results, title=title, lang=lang)
    ctx = ReportContext(results, lang)
    t = ctx.t
    meta = ctx.meta
    summary = campaigner_summary(ctx)
    css = resources.files("analysis.report").joinpath("report.css").read_text(encoding="utf-8")
    n = meta.get("n_after_exclusions")
    template = _environment().get_template("report.html.j2")
    return template.render(
        t=t,
        lang=ctx.lang,
        dir=t.direction,
        title=title or _default_title(ctx),
        # framelab's rehearsal reports (simulated participants only) say so at the top.
        rehearsal=t("REHEARSAL — simulated participants, not real data")
        if ctx.provenance.get("rehearsal")
        else None,
        css=Markup(css),
        created=when(meta.get("created_at"), t),
        n=t.n("{n} participant analysed.", "{n} participants analysed.", int(n))
        if is_number(n)
        else None,
        plan=plan_statement(ctx.preregistration, t),
        plan_preregistered=ctx.preregistration.preregistered,
        summary=summary.sections(),
        effect_blocks=list(zip(effect_figures.forest_figures(ctx), _key_tables(ctx), strict=True)),
        standardized=effect_figures.standardized_figure(ctx),
        distributions=sample_figures.distribution_figures(ctx),
        flow=sample_figures.flow_figure(ctx),
        subgroups=effect_figures.subgroup_figures(ctx),
        value_match=effect_figures.value_match_figure(ctx),
        interaction=interaction_figures(ctx),
        backlash=backlash_blocks(ctx),
        lasting=lasting_waves(ctx),
        appendix=appendix_parts(ctx),
    )


def _default_title(ctx: ReportContext) -> str:
    study = ctx.provenance.get("study")
    if ctx.plan.get("title"):
        return str(ctx.text(ctx.plan["title"]))
    return ctx.t("Results: {study}", study=study) if study else ctx.t("Framing experiment results")


def _key_tables(ctx: ReportContext) -> list[Markup]:
    """The campaigner-facing table under each forest plot, in display units."""
    tables = []
    for outcome in ctx.outcomes:
        effects = ctx.effects_for(outcome.name, ctx.primary_method)
        if not effects:
            continue
        t = ctx.t
        frame, why = t("Frame"), t("Why missing")
        rows = []
        for e in effects:
            reasons = unique(
                reason(ctx, w) for w in ctx.warning_records(outcome.name, e.get("arm"))
            )
            rows.append(
                {
                    frame: ctx.arm_label(e.get("arm")),
                    t("Change ({units})", units=outcome.units): outcome.show(e.get("estimate"))
                    if is_number(e.get("estimate"))
                    else "",
                    t("{level} interval", level=ctx.confidence): t(
                        "{low} to {high}",
                        low=outcome.show(e.get("conf_low")),
                        high=outcome.show(e.get("conf_high")),
                    )
                    if is_number(e.get("conf_low")) and is_number(e.get("conf_high"))
                    else "",
                    t("p (adjusted)"): t.number(ctx.decisive_p(e), 3)
                    if is_number(ctx.decisive_p(e))
                    else "",
                    t("Family"): ctx.family_names.get(str(e.get("family")), ""),
                    why: t("; ").join(reasons) if e.get("estimate") is None else "",
                }
            )
        if not any(r[why] for r in rows):
            for r in rows:
                del r[why]
        tables.append(
            table_html(
                rows,
                t("Effect of each frame on {outcome}", outcome=outcome.label),
                row_header=frame,
            )
        )
    return tables
