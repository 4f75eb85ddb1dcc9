"""The analyst appendix of the final report: every section of the results as a table.

The appendix is in English (analysts share it across languages); a section the results
do not hold is said to be missing. Values are formatted by :mod:`analysis.report.tables`,
never recomputed.

Examples
--------
>>> from analysis.report.context import ReportContext
>>> results = {"effects": [{"outcome": "y", "arm": "care", "method": "difference_in_means",
...                         "estimate": 0.42, "p_value": 0.0006}]}
>>> part = appendix_parts(ReportContext(results))[1]
>>> part.heading, "0.0006" in part.body
('Effects: difference in means', True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from analysis.report.backlash_section import depth_parts
from analysis.report.context import ReportContext
from analysis.report.design_sections import design_parts
from analysis.report.i18n import translator
from analysis.report.lasting import waves_parts
from analysis.report.preregistration import plan_statement
from analysis.report.result_values import records
from analysis.report.tables import columns_of, fmt_cell, table_html

__all__ = ["Part", "appendix_parts"]

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


def _arm_labels(ctx: ReportContext) -> dict[str, dict[Any, str]]:
    arms = {r.get("arm") for key in ("effects", "descriptives") for r in records(ctx.results, key)}
    return {"arm": {a: ctx.arm_label(a) for a in arms if a is not None}}


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


def appendix_parts(ctx: ReportContext) -> list[Part]:
    """The analyst appendix, in English: one part per section of the results.

    Parameters
    ----------
    ctx : ReportContext
        The results and the plan's labels.

    Returns
    -------
    list of Part
        In page order: the plan, the effects of each method (randomization inference
        said missing when absent), the tables of ``APPENDIX_TABLES``, the design and
        depth parts, the methods with references, and the provenance.

    Notes
    -----
    A section the results lack is a part with ``body=None`` and a ``missing`` sentence,
    so the reader learns it is absent rather than finding nothing.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> parts = appendix_parts(ReportContext({"meta": {"plan_hash": "ab12"}}))
    >>> [p.id for p in parts][:3], parts[1].missing
    (['plan', 'effects', 'effects-ri'], 'The results contain no effect estimates.')
    """
    results = ctx.results
    labels = _arm_labels(ctx)
    meta = ctx.meta
    parts = [
        Part(
            "plan",
            "The locked analysis plan"
            if ctx.preregistration.preregistered
            else "The analysis plan (not pre-registered)",
            f"{plan_statement(ctx.preregistration, translator('en'))}{_lock_hashes(ctx)} SHA-256 of the "
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
    parts.extend(Part(*part) for part in waves_parts(ctx, labels))
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
