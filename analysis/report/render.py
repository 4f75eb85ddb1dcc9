"""Assemble the self-contained HTML report from a results object."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import jinja2
from babel.dates import format_date
from markupsafe import Markup

from analysis.report import figures
from analysis.report.backlash_section import backlash_blocks, depth_parts
from analysis.report.caveats import reason
from analysis.report.context import ReportContext, is_number, records, unique
from analysis.report.design_sections import design_parts, interaction_figures
from analysis.report.i18n import Translator, translator
from analysis.report.summary import campaigner_summary
from analysis.report.tables import columns_of, fmt_cell, table_html

EFFECT_COLUMNS = (
    "outcome", "arm", "family", "estimate", "std_error", "statistic", "df", "p_value",
    "p_adjusted", "conf_low", "conf_high", "n_control", "n_treatment", "outcome_type",
)  # fmt: skip

REFERENCES = (
    "Lin, W. (2013). Agnostic notes on regression adjustments to experimental data: "
    "reexamining Freedman's critique. Annals of Applied Statistics 7(1), 295–318.",
    "MacKinnon, J. G. & White, H. (1985). Some heteroskedasticity-consistent covariance "
    "matrix estimators with improved finite sample properties (HC2). Journal of "
    "Econometrics 29(3), 305–325.",
    "Holm, S. (1979). A simple sequentially rejective multiple test procedure. "
    "Scandinavian Journal of Statistics 6(2), 65–70.",
    "Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. Journal "
    "of the Royal Statistical Society B 57(1), 289–300.",
    "Gerber, A. S. & Green, D. P. (2012). Field Experiments: Design, Analysis, and "
    "Interpretation. Norton (blocked difference in means, randomization inference).",
    "McCullagh, P. (1980). Regression models for ordinal data. Journal of the Royal "
    "Statistical Society B 42(2), 109–142.",
    "Feinberg, M. & Willer, R. (2015). From gulf to bridge: when do moral arguments "
    "facilitate political influence? Personality and Social Psychology Bulletin 41(12).",
)

# (results key, heading, what the table shows)
APPENDIX_TABLES = (
    ("effect_sizes", "Effect sizes", "Cohen's d (pooled SD) and Hedges' g with their interval."),
    ("omnibus", "Omnibus tests", "Joint HC2 Wald test that every frame equals control, per outcome."),
    ("equivalence", "Equivalence tests (TOST)", "Two one-sided tests against the plan's equivalence bound: the basis of any 'no effect larger than X' statement."),
    ("descriptives", "Descriptive statistics", "Outcome summaries per arm, after exclusions."),
    ("distributions", "Answer distributions", "Counts and shares of each answer (or bin) per arm."),
    ("balance", "Covariate balance", "Means, SDs and standardized differences of pre-treatment covariates."),
    ("balance_joint", "Joint balance tests", "HC2 Wald test that covariates jointly predict assignment to each frame vs control."),
    ("sample_ratio", "Sample-ratio check", "Chi-square test of the arm counts against the design's allocation weights."),
    ("attrition", "Attrition", "Assigned, completed and drop-out rate per arm."),
    ("attrition_test", "Differential attrition", "Tests that drop-out is the same in every arm."),
    ("flow", "Participant flow", "Counts at each stage, overall and per arm."),
    ("heterogeneity", "Heterogeneity: interactions", "Frame × moderator interaction terms (HC2)."),
    ("heterogeneity_joint", "Heterogeneity: joint tests", "HC2 Wald test that all frame × moderator interactions are zero."),
    ("subgroups", "Subgroup effects", "Difference in means within each subgroup; small cells are suppressed to protect participants."),
    ("value_match", "Value match", "Frame × own-value-score interactions (moral reframing; exploratory)."),
    ("warnings", "Warnings", "Data problems found by the analysis and what was omitted because of them."),
)  # fmt: skip


@dataclass(frozen=True)
class Part:
    """One appendix section: either a body or the reason it is missing."""

    id: str  # prefixed "a-" in the page, so it never collides with a main section id
    heading: str
    intro: str
    body: Markup | None
    missing: str = ""


def _environment() -> jinja2.Environment:
    loader = jinja2.PackageLoader("analysis.report", "templates")
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals["figure"] = _figure_html
    return env


def _figure_html(fig: figures.Figure) -> Markup:
    return Markup("<figure>{}<figcaption>{}</figcaption></figure>").format(fig.svg, fig.caption)


def render_html(
    results: Mapping[str, Any], *, title: str | None = None, lang: str | None = None
) -> str:
    """Render `analysis.run` results as one self-contained HTML document.

    All CSS is inline, plots are inline SVG, and there is no script and no
    reference to any other host, so the file works offline, by e-mail and in
    print. Missing parts of the results render as an explanation. ``lang``
    (default: the plan's ``language``, else English) is the language of the
    campaigner-facing parts; the analyst appendix is in English.
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
        created=_when(meta.get("created_at"), t),
        n=t.n("{n} participant analysed.", "{n} participants analysed.", int(n))
        if is_number(n)
        else None,
        plan=_plan_statement(ctx),
        plan_preregistered=ctx.preregistration.preregistered,
        summary=summary.sections(),
        effect_blocks=list(zip(figures.forest_figures(ctx), _key_tables(ctx), strict=True)),
        standardized=figures.standardized_figure(ctx),
        distributions=figures.distribution_figures(ctx),
        flow=figures.flow_figure(ctx),
        subgroups=figures.subgroup_figures(ctx),
        value_match=figures.value_match_figure(ctx),
        interaction=interaction_figures(ctx),
        backlash=backlash_blocks(ctx),
        appendix=_appendix(ctx),
    )


def _default_title(ctx: ReportContext) -> str:
    study = ctx.provenance.get("study")
    if ctx.plan.get("title"):
        return str(ctx.text(ctx.plan["title"]))
    return ctx.t("Results: {study}", study=study) if study else ctx.t("Framing experiment results")


def _lock_hashes(ctx: ReportContext) -> str:
    """The lock's plan hash next to the analysed study's, hashed the same way (English)."""
    lock = ctx.provenance.get("lock") or {}
    if not lock.get("plan_hash") or not lock.get("study_plan_hash"):
        return ""
    same = "the same plan" if lock["plan_hash"] == lock["study_plan_hash"] else "a different plan"
    return (
        f" Plan hash locked at launch: {lock['plan_hash']}; plan hash of the study analysed "
        f"here: {lock['study_plan_hash']} ({same}; both are the SHA-256 of the study's "
        "analysis section)."
    )


def _plan_statement(ctx: ReportContext) -> str:
    """Whether the analysed plan was pre-registered, with the lock's hash and time, or why not."""
    t = ctx.t
    reg = ctx.preregistration
    used = (reg.used_hash or "")[:12] or t("not recorded")
    if reg.preregistered:
        return t(
            "Pre-registered: the analysis plan was locked on {time} (plan hash {hash}) before "
            "any of the analysed participants took part.",
            time=_when(reg.locked_at, t) or str(reg.locked_at),
            hash=(reg.lock_hash or "")[:12],
        )
    if not reg.locked:
        return t(
            "Not pre-registered: this analysis plan (hash {hash}) was not locked before the "
            "data were collected.",
            hash=used,
        )
    if not reg.matches:
        return t(
            "Not pre-registered: the plan analysed here (hash {hash}) is not the locked plan "
            "(hash {lock}).",
            hash=used,
            lock=(reg.lock_hash or "")[:12],
        )
    if reg.locked_at is None:
        return t(
            "Not pre-registered: the plan was locked (plan hash {lock}), but the time of the "
            "lock was not recorded, so it cannot be shown to precede the data.",
            lock=(reg.lock_hash or "")[:12],
        )
    return t.n(
        "Not pre-registered: the plan was locked on {time} (plan hash {lock}), but {n} of the "
        "analysed participants took part before that.",
        "Not pre-registered: the plan was locked on {time} (plan hash {lock}), but {n} of the "
        "analysed participants took part before that.",
        reg.before_lock or 0,
        time=_when(reg.locked_at, t) or str(reg.locked_at),
        lock=(reg.lock_hash or "")[:12],
    )


def _when(stamp: Any, t: Translator | None = None) -> str | None:
    """'November 25, 2026, 20:21 UTC' (in the report's language) from an ISO time."""
    t = t or translator("en")
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    day = format_date(moment.date(), format="long", locale=t.locale)
    return t("{date}, {time} UTC", date=day, time=f"{moment:%H:%M}")


def _arm_labels(ctx: ReportContext) -> dict[str, dict[Any, str]]:
    arms = {r.get("arm") for key in ("effects", "descriptives") for r in records(ctx.results, key)}
    return {"arm": {a: ctx.arm_label(a) for a in arms if a is not None}}


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


def _appendix(ctx: ReportContext) -> list[Part]:
    results = ctx.results
    labels = _arm_labels(ctx)
    meta = ctx.meta
    parts = [
        Part(
            "plan",
            "The locked analysis plan"
            if ctx.preregistration.preregistered
            else "The analysis plan (not pre-registered)",
            f"{_plan_statement(ctx.with_language('en'))}{_lock_hashes(ctx)} SHA-256 of the "
            f"canonical analysis plan used (results meta.plan_hash): "
            f"{meta.get('plan_hash') or 'not recorded'}.",
            Markup("<pre><code>{}</code></pre>").format(json.dumps(ctx.plan, indent=2, default=str))
            if ctx.plan
            else None,
            "The results do not include the plan.",
        )
    ]
    effects = records(results, "effects")
    methods = list(dict.fromkeys(e.get("method") for e in effects))
    for method in methods:
        rows = [e for e in effects if e.get("method") == method]
        is_ri = method == "randomization_inference"
        intro = (
            f"p-values from {meta.get('ri_draws', 'the recorded number of')} re-randomizations "
            f"respecting the blocks, seed {meta.get('ri_seed', 'not recorded')}."
            if is_ri
            else "One row per outcome × frame compared with control; 'family' says whether the "
            "row is confirmatory or exploratory."
        )
        parts.append(
            Part(
                f"effects-{method}",
                f"Effects: {str(method).replace('_', ' ')}"
                + (" (randomization inference)" if is_ri else ""),
                intro,
                table_html(
                    rows,
                    f"Effects estimated by {method}",
                    columns=columns_of(rows, EFFECT_COLUMNS),
                    label_values=labels,
                ),
            )
        )
    if not effects:
        parts.append(
            Part("effects", "Effects", "", None, "The results contain no effect estimates.")
        )
    if "randomization_inference" not in methods:
        parts.append(
            Part(
                "effects-ri",
                "Randomization inference",
                "",
                None,
                "Randomization-inference p-values are not available in these results.",
            )
        )
    for key, heading, intro in APPENDIX_TABLES:
        rows = records(results, key)
        body = (
            table_html(rows, heading, columns=columns_of(rows), label_values=labels)
            if rows
            else None
        )
        missing = (
            "No warnings: every planned estimate could be computed."
            if key == "warnings"
            else f"Not available in these results (no '{key}' records)."
        )
        parts.append(Part(key, heading, intro, body, missing))
    parts.extend(Part(*part) for part in design_parts(ctx, labels))
    parts.extend(Part(*part) for part in depth_parts(ctx, labels))
    parts.append(_methods_part(ctx))
    parts.append(_provenance_part(meta))
    return parts


def _methods_part(ctx: ReportContext) -> Part:
    rows = records(ctx.results, "methods")
    table = (
        table_html(rows, "Methods, formulas and references", columns=columns_of(rows), wrap=True)
        if rows
        else Markup("")
    )
    refs = Markup("<h4>References</h4><ul>{}</ul>").format(
        Markup("").join(Markup("<li>{}</li>").format(r) for r in REFERENCES)
    )
    return Part(
        "methods",
        "Methods",
        "How each number was computed (HC2 standard errors throughout; corrections as planned).",
        table + refs,
    )


def _provenance_part(meta: Mapping[str, Any]) -> Part:
    shown = {k: v for k, v in meta.items() if k != "plan"}
    if not shown:
        return Part(
            "provenance", "Software, seed and provenance", "", None, "No metadata recorded."
        )
    return Part(
        "provenance",
        "Software, seed and provenance",
        "Versions, the random seed and where the data came from.",
        _definition_list(shown),
    )


def _definition_list(mapping: Mapping[str, Any]) -> Markup:
    items = []
    for key, value in mapping.items():
        if isinstance(value, Mapping) and value:
            shown = _definition_list(value)
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            shown = table_html(value, str(key).replace("_", " ").capitalize(), wrap=True)
        else:
            shown = Markup("{}").format(fmt_cell(str(key), value))
        items.append(Markup("<dt>{}</dt><dd>{}</dd>").format(str(key).replace("_", " "), shown))
    return Markup('<dl class="kv">{}</dl>').format(Markup("").join(items))
