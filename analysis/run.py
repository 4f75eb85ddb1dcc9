"""``run(df, plan)``: the whole pre-registered analysis as one JSON-ready dict.

Data problems that are a property of the study (a tiny arm, an outcome without
variance, a model that cannot be fitted) become entries in ``warnings`` and the
affected estimates are omitted; only a malformed plan or a plan naming columns
or labels the data lacks raises ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import methods as methods_text
from analysis import summaries
from analysis._data import EFFECT_COLUMNS, arm_labels, numeric_column, present_labels
from analysis.backlash import backlash_section
from analysis.collect import Collector
from analysis.data_files import read_data
from analysis.disclosure import protect_distributions, protect_flow, protect_sections
from analysis.effect_size import effect_sizes, equivalence, mann_whitney
from analysis.estimators import difference_in_means
from analysis.factorial import factorial_sections
from analysis.glm import logit
from analysis.inference import adjust_pvalues, randomization_inference
from analysis.manipulation import manipulation_sections
from analysis.optional import diagnostics_sections
from analysis.ordinal import ordinal_model
from analysis.plan import Outcome, Plan, check_columns, load_plan, plan_hash
from analysis.regression import ancova, change_score, lin, omnibus
from analysis.reliability import scale_reliability
from analysis.separation import SeparationError
from analysis.sequential import sequential_section

__all__ = ["run"]

ANALYSIS_VERSION = "0.1.0"
# Below this many analysed participants in an arm, results carry a small-sample warning.
SMALL_ARM = 20
# Work limit (units x draws) for randomization inference on outcomes with many distinct
# values (~0.1 us per cell); beyond it the RI p-value is skipped with a warning.
RI_MAX_CELLS = 1e8


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


def _outcome_checks(df: pd.DataFrame, plan: Plan, o: Outcome, c: Collector) -> bool:
    """Return False (with a warning) when the outcome cannot be analysed at all."""
    y = numeric_column(df, o.name, "outcome")
    if o.type == "binary" and not np.all(np.isin(y[~np.isnan(y)], [0.0, 1.0])):
        raise ValueError(f"outcome {o.name!r}: type binary expects 0/1 values")
    labels = arm_labels(df, plan.arm)
    ok = ~np.isnan(y)
    for a in present_labels(labels):
        n = int(np.sum(ok & (labels == a)))
        if n < 2:
            c.warn(
                "empty_arm" if n == 0 else "too_small_arm",
                f"arm {a!r} has {n} participant(s) with a value of {o.name!r}; "
                "effects need at least 2 per arm",
                o.name,
                a,
            )
        elif n < SMALL_ARM:
            c.warn(
                "small_arm",
                f"arm {a!r} has only {n} participants with {o.name!r}; estimates are imprecise",
                o.name,
                a,
            )
    v = y[ok]
    if len(v) and np.all(v == v[0]):
        c.warn(
            "no_variance",
            f"every participant has the value {v[0]:g} on {o.name!r}; no effect can be estimated",
            o.name,
        )
        return False
    return True


def _analysable(df: pd.DataFrame, plan: Plan, o: Outcome) -> pd.DataFrame:
    """Rows whose arm has at least 2 outcome values: a tiny arm must not sink the others."""
    y = numeric_column(df, o.name, "outcome")
    labels = arm_labels(df, plan.arm)
    keep = np.zeros(len(df), dtype=bool)
    for a in present_labels(labels):
        in_arm = (labels == a) & ~np.isnan(y)
        if in_arm.sum() >= 2:
            keep |= in_arm
    return df.loc[keep]


def _with_blocks(
    fn: Callable[[pd.DataFrame, str | None], pd.DataFrame],
    d: pd.DataFrame,
    plan: Plan,
    outcome: str,
    method: str,
    c: Collector,
) -> pd.DataFrame:
    """Run a block-aware estimator; arms whose blocks are unusable fall back to no blocks.

    With attrition a small block can lose every participant of one arm; estimatr then
    refuses the blocked estimator. Rather than lose the arm's (often confirmatory)
    estimate, that arm is estimated without blocks and a ``blocks_ignored`` warning says
    why; the record's ``design`` is ``unblocked_fallback``.
    """
    if not plan.blocks:
        return fn(d, None)
    try:
        return fn(d, plan.blocks)
    except ValueError as exc:
        if "blocks" not in str(exc):
            raise
    labels = arm_labels(d, plan.arm)
    frames = []
    for a in present_labels(labels):
        if a == plan.control:
            continue
        sub = d[(labels == a) | (labels == plan.control)]
        try:
            frames.append(fn(sub, plan.blocks))
        except ValueError as exc:
            if "blocks" not in str(exc):
                raise
            c.warn("blocks_ignored", f"{method} without blocks: {exc}", outcome, a, method)
            frames.append(fn(sub, None).assign(design="unblocked_fallback"))
    return pd.concat(frames, ignore_index=True)


def _likelihood_model(
    method: str, d: pd.DataFrame, plan: Plan, name: str, c: Collector
) -> pd.DataFrame:
    """Logit or proportional-odds model with the plan's covariates (thresholds collected).

    When the covariates alone separate the answers (no finite estimate with them), the
    arm-only model is reported instead, with a ``covariates_dropped`` warning; an arm
    that is separated by itself still fails as before.
    """
    covariates = plan.covariates

    def fit(covs: tuple[str, ...]) -> pd.DataFrame:
        if method == "logit":
            return logit(
                d, name, plan.arm, plan.control, covariates=covs, alpha=plan.alpha,
                levels=plan.levels,
            )  # fmt: skip
        model = ordinal_model(d, name, plan.arm, plan.control, covariates=covs, levels=plan.levels)
        effects = model.effects(plan.alpha)
        c.add("ordinal_thresholds", model.thresholds(plan.alpha))
        return effects

    try:
        return fit(covariates)
    except SeparationError as exc:
        if not covariates or exc.arm is not None or exc.unbounded:
            raise
        c.warn(
            "covariates_dropped",
            f"{method} without covariates: {exc}",
            name,
            None,
            method,
        )
        return fit(())


def _estimate_outcome(df: pd.DataFrame, plan: Plan, o: Outcome, c: Collector) -> None:
    arm, control, alpha, name = plan.arm, plan.control, plan.alpha, o.name
    c.add("descriptives", summaries.descriptives(df, name, arm))
    c.add("distributions", summaries.distributions(df, name, arm, o.type))
    if not _outcome_checks(df, plan, o, c):
        return
    d = _analysable(df, plan, o)
    labels = set(present_labels(arm_labels(d, arm)))
    if control not in labels or len(labels) < 2:
        c.warn(
            "too_few",
            f"too few participants in the control or every arm for {name!r}",
            name,
        )
        return
    fits: list[tuple[str, Callable[[], pd.DataFrame]]] = [
        (
            "difference_in_means",
            lambda: _with_blocks(
                lambda sub, blocks: difference_in_means(
                    sub, name, arm, control, blocks=blocks, alpha=alpha
                ),
                d,
                plan,
                name,
                "difference_in_means",
                c,
            ),
        ),
    ]
    if plan.covariates:
        fits.append(
            (
                "lin",
                lambda: lin(
                    d,
                    name,
                    arm,
                    control,
                    plan.covariates,
                    alpha=alpha,
                    levels=plan.levels,
                    small_sample=plan.small_sample,
                ),
            )
        )
    if o.baseline:
        small = plan.small_sample
        fits.append(
            (
                "ancova",
                lambda: ancova(d, name, arm, control, o.baseline, alpha=alpha, small_sample=small),
            )
        )
        fits.append(
            (
                "change_score",
                lambda: change_score(
                    d, name, arm, control, o.baseline, alpha=alpha, small_sample=small
                ),
            )
        )
    if o.type == "binary":
        fits.append(("logit", lambda: _likelihood_model("logit", d, plan, name, c)))
    if o.type == "ordinal":
        fits.append(("ordinal_logit", lambda: _likelihood_model("ordinal_logit", d, plan, name, c)))
    fits.append(
        (
            "randomization_inference",
            lambda: _with_blocks(
                lambda sub, blocks: randomization_inference(
                    sub,
                    name,
                    arm,
                    control,
                    blocks=blocks,
                    draws=plan.ri_draws,
                    seed=plan.seed,
                    alpha=alpha,
                    max_cells=RI_MAX_CELLS,
                ),
                d,
                plan,
                name,
                "randomization_inference",
                c,
            ),
        )
    )
    if o.type != "binary":
        fits.append(("mann_whitney", lambda: mann_whitney(d, name, arm, control, alpha=alpha)))
    for method, fn in fits:
        c.attempt("effects", method, name, fn)
    c.attempt(
        "effect_sizes",
        "effect_sizes",
        name,
        lambda: effect_sizes(d, name, arm, control, alpha=alpha),
    )
    c.attempt("omnibus", "omnibus", name, lambda: omnibus(d, name, arm, control, alpha=alpha))
    c.attempt(
        "equivalence",
        "equivalence",
        name,
        lambda: equivalence(
            d,
            name,
            arm,
            control,
            bound=plan.equivalence_bound,
            bound_units=plan.equivalence_units,
            alpha=alpha,
        ),
    )


def _annotate_effects(effects: list[dict], plan: Plan, c: Collector) -> list[dict]:
    """Add family, outcome type, labels and ``p_adjusted`` (see ``methods`` for the families).

    If the plan's primary method could not be estimated for a primary outcome (e.g.
    Lin with more covariates than a small study supports), the difference in means
    takes its place in the confirmatory family and a warning says so.
    """
    by_name = {o.name: o for o in plan.outcomes}
    primary_method = dict.fromkeys((o.name for o in plan.primary_outcomes), plan.primary_method)
    for name in primary_method:
        methods = {e["method"] for e in effects if e["outcome"] == name}
        if plan.primary_method not in methods and "difference_in_means" in methods:
            primary_method[name] = "difference_in_means"
            c.warn(
                "primary_method_fallback",
                f"{plan.primary_method} could not be estimated for {name!r}; the confirmatory "
                "family uses the difference in means instead",
                name,
                None,
                plan.primary_method,
            )
    families: dict[tuple[str, str, bool], list[int]] = {}
    for i, e in enumerate(effects):
        o = by_name[e["outcome"]]
        confirmatory = o.primary and e["method"] == primary_method.get(o.name)
        e["family"] = "confirmatory" if confirmatory else "exploratory"
        e["primary"] = o.primary
        e["outcome_type"] = o.type
        e["outcome_label"] = plan.text(o.label, o.name)
        e["units"] = o.units
        e["arm_label"] = plan.text(plan.arm_labels.get(e["arm"]), e["arm"])
        e["alpha"] = plan.alpha
        families.setdefault((e["family"], e["method"], o.primary), []).append(i)
    for idx in families.values():
        p = [effects[i]["p_value"] for i in idx]
        adj = adjust_pvalues([np.nan if v is None else v for v in p], plan.correction)
        for i, q in zip(idx, adj, strict=True):
            effects[i]["p_adjusted"] = summaries.clean(q)
    at = EFFECT_COLUMNS.index("p_value") + 1
    order = [*EFFECT_COLUMNS[:at], "p_adjusted", *EFFECT_COLUMNS[at:]]
    return [{**{k: e.get(k) for k in order}, **e} for e in effects]


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
            _estimate_outcome(data, plan, o, c)
    effects = _annotate_effects(c.records("effects"), plan, c)
    first = plan.primary_outcomes[0].name
    y = numeric_column(data, first)
    labels = arm_labels(data, plan.arm)
    analysed = {a: int(np.sum((labels == a) & ~np.isnan(y))) for a in present_labels(labels)}
    before_lock = _analysed_before_lock(data, (~np.isnan(y)) & ~pd.isna(labels))
    # Manipulation checks and factorial contrasts (issue 19): fixed-sample, final only.
    design = (
        {}
        if interim
        else {**manipulation_sections(data, plan, c.warn), **factorial_sections(data, plan, c.warn)}
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
