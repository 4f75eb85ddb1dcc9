"""Manipulation checks (analysis.manipulation) against R and on the plan's terms.

Reference: tests/reference/manipulation/manipulation_reference.R, i.e.
``estimatr::difference_in_means(hit ~ z)`` per frame and comparison, and
``chisq.test(table(arm, answer), correct = FALSE)``; tolerance 1e-6 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.manipulation import manipulation_checks, manipulation_omnibus, proportion_difference
from analysis.manipulation_section import load_checks

REF = Path(__file__).resolve().parents[1] / "reference" / "manipulation"
CHECK = {"column": "check", "targets": {"care": [1], "loyalty": [2], "liberty": [3]}}
COLUMNS = ["estimate", "std_error", "df", "p_value", "conf_low", "conf_high"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "manipulation_data.csv")


def test_each_frame_vs_control_and_vs_other_frames_matches_estimatr(data):
    ours = manipulation_checks(data, "arm", "control", load_checks([CHECK]))
    ref = pd.read_csv(REF / "differences_ref.csv")
    assert len(ours) == len(ref) == 6
    for _, r in ref.iterrows():
        row = ours[(ours.arm == r.arm) & (ours.comparison == r.comparison)].iloc[0]
        for column in COLUMNS:
            assert row[column] == pytest.approx(r[column], rel=1e-6), (
                f"difference_in_means(hit ~ z) for {r.arm} vs {r.comparison}: {column}"
            )
        assert row.recognised == (r.conf_low > 0)
    care = ours[(ours.arm == "care") & (ours.comparison == "control")].iloc[0]
    answered = data.dropna(subset=["check"])
    assert care.share == pytest.approx((answered[answered.arm == "care"].check == 1).mean())
    assert care.share_comparison == pytest.approx(
        (answered[answered.arm == "control"].check == 1).mean()
    )


def test_the_omnibus_chi_square_matches_r(data):
    ours = manipulation_omnibus(data, "arm", load_checks([CHECK])).iloc[0]
    ref = pd.read_csv(REF / "omnibus_ref.csv").iloc[0]
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert ours.df == ref.df
    assert ours.p_value == pytest.approx(ref.p_value, rel=1e-6)


def test_a_proportion_difference_without_variance_has_no_interval():
    r = proportion_difference(np.ones(5), np.ones(4))
    assert r["estimate"] == 0 and np.isnan(r["p_value"]) and np.isnan(r["conf_low"])


def test_factor_levels_are_compared_with_the_other_levels_and_the_control():
    d = pd.DataFrame(
        {
            "arm": ["c"] * 6 + ["a_r", "b_r", "a_n", "b_n"] * 5,
            "messenger": [None] * 6 + ["refugee", "refugee", "neighbour", "neighbour"] * 5,
            "check": [3, 3, 3, 1, 2, 3] + [1, 1, 2, 2] * 4 + [2, 1, 1, 2],
        }
    )
    check = {"column": "check", "factor_targets": {"messenger": {"refugee": [1], "neighbour": [2]}}}
    rows = manipulation_checks(d, "arm", "c", load_checks([check]))
    refugee = rows[(rows.level == "refugee") & (rows.comparison == "other_levels")].iloc[0]
    # refugee arms chose 1 in 9 of 10 answers, neighbour arms in 1 of 10
    assert refugee.share == pytest.approx(9 / 10)
    assert refugee.share_comparison == pytest.approx(1 / 10)
    vs_control = rows[(rows.level == "refugee") & (rows.comparison == "control")].iloc[0]
    assert vs_control.share_comparison == pytest.approx(1 / 6)


def test_run_reports_the_checks_with_labels_in_the_plans_language(data):
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "check"}],
        "language": "fr",
        "manipulation_checks": [
            {**CHECK, "target_labels": {"care": {"en": "Care", "fr": "Bienveillance"}}}
        ],
    }
    res = analysis.run(data.fillna({"check": 4}), plan)
    care = [r for r in res["manipulation_checks"] if r["arm"] == "care"]
    assert {r["target"] for r in care} == {"Bienveillance"}
    assert res["manipulation_omnibus"][0]["method"] == "pearson_chi_square"
    assert not [w for w in res["warnings"] if w.get("code") == "unknown_plan_key"]


def test_a_malformed_check_is_refused_with_its_place():
    with pytest.raises(ValueError, match=r"manipulation_checks\[0\]\.targets"):
        load_checks([{"column": "x", "targets": {"care": "one"}}])
