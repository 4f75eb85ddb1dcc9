"""A results object written by hand in the documented shape of `analysis.run` output.

Used for the cases that simulated data cannot reach cheaply (a missing
section, an estimate that could not be computed) and to keep the renderer's
tests independent of the analysis package's internals.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.factories import example_plan

# The plan these results were written for: the example plan without its exclusions,
# randomization-inference settings, control label and primary flag.
PLAN = example_plan(
    outcomes__0__primary=...,
    outcomes__1__label="sign-ups for SMS updates",
    exclude=...,
    status=...,
    arm_labels__control=...,
    ri_draws=...,
    seed=...,
)


def _effect(outcome, arm, method, est, se, p, p_adj, lo, hi, family, kind="continuous"):
    return {
        "outcome": outcome,
        "arm": arm,
        "method": method,
        "estimate": est,
        "std_error": se,
        "statistic": None if est is None else est / se,
        "df": 180.0,
        "p_value": p,
        "p_adjusted": p_adj,
        "conf_low": lo,
        "conf_high": hi,
        "n_control": 100,
        "n_treatment": 98,
        "family": family,
        "outcome_type": kind,
        "alpha": 0.05,
    }


BASE: dict[str, Any] = {
    "meta": {
        "plan": PLAN,
        "plan_hash": "9f2c" + "0" * 60,
        "n_input": 420,
        "n_after_exclusions": 398,
        "exclusions": [{"rule": "attention_failed", "n": 22}],
        "software": {"python": "3.11", "numpy": "2.0"},
        "ri_seed": 20261125,
        "ri_draws": 10000,
        "created_at": "2026-11-25T20:00:00Z",
        "provenance": {"spec_hash": "abc123", "exported_at": "2026-11-25T19:59:00Z"},
    },
    "methods": [
        {
            "method": "difference_in_means",
            "formula": "mean(Y|arm) - mean(Y|control), HC2 (Welch) SE",
            "reference": "Gerber & Green 2012",
            "notes": "complete cases per outcome",
        }
    ],
    "effects": [
        _effect("post_support", "care", "difference_in_means", 0.12, 0.2, 0.55, 0.55, -0.27, 0.51, "confirmatory"),
        _effect("post_support", "fairness", "difference_in_means", 0.42, 0.12, 0.0006, 0.0018, 0.18, 0.66, "confirmatory"),
        _effect("post_support", "loyalty", "difference_in_means", -0.35, 0.13, 0.008, 0.016, -0.61, -0.09, "confirmatory"),
        _effect("post_join_sms", "care", "difference_in_means", 0.01, 0.04, 0.8, 0.8, -0.07, 0.09, "exploratory", "binary"),
        _effect("post_join_sms", "fairness", "difference_in_means", 0.081, 0.03, 0.007, 0.021, 0.022, 0.14, "exploratory", "binary"),
        _effect("post_join_sms", "loyalty", "difference_in_means", None, None, None, None, None, None, "exploratory", "binary"),
    ],
    "equivalence": [
        {"outcome": "post_support", "arm": "care", "bound": 0.1, "bound_raw": 0.15,
         "p_value": 0.03, "equivalent": True},
    ],
    "subgroups": [
        {"outcome": "post_support", "arm": "loyalty", "moderator": "pre_ideology_group",
         "level": "left", "estimate": -0.9, "std_error": 0.2, "p_value": 0.0001,
         "conf_low": -1.3, "conf_high": -0.5, "suppressed": False},
        {"outcome": "post_support", "arm": "loyalty", "moderator": "pre_ideology_group",
         "level": "right", "estimate": None, "std_error": None, "p_value": None,
         "conf_low": None, "conf_high": None, "suppressed": True},
    ],
    "warnings": [
        {"code": "no_variance", "message": "post_join_sms has no variance in arm loyalty (all 0)",
         "outcome": "post_join_sms", "arm": "loyalty"},
    ],
}  # fmt: skip


def handmade_results(**overrides: Any) -> dict[str, Any]:
    """A deep copy of the hand-made results with top-level keys replaced."""
    results = copy.deepcopy(BASE)
    results.update(overrides)
    return results
