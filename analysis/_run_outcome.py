"""Per-outcome estimation for :func:`analysis.run.run` (private: ``run`` is the entry point).

For each outcome: checks that make a data problem a warning rather than an error, every
estimator the plan calls for (with the blocks fallback and the covariate-free retry of
the likelihood models), and the confirmatory/exploratory families with ``p_adjusted``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis import summaries
from analysis._data import EFFECT_COLUMNS, arm_labels, numeric_column, present_labels
from analysis.collect import Collector
from analysis.effect_size import effect_sizes, equivalence, mann_whitney
from analysis.estimators import difference_in_means
from analysis.glm import logit
from analysis.inference import adjust_pvalues, randomization_inference
from analysis.ordinal import ordinal_model
from analysis.plan import Outcome, Plan
from analysis.regression import ancova, change_score, lin, omnibus
from analysis.separation import SeparationError

# Below this many analysed participants in an arm, results carry a small-sample warning.
SMALL_ARM = 20
# Work limit (units x draws) for randomization inference on outcomes with many distinct
# values (~0.1 us per cell); beyond it the RI p-value is skipped with a warning.
RI_MAX_CELLS = 1e8


def outcome_checks(df: pd.DataFrame, plan: Plan, o: Outcome, c: Collector) -> bool:
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


def analysable(df: pd.DataFrame, plan: Plan, o: Outcome) -> pd.DataFrame:
    """Rows whose arm has at least 2 outcome values: a tiny arm must not sink the others."""
    y = numeric_column(df, o.name, "outcome")
    labels = arm_labels(df, plan.arm)
    keep = np.zeros(len(df), dtype=bool)
    for a in present_labels(labels):
        in_arm = (labels == a) & ~np.isnan(y)
        if in_arm.sum() >= 2:
            keep |= in_arm
    return df.loc[keep]


def with_blocks(
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


def likelihood_model(
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


def estimate_outcome(df: pd.DataFrame, plan: Plan, o: Outcome, c: Collector) -> None:
    arm, control, alpha, name = plan.arm, plan.control, plan.alpha, o.name
    c.add("descriptives", summaries.descriptives(df, name, arm))
    c.add("distributions", summaries.distributions(df, name, arm, o.type))
    if not outcome_checks(df, plan, o, c):
        return
    d = analysable(df, plan, o)
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
            lambda: with_blocks(
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
        fits.append(("logit", lambda: likelihood_model("logit", d, plan, name, c)))
    if o.type == "ordinal":
        fits.append(("ordinal_logit", lambda: likelihood_model("ordinal_logit", d, plan, name, c)))
    fits.append(
        (
            "randomization_inference",
            lambda: with_blocks(
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


def annotate_effects(effects: list[dict], plan: Plan, c: Collector) -> list[dict]:
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
