"""Follow-up waves against R (tests/reference/waves/waves.R; estimatr, car).

Per outcome and frame, on the participants who returned and answered both times: the
wave-1 and wave-2 differences in means (``estimatr::difference_in_means``; the standard
error also equals ``lm_robust(se_type = "HC2")``'s), their covariance from the stacked
regression ``y ~ 0 + wave + wave:treated`` with CR2 errors clustered by participant
(``lm_robust(clusters = id, se_type = "CR2")``), the share remaining with the delta method
(``car::deltaMethod`` on that fit) and Fieller's interval (found in R by inverting the test
with ``uniroot``; NA when unbounded); and each frame's return-rate difference
(``lm_robust(w2_returned ~ treated, se_type = "HC2")``). Relative tolerance 1e-8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.waves import return_rates, wave_effects

REF = Path(__file__).resolve().parents[1] / "reference" / "waves"
DATA = pd.read_csv(REF / "two_wave.csv")
EFFECTS = pd.read_csv(REF / "effects_ref.csv")
RETURNS = pd.read_csv(REF / "returns_ref.csv")
COMPARED = [
    "n_control", "n_treatment", "first_estimate", "first_std_error", "first_df",
    "first_conf_low", "first_conf_high", "estimate", "std_error", "df", "p_value", "conf_low",
    "conf_high", "covariance", "share", "share_std_error", "share_delta_low",
    "share_delta_high", "share_conf_low", "share_conf_high",
]  # fmt: skip


def _ours(outcome: str) -> pd.DataFrame:
    got = wave_effects(DATA, outcome, f"w2_{outcome}", "arm", "control", returned="w2_returned")
    return got.set_index("arm")


@pytest.mark.parametrize(
    "row", EFFECTS.to_dict("records"), ids=lambda r: f"{r['outcome']}-{r['arm']}"
)
def test_wave_effects_match_estimatr_and_the_stacked_cr2_fit(row):
    ours = _ours(row["outcome"]).loc[row["arm"]]
    for column in COMPARED:
        want = row[column]
        if pd.isna(want):  # Fieller's interval is unbounded: R and we both say so
            assert ours[column] is None or np.isnan(ours[column]), column
            assert not ours["share_stable"]
            continue
        assert ours[column] == pytest.approx(want, rel=1e-8, abs=1e-12), column
    # the separate fits' variances are the stacked fit's diagonal; its estimates the same
    assert ours["first_std_error"] ** 2 == pytest.approx(row["joint_var_first"], rel=1e-8)
    assert ours["std_error"] ** 2 == pytest.approx(row["joint_var_later"], rel=1e-8)
    assert ours["first_std_error"] == pytest.approx(row["first_lm_robust_se"], rel=1e-8)


def test_the_reference_covers_a_stable_share_an_unstable_one_and_a_wide_asymmetric_one():
    stable = {(r["outcome"], r["arm"]): r["share_stable"] for r in _rows()}
    assert stable[("support", "fairness")] and stable[("support", "care")]
    assert not stable[("join_sms", "care")] and not stable[("join_sms", "fairness")]
    care = _ours("support").loc["care"]
    # Fieller's interval is far from symmetric when the wave-1 effect is barely clear of 0
    assert care["share"] - care["share_conf_low"] > 5 * (care["share_conf_high"] - care["share"])


def _rows() -> list[dict]:
    return [
        {"outcome": o, **r}
        for o in ("support", "join_sms")
        for r in _ours(o).reset_index().to_dict("records")
    ]


@pytest.mark.parametrize("row", RETURNS.to_dict("records"), ids=lambda r: r["arm"])
def test_return_rate_differences_match_lm_robust_hc2(row):
    got = return_rates(DATA, "w2_returned", "arm", "control").set_index("arm")
    ours = got.loc[row["arm"]]
    assert got.loc["control", "return_rate"] == pytest.approx(row["control_rate"], rel=1e-12)
    for column in ("eligible", "returned", "return_rate", "difference", "std_error",
                   "statistic", "df", "p_value", "conf_low", "conf_high"):  # fmt: skip
        assert ours[column] == pytest.approx(row[column], rel=1e-8), column
    assert ours["differential"] == (row["p_value"] < 0.05)
