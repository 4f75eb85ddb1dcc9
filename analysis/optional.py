"""Wiring of the diagnostics and heterogeneity sections into ``run``.

The functions themselves live in ``analysis.diagnostics``, ``analysis.attrition``,
``analysis.heterogeneity``, ``analysis.interactions`` and ``analysis.value_matching``;
this module only decides which data each one sees and turns their failures on study
data into warnings.

Examples
--------
>>> import pandas as pd
>>> from analysis.plan import load_plan
>>> d = pd.DataFrame({"arm": ["c", "t"] * 10, "y": range(20)})
>>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"]})
>>> out = diagnostics_sections(d, d, plan, print)
>>> sorted(k for k, v in out.items() if v)
['sample_ratio']
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import TypeVar

import numpy as np
import pandas as pd

from analysis import summaries
from analysis._data import arm_labels, present_labels
from analysis.plan import Plan

SECTIONS = (
    "balance", "balance_joint", "sample_ratio", "attrition", "attrition_test",
    "heterogeneity", "heterogeneity_joint", "subgroups", "value_match",
)  # fmt: skip

Warn = Callable[..., None]
T = TypeVar("T")


def _module(name: str, warn: Warn) -> ModuleType | None:
    try:
        return importlib.import_module(f"analysis.{name}")
    except ImportError as exc:
        warn("not_available", f"analysis.{name} could not be imported: {exc}")
        return None


def _call(
    out: dict[str, list],
    key: str,
    warn: Warn,
    fn: Callable[[], pd.DataFrame],
    outcome: str | None = None,
) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out[key].extend(summaries.records(fn()))
    except (ValueError, ArithmeticError, RuntimeWarning, np.linalg.LinAlgError) as exc:
        warn("section_failed", f"{key} not computed: {exc}", outcome, None, key)


def _once(fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` evaluated on the first call only; later calls return (or raise) the same.

    Lets two sections share one model fit while each still turns a failure into its
    own warning: the fit's exception is raised again for the second section.
    """
    cache: list = []

    def call() -> T:
        if not cache:
            try:
                cache.append((True, fn()))
            except Exception as exc:
                cache.append((False, exc))
        ok, value = cache[0]
        if not ok:
            raise value
        return value

    return call


def diagnostics_sections(
    full: pd.DataFrame, data: pd.DataFrame, plan: Plan, warn: Warn
) -> dict[str, list]:
    """Balance, sample ratio and attrition, then heterogeneity and value match.

    Parameters
    ----------
    full : DataFrame
        The input table (for the sample-ratio and attrition checks, which concern
        everyone assigned).
    data : DataFrame
        The table after exclusions (balance and heterogeneity use the analysed sample).
    plan : Plan
        The analysis plan: covariates, status, weights, moderators, value_match.
    warn : callable
        The collector's ``warn(code, message, outcome, arm, method)``; a section that
        fails on study data becomes a ``section_failed`` warning.

    Returns
    -------
    dict
        Section name -> list of records, for every name in ``SECTIONS`` (empty when
        the plan does not ask for it): ``balance``, ``balance_joint``, ``sample_ratio``,
        ``attrition``, ``attrition_test``, ``heterogeneity``, ``heterogeneity_joint``,
        ``subgroups``, ``value_match``; each record's columns and units are those of
        the function that computes it.

    Notes
    -----
    One HC2 interaction fit per outcome and moderator serves both ``heterogeneity``
    and ``heterogeneity_joint``.

    References
    ----------
    See :mod:`analysis.diagnostics`, :mod:`analysis.attrition`,
    :mod:`analysis.heterogeneity`, :mod:`analysis.interactions` and
    :mod:`analysis.value_matching` for each section's method and references.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.plan import load_plan
    >>> d = pd.DataFrame({"arm": ["c", "t"] * 10, "y": range(20), "age": range(20)})
    >>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"], "covariates": ["age"]})
    >>> out = diagnostics_sections(d, d, plan, print)
    >>> [r["covariate"] for r in out["balance"]], len(out["sample_ratio"])
    (['age'], 2)
    """
    out: dict[str, list] = {key: [] for key in SECTIONS}
    arm, control = plan.arm, plan.control
    diag = _module("diagnostics", warn)
    if diag is not None:
        if plan.covariates:
            _call(
                out,
                "balance",
                warn,
                lambda: diag.balance(data, arm, control, plan.covariates, levels=plan.levels),
            )
            _call(
                out,
                "balance_joint",
                warn,
                lambda: diag.balance_joint(data, arm, control, plan.covariates, levels=plan.levels),
            )
        labels = arm_labels(full, arm)
        arms = present_labels(labels)
        counts = {a: int(np.sum(labels == a)) for a in arms}
        weights = plan.weights or dict.fromkeys(arms, 1.0)
        _call(out, "sample_ratio", warn, lambda: diag.sample_ratio(counts, weights))
        attr = _module("attrition", warn)
        if plan.status and attr is not None:
            _call(out, "attrition", warn, lambda: attr.attrition(full, arm, plan.status))
            _call(
                out,
                "attrition_test",
                warn,
                lambda: attr.attrition_test(full, arm, plan.status, control, alpha=plan.alpha),
            )
    het = _module("heterogeneity", warn)
    interactions = _module("interactions", warn)
    matching = _module("value_matching", warn)
    if het is None or interactions is None or matching is None:
        return out
    for o in plan.outcomes:
        for m in plan.moderators:
            _call(
                out,
                "subgroups",
                warn,
                lambda o=o, m=m: het.subgroup_effects(
                    data,
                    o.name,
                    arm,
                    control,
                    m,
                    min_cell_size=plan.min_cell_size,
                    alpha=plan.alpha,
                    levels=plan.levels,
                    cut_points=plan.cut_points.get(m),
                ),
                o.name,
            )
            # One HC2 fit serves both the interaction effects and their joint test.
            model = _once(
                lambda o=o, m=m: interactions.interaction_model(
                    data, o.name, arm, control, m, levels=plan.levels
                )
            )
            _call(
                out,
                "heterogeneity",
                warn,
                lambda model=model: model().effects(plan.alpha, plan.small_sample),
                o.name,
            )
            _call(
                out,
                "heterogeneity_joint",
                warn,
                lambda model=model: model().joint_test(),
                o.name,
            )
        if plan.value_match:
            _call(
                out,
                "value_match",
                warn,
                lambda o=o: matching.value_match(
                    data, o.name, arm, control, plan.value_match, alpha=plan.alpha
                ),
                o.name,
            )
    return out
