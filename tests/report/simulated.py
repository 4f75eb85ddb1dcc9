"""A simulated framing study with planted effects, in the tidy-export shape.

Planted: the fairness frame raises support (7-point scale) and SMS sign-ups;
the loyalty frame lowers support among participants on the left only (a
backlash in one subgroup of the moderator `pre_ideology_group`); care does
nothing. Some participants drop out after assignment, some fail the
attention check, some never get past consent.
Its analysis plan is `tests.factories.example_plan()`.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
import pandas as pd

from tests.factories import example_plan

ARMS = ("control", "care", "fairness", "loyalty")
FAIRNESS_SUPPORT = 0.9  # latent points
FAIRNESS_SMS = 0.15  # probability
LOYALTY_LEFT_BACKLASH = -1.6  # latent points, left subgroup only


def simulated_study(n_per_arm: int = 220, seed: int = 11) -> pd.DataFrame:
    """One row per participant, columns named as framelab's tidy export names them."""
    rng = np.random.default_rng(seed)
    n = n_per_arm * len(ARMS)
    arm = np.repeat(np.array(ARMS, dtype=object), n_per_arm)
    rng.shuffle(arm)
    ideology = rng.integers(0, 101, size=n)
    group = np.where(ideology < 40, "left", np.where(ideology > 60, "right", "centre"))
    pre_latent = 4 + rng.normal(0, 1.3, size=n) - (ideology - 50) / 50
    effect = np.where(arm == "fairness", FAIRNESS_SUPPORT, 0.0)
    effect += np.where((arm == "loyalty") & (group == "left"), LOYALTY_LEFT_BACKLASH, 0.0)
    post_latent = 0.7 * pre_latent + 1.2 + effect + rng.normal(0, 0.9, size=n)
    pre_support = np.clip(np.rint(pre_latent), 1, 7)
    post_support = np.clip(np.rint(post_latent), 1, 7)
    p_sms = 0.3 + np.where(arm == "fairness", FAIRNESS_SMS, 0.0)
    join_sms = (rng.random(n) < p_sms).astype(float)
    completed = rng.random(n) > 0.08
    status = np.where(completed, "completed", "assigned").astype(object)
    df = pd.DataFrame(
        {
            "participant": [f"p{i:05d}" for i in range(n)],
            "arm": arm.astype(str),
            "status": status.astype(str),
            "attention_failed": rng.random(n) < 0.03,
            "pre_ideology": ideology.astype(float),
            "pre_ideology_group": group,
            "pre_support": pre_support,
            "post_support": np.where(completed, post_support, np.nan),
            "post_join_sms": np.where(completed, join_sms, np.nan),
        }
    )
    # people who never reached assignment: no arm, no answers
    early = pd.DataFrame(
        {
            "participant": [f"s{i:04d}" for i in range(40)],
            "arm": pd.Series([None] * 40, dtype="str"),
            "status": ["started"] * 25 + ["screened_out"] * 15,
            "attention_failed": [False] * 40,
            "pre_ideology": np.nan,
            "pre_ideology_group": pd.Series([None] * 40, dtype="str"),
            "pre_support": np.nan,
            "post_support": np.nan,
            "post_join_sms": np.nan,
        }
    )
    return pd.concat([df, early], ignore_index=True)


@functools.cache
def _results_json() -> str:
    import analysis

    data = simulated_study()
    return json.dumps(
        analysis.run(data, example_plan(), provenance={"spec_hash": "sim-1", "seed": 11})
    )


def simulated_results() -> dict[str, Any]:
    """`analysis.run` on `simulated_study()`: computed once per test session, a fresh copy each call."""
    return json.loads(_results_json())
