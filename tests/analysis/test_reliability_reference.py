"""Scale reliability against psych (tests/reference/reliability/reliability.R).

Cronbach's alpha, standardized alpha and Feldt's interval against ``psych::alpha``;
McDonald's omega total against ``psych::omega(x, nfactors = 1, flip = FALSE)$omega.tot``
(1e-6: psych's optimiser stops there) and against the same one-factor minres model
solved tightly in R (``omega_uls``, 1e-9). The R call is in each row's ``call`` column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.reliability import cronbach_alpha, omega_total, scale_reliability

REF = Path(__file__).resolve().parents[1] / "reference" / "reliability"
ITEMS = pd.read_csv(REF / "bfi_items.csv")
TABLE = pd.read_csv(REF / "reliability_ref.csv")


@pytest.mark.parametrize("scale", TABLE["scale"].tolist())
def test_alpha_feldt_interval_and_omega_total_match_psych(scale):
    ref = TABLE.set_index("scale").loc[scale]
    items = ref["items"].split()
    a = cronbach_alpha(ITEMS, items).iloc[0]
    assert a["n"] == ref["n"]
    for col in ["alpha", "std_alpha", "conf_low", "conf_high"]:
        assert a[col] == pytest.approx(ref[col], rel=1e-9), f"{col}: R {ref['call']}"
    omega = omega_total(ITEMS, items).iloc[0]
    if len(items) == 2:
        # Two items: tau-equivalent loadings sqrt(r), omega = Spearman-Brown = std. alpha.
        assert omega["omega_total"] == pytest.approx(ref["std_alpha"], rel=1e-12)
        return
    assert omega["omega_total"] == pytest.approx(ref["omega_total"], rel=1e-6), ref["call"]
    assert omega["omega_total"] == pytest.approx(ref["omega_uls"], rel=1e-9)


def test_scale_reliability_flags_scales_below_0_6():
    scales = {row["scale"]: row["items"].split() for _, row in TABLE.iterrows()}
    got = scale_reliability(ITEMS, scales).set_index("scale")
    assert got.loc["agreeableness", "low"] == False  # noqa: E712 - numpy bool
    assert got.loc["openness_two", "low"] == True  # noqa: E712 - alpha 0.57
    assert got.loc["mixed_low", "low"] == True  # noqa: E712 - alpha 0.13
    assert got.loc["neuroticism", "items"] == "N1, N2, N3, N4, N5"


def test_run_reports_reliability_for_the_plans_scales_and_warns_per_scale():
    rng = np.random.default_rng(3)
    n = 300
    trait = rng.normal(size=n)
    d = pd.DataFrame({"arm": np.tile(["control", "care"], n // 2), "y": rng.normal(size=n)})
    for j in range(3):
        d[f"care_{j}"] = np.round(trait + rng.normal(0, 0.8, n))
    d["flat_1"], d["flat_2"] = 1.0, rng.normal(size=n)
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": ["y"],
        "ri_draws": 100,
        "scales": {"pre_scale_care": ["care_0", "care_1", "care_2"], "flat": ["flat_1", "flat_2"]},
    }
    res = analysis.run(d, plan)
    assert [r["scale"] for r in res["reliability"]] == ["pre_scale_care"]
    row = res["reliability"][0]
    direct = cronbach_alpha(d, ["care_0", "care_1", "care_2"]).iloc[0]
    assert (
        row["cronbach_alpha"] == pytest.approx(direct["alpha"], rel=1e-12) and row["low"] is False
    )
    warning = [w for w in res["warnings"] if w["method"] == "reliability"]
    assert len(warning) == 1 and warning[0]["outcome"] == "flat"
    assert "scale 'flat'" in warning[0]["message"]


@pytest.mark.parametrize(
    ("scales", "message"),
    [
        ({"s": ["a"]}, "scales.s: expected a list of at least two distinct item columns"),
        ({"s": ["a", "a"]}, "scales.s: expected a list of at least two distinct item columns"),
        (["a", "b"], "scales: expected a mapping scale column -> list of its item columns"),
    ],
)
def test_plan_rejects_malformed_scales(scales, message):
    with pytest.raises(ValueError, match=message):
        analysis.load_plan({"arm": "a", "control": "c", "outcomes": ["y"], "scales": scales})


def test_plan_naming_a_missing_item_column_raises():
    d = pd.DataFrame({"arm": ["c", "t"] * 5, "y": range(10), "a": range(10)})
    plan = {"arm": "arm", "control": "c", "outcomes": ["y"], "scales": {"s": ["a", "b"]}}
    with pytest.raises(ValueError, match="item of scale 's': 'b' is not in the data"):
        analysis.run(d, plan)
