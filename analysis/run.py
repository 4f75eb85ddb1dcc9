"""``run(df, plan)``: the whole pre-registered analysis as one JSON-ready dict.

Data problems that are a property of the study (a tiny arm, an outcome without
variance, a model that cannot be fitted) become entries in ``warnings`` and the
affected estimates are omitted; only a malformed plan or a plan naming columns
or labels the data lacks raises ``ValueError``.

The per-outcome estimation lives in ``analysis._run_outcome``; this module loads the
plan and the data, applies exclusions and assembles the document.

Examples
--------
>>> import pandas as pd
>>> d = pd.DataFrame({"arm": ["c", "t"] * 10, "y": [1, 3, 2, 4, 1, 5, 2, 3, 1, 4] * 2})
>>> res = run(d, {"arm": "arm", "control": "c", "outcomes": ["y"]})
>>> res["meta"]["n_analysed"], [e["method"] for e in res["effects"]][:2]
(20, ['difference_in_means', 'randomization_inference'])
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import methods as methods_text
from analysis import summaries
from analysis._data import arm_labels, numeric_column, present_labels
from analysis._run_outcome import annotate_effects, estimate_outcome
from analysis.backlash import backlash_section
from analysis.collect import Collector
from analysis.data_files import read_data
from analysis.disclosure import protect_distributions, protect_flow, protect_sections
from analysis.factorial import factorial_sections
from analysis.manipulation_section import manipulation_sections
from analysis.monitoring import sequential_section
from analysis.optional import diagnostics_sections
from analysis.plan import Plan, check_columns, load_plan, plan_hash
from analysis.reliability import scale_reliability
from analysis.waves_section import waves_sections

__all__ = ["run"]

ANALYSIS_VERSION = "0.1.0"


def _software() -> dict[str, str]:
    import scipy
    import statsmodels

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
        "analysis": ANALYSIS_VERSION,
    }


def _analysed_before_lock(data: pd.DataFrame, analysed: np.ndarray) -> int | None:
    """Analysed participants who started before the plan was locked (``after_lock`` false).

    ``after_lock`` is computed by the server from exact times (framelab's export has
    it); without the column the results cannot say, and None is recorded.
    """
    if "after_lock" not in data.columns:
        return None
    flag = data["after_lock"]
    if flag.dtype == object or pd.api.types.is_string_dtype(flag):
        after = flag.astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
    else:
        after = flag.fillna(0).astype(float) != 0
    return int(np.sum(analysed & ~after.to_numpy()))


def _short_of_target(data: pd.DataFrame, plan: Plan) -> bool:
    """Without framelab's word: interim while fewer than ``monitoring.max_n`` are analysed."""
    if plan.monitoring is None or plan.monitoring.max_n is None:
        return False
    y = numeric_column(data, plan.primary_outcomes[0].name)
    return int(np.sum(~np.isnan(y))) < plan.monitoring.max_n


def run(
    df: pd.DataFrame | str | Path,
    plan: Mapping[str, Any] | Plan | str | Path,
    *,
    provenance: Mapping[str, Any] | None = None,
    interim: bool | None = None,
) -> dict[str, Any]:
    """Run the analysis plan on a tidy table and return the results document.

    Parameters
    ----------
    df : DataFrame or path to a CSV, Parquet, .sav or .dta file
        One row per participant (framelab's tidy export or any table with the
        plan's columns); a path is read with :func:`analysis.data_files.read_data`.
    plan : mapping, :class:`~analysis.plan.Plan`, YAML/JSON path or YAML text
        The analysis plan (``docs/analysis.md``).
    provenance : mapping, optional
        Passed through to ``meta.provenance`` (e.g. spec_hash, export time, seed).
    interim : bool, optional
        Whether the study is still short of its locked target (default:
        ``provenance["interim"]``, which framelab sets, else whether the plan's
        ``monitoring.max_n`` is above the participants analysed).
        An interim run (``meta.interim``) carries the anytime-valid ``sequential``
        section as its only inference: no fixed-sample effect, test or interval.

    Returns
    -------
    dict
        JSON-serialisable (NaN and infinities are ``None``); keys documented in
        ``docs/analysis.md``: meta, methods, effects, effect_sizes, omnibus,
        equivalence, descriptives, distributions, balance, balance_joint,
        sample_ratio, attrition, attrition_test, flow, heterogeneity,
        heterogeneity_joint, subgroups, value_match, warnings.

    Notes
    -----
    Each outcome is estimated by every method the plan calls for (difference in
    means, Lin, ANCOVA, change score, logit or ordinal logit, randomization
    inference, Mann-Whitney; effect sizes, omnibus and equivalence tests); the
    confirmatory family (primary outcomes x frames, the plan's primary method) gets
    ``p_adjusted`` by the plan's correction, every other family its own. The formula
    and reference of each method are in the results' ``methods`` section
    (:func:`analysis.methods.describe`).

    References
    ----------
    Gerber, A. S. & Green, D. P. (2012). Field Experiments: Design, Analysis, and
    Interpretation. W. W. Norton.
    Blair, G., Cooper, J., Coppock, A., Humphreys, M. & Sonnet, L. estimatr: Fast
    Estimators for Design-Based Inference (R package).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"arm": ["c", "t"] * 10, "y": [1, 3, 2, 4, 1, 5, 2, 3, 1, 4] * 2})
    >>> res = run(d, {"arm": "arm", "control": "c", "outcomes": [{"name": "y"}]})
    >>> res["effects"][0]["estimate"]
    2.4
    """
    plan = load_plan(plan)
    if isinstance(df, str | Path):
        df = read_data(df, plan)
    check_columns(plan, df)
    c = Collector()
    for key in plan.unknown_keys:
        c.warn("unknown_plan_key", f"plan key {key!r} is not used by analysis")
    data, rules, dropped = summaries.apply_exclusions(df, plan.exclude, plan.status)
    if interim is None:  # framelab says so in the provenance; else the plan's ceiling
        interim = (provenance or {}).get("interim")
    if interim is None:
        interim = _short_of_target(data, plan)
    for o in plan.outcomes:
        if interim:  # descriptives only: the sequential section is the inference
            c.add("descriptives", summaries.descriptives(data, o.name, plan.arm))
            c.add("distributions", summaries.distributions(data, o.name, plan.arm, o.type))
        else:
            estimate_outcome(data, plan, o, c)
    effects = annotate_effects(c.records("effects"), plan, c)
    first = plan.primary_outcomes[0].name
    y = numeric_column(data, first)
    labels = arm_labels(data, plan.arm)
    analysed = {a: int(np.sum((labels == a) & ~np.isnan(y))) for a in present_labels(labels)}
    before_lock = _analysed_before_lock(data, (~np.isnan(y)) & ~pd.isna(labels))
    # Manipulation checks and factorial contrasts (issue 19), follow-up waves (issue 21):
    # fixed-sample, final only.
    design = (
        {}
        if interim
        else {
            **manipulation_sections(data, plan, c.warn),
            **factorial_sections(data, plan, c.warn),
            **waves_sections(data, plan, c.warn),
        }
    )
    sections = {} if interim else diagnostics_sections(df, data, plan, c.warn)
    for column, items in ({} if interim else plan.scales).items():
        c.attempt(
            "reliability",
            "reliability",
            column,
            lambda column=column, items=items: scale_reliability(
                data, {column: items}, alpha=plan.alpha
            ),
        )
    sequential = (
        {"sequential": sequential_section(data, plan, plan.monitoring, complete=not interim)}
        if plan.monitoring is not None or interim
        else {}
    )
    fixed = (
        {}
        if interim
        else {
            "methods": methods_text.describe(plan),
            "effects": effects,
            "effect_sizes": c.records("effect_sizes"),
            "omnibus": c.records("omnibus"),
            "equivalence": c.records("equivalence"),
            "ordinal_thresholds": c.records("ordinal_thresholds"),
            # P(backlash) per arm and subgroup (final reports only: DECISIONS rule 3)
            "backlash": backlash_section(
                plan, effects, sections.get("subgroups", []), c.records("equivalence")
            ),
            "reliability": c.records("reliability"),
        }
    )
    return summaries.clean(
        {
            "meta": {
                "interim": bool(interim),
                "monitoring": plan.monitoring.as_dict() if plan.monitoring else None,
                "plan": plan.raw,
                "plan_hash": plan_hash(plan.raw),
                "n_input": len(df),
                "n_after_exclusions": len(data),
                # in the first primary outcome's estimates: assigned, answered, not excluded
                "n_analysed": sum(analysed.values()),
                "analysed_before_lock": before_lock,
                "exclusions": rules,
                "software": _software(),
                "ri_seed": plan.seed,
                "ri_draws": plan.ri_draws,
                "alpha": plan.alpha,
                "correction": plan.correction,
                "primary_method": plan.primary_method,
                "small_sample": plan.small_sample,
                "control": plan.control,
                "arms": present_labels(arm_labels(df, plan.arm)),
                "arm_labels": dict(plan.arm_labels),
                "outcomes": [o.__dict__ for o in plan.outcomes],
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "provenance": dict(provenance or {}),
            },
            **sequential,
            **fixed,
            "descriptives": c.records("descriptives"),
            # small counts hidden (plan.min_cell_size), as in subgroups (analysis.disclosure)
            "distributions": protect_distributions(c.records("distributions"), plan.min_cell_size),
            "flow": protect_flow(
                summaries.flow(df, plan.arm, plan.status, dropped, analysed), plan.min_cell_size
            ),
            **protect_sections(sections, plan.min_cell_size),
            **design,
            "warnings": c.warnings,
        }
    )
