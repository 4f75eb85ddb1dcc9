"""Small counts in the results: every table of counts the report shows hides them.

`min_cell_size` (the plan's, from the study's quality section) applied to subgroups only;
the answer distributions showed cells of 1 or 2 people. These tests check the tables
the report renders from `analysis.run` and that the analysis' rule hides exactly the
cells framelab's dashboard hides (`framelab.domain.disclosure.protect_counts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import analysis
from analysis.disclosure import hidden_cells, protect_flow
from analysis.report import campaigner_summary, render_html
from framelab.domain.disclosure import protect_counts

PLAN = {
    "arm": "arm",
    "control": "control",
    "status": "status",
    "min_cell_size": 5,
    "outcomes": [{"name": "y", "type": "ordinal", "primary": True}],
}


def _data(seed: int = 3) -> pd.DataFrame:
    """Two arms of 30; answers 1-5 where 5 is rare (a few people per arm)."""
    rng = np.random.default_rng(seed)
    y = rng.choice([1, 2, 3, 4, 5], size=60, p=[0.3, 0.3, 0.2, 0.17, 0.03]).astype(float)
    return pd.DataFrame(
        {
            "arm": ["control"] * 30 + ["care"] * 30,
            "status": ["completed"] * 60,
            "y": y,
        }
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=8), st.integers(1, 20))
def test_the_analysis_hides_the_same_cells_as_the_dashboard(counts, minimum):
    dashboard = [cell.hidden for cell in protect_counts(counts, minimum)]
    assert hidden_cells(counts, minimum) == dashboard


def test_answer_distributions_show_no_count_below_the_minimum_nor_one_that_totals_give_back():
    data = _data()
    results = analysis.run(data, PLAN)
    rows = results["distributions"]
    shown = [r["count"] for r in rows if r["count"] is not None]
    assert shown and not any(0 < c < 5 for c in shown)
    hidden = [r for r in rows if r.get("suppressed")]
    assert hidden, "the data has answers given by fewer than 5 people in an arm"
    assert all(r["share"] is None for r in hidden)
    for arm in ("control", "care"):
        line = [r for r in rows if r["arm"] == arm]
        truth = data.loc[data["arm"] == arm, "y"].value_counts()
        secret = [truth.get(r["value"], 0) for r in line if r.get("suppressed")]
        # a line hides none, or at least two cells that add up to the minimum or more
        assert not secret or (len(secret) >= 2 and sum(secret) >= 5)
        # the shown cells are the true counts
        for r in line:
            if r["count"] is not None:
                assert r["count"] == truth.get(r["value"], 0)
    html = render_html(results)
    assert "Answer distributions" in html


def test_without_small_cells_the_distributions_are_exact():
    data = _data()
    results = analysis.run(data, {**PLAN, "min_cell_size": 1})
    assert not any(r.get("suppressed") for r in results["distributions"])
    total = sum(r["count"] for r in results["distributions"])
    assert total == 60


def test_withdrawn_and_excluded_counts_per_arm_are_protected_across_arms():
    flow = [
        {"stage": "assigned", "arm": "a", "n": 50},
        {"stage": "withdrawn", "arm": "a", "n": 2},
        {"stage": "withdrawn", "arm": "b", "n": 12},
        {"stage": "withdrawn", "arm": "c", "n": 30},
        {"stage": "excluded", "arm": "a", "n": 0},
        {"stage": "excluded", "arm": "b", "n": 0},
    ]
    out = protect_flow(flow, 10)
    assert [r["n"] for r in out] == [50, None, None, 30, 0, 0]
    assert [r.get("suppressed") for r in out] == [None, True, True, False, False, False]


def test_based_on_counts_the_participants_in_the_estimates():
    data = _data()
    extra = pd.DataFrame(
        {
            # never assigned, and assigned without an answer: in the data, not in the estimates
            "arm": [None, None, "care", "control"],
            "status": ["started", "screened_out", "assigned", "assigned"],
            "y": [np.nan] * 4,
        }
    )
    results = analysis.run(pd.concat([data, extra], ignore_index=True), PLAN)
    meta = results["meta"]
    assert (meta["n_input"], meta["n_after_exclusions"], meta["n_analysed"]) == (64, 64, 60)
    assert sum(e["n_control"] + e["n_treatment"] for e in results["effects"][:1]) == 60
    caveats = campaigner_summary(results).caveats
    assert caveats[0].startswith("Based on 60 participants")
    assert caveats[0] == "Based on 60 participants."  # nobody was excluded by the plan
    flagged = pd.concat([data, extra], ignore_index=True).assign(attention_failed=False)
    flagged.loc[:1, "attention_failed"] = True
    excluded = analysis.run(flagged, {**PLAN, "exclude": {"attention_failed": True}})
    assert campaigner_summary(excluded).caveats[0] == (
        "Based on 58 participants (64 before the plan's exclusions)."
    )
