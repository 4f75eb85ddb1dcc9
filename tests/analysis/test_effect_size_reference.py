"""Cohen's d and Hedges' g with noncentral-t intervals against R's effectsize.

tests/reference/effectsize/effectsize.R (R 4.2.2, effectsize 0.8.3; the versions are
also in every row) wrote effectsize_reference.csv from R's built-in sleep, ToothGrowth,
mtcars and PlantGrowth data, synthetic studies and tiny-n cases (df 3, 2, 1), stored as CSV next
to the script, so these tests never need R. Each failure message prints the R call.

Three references per interval bound:
- ``conf_low``/``conf_high``: effectsize's output. effectsize 0.8.3 finds the
  noncentrality bounds with Nelder-Mead (``optim``), which stops up to 5.7e-6
  (relative) short of the root on these data, so its bounds are compared at 1e-5.
- ``*_exact``: the same equations solved with ``uniroot`` on R's ``pt()``, compared at
  1e-9 relative (measured: 5.5e-11 at most).
- ``*_integral``: the same equations solved with the noncentral t integrated directly
  in R, independent of ``pt()``; compared at 1e-9 (measured: 7.4e-13 at most). For
  synthetic_large (t about 44) it is the only reference: beyond |ncp| = 37.62 R's
  ``pt()`` switches to a normal approximation and effectsize drifts 1e-4 from it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
import analysis.effect_size

REF = Path(__file__).resolve().parents[1] / "reference" / "effectsize"
# Where R's pt() stops computing the noncentral t exactly (see the module docstring).
BEYOND_R_PT = {"synthetic_large"}


@cache
def reference() -> pd.DataFrame:
    return pd.read_csv(REF / "effectsize_reference.csv", dtype={"control": str, "arm": str})


@cache
def computed(file: str, outcome: str, arm_column: str, control: str, ci: float) -> pd.DataFrame:
    data = pd.read_csv(REF / file)
    return analysis.effect_sizes(data, outcome, arm_column, control, alpha=1 - ci).set_index("arm")


def ours(row: pd.Series) -> tuple[float, float, float, str]:
    got = computed(row["file"], row["outcome"], row["arm_column"], row["control"], row["ci"])
    got = got.loc[row["arm"]]
    if row["method"] == "hedges_g":
        return got["hedges_g"], got["conf_low"], got["conf_high"], got["ci_method"]
    return got["cohens_d"], got["d_conf_low"], got["d_conf_high"], got["ci_method"]


def j_undefined(row: pd.Series) -> bool:
    """Hedges' g on 1 df, where J = Gamma(1/2) / (sqrt(1/2) Gamma(0)) has no value."""
    return row["method"] == "hedges_g" and row["df"] == 1


ROWS = [row for _, row in reference().iterrows() if not j_undefined(row)]
IDS = [f"{r['dataset']}-{r['arm']}-{r['method']}-{r['ci']}" for r in ROWS]


def test_reference_covers_real_synthetic_and_tiny_data_from_effectsize_0_8():
    ref = reference()
    assert set(ref["effectsize_version"].astype(str)) == {"0.8.3"}
    assert set(ref["r_version"].astype(str)) == {"4.2.2"}
    assert {"sleep", "ToothGrowth", "mtcars", "PlantGrowth"} <= set(ref["dataset"])
    assert {"synthetic", "tiny"} <= set(ref["dataset"])
    assert ref["df"].min() == 1  # one participant in an arm, two in control
    assert ref["df"].nsmallest(5).iloc[-1] == 2  # one in an arm, three in control
    assert set(ref["ci"]) == {0.95, 0.9}
    assert set(ref["method"]) == {"cohens_d", "hedges_g"}


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_estimate_matches_effectsize_to_1e9_relative(row):
    estimate, *_ = ours(row)
    assert estimate == pytest.approx(row["estimate"], rel=1e-9), (
        f"R {row['call']} gives {row['estimate']}, we give {estimate}"
    )


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_interval_matches_the_noncentral_t_inversion_to_1e9_relative(row):
    _, low, high, method = ours(row)
    assert method == "noncentral_t"
    columns = ["integral"] if row["dataset"] in BEYOND_R_PT else ["exact", "integral"]
    for col in columns:
        for name, got in [("conf_low", low), ("conf_high", high)]:
            expected = row[f"{name}_{col}"]
            assert got == pytest.approx(expected, rel=1e-9), (
                f"{name} ({col}) of {row['call']}: R gives {expected}, we give {got}"
            )


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_interval_matches_effectsize_output_within_its_optimizer_error(row):
    _, low, high, _ = ours(row)
    rel = 1e-3 if row["dataset"] in BEYOND_R_PT else 1e-5
    for name, got in [("conf_low", low), ("conf_high", high)]:
        assert got == pytest.approx(row[name], rel=rel), (
            f"{name}: R {row['call']} gives {row[name]}, we give {got}"
        )


def test_hedges_g_on_one_df_is_missing_where_effectsize_reports_zero():
    # effectsize multiplies by exp(lgamma(1/2) - log(sqrt(1/2)) - lgamma(0)) = 0.
    rows = reference()[reference().apply(j_undefined, axis=1)]
    assert len(rows) == 2
    for _, row in rows.iterrows():
        assert (row["estimate"], row["conf_low"], row["conf_high"]) == (0, 0, 0)
        g, low, high, method = ours(row)
        assert np.isnan([g, low, high]).all(), row["call"]
        assert method == "noncentral_t"  # d's interval exists; see the cohens_d rows


def test_normal_approximation_only_where_the_noncentral_t_does_not_converge():
    # t is about 1.2e6: scipy's noncentral t reports that its series did not converge.
    data = pd.read_csv(REF / "degenerate.csv")
    for _, row in pd.read_csv(REF / "fallback_reference.csv").iterrows():
        got = analysis.effect_sizes(data, "support", "arm", "control", alpha=1 - row["ci"])
        got = got.iloc[0]
        assert got["ci_method"] == "normal"
        for col in ["cohens_d", "hedges_g", "d_conf_low", "d_conf_high", "conf_low", "conf_high"]:
            assert got[col] == pytest.approx(row[col], rel=1e-9), (
                f"{col}: R {row['call']} gives {row[col]}, we give {got[col]}"
            )


def test_ncp_interval_raises_arithmetic_error_when_it_cannot_be_inverted():
    with pytest.raises(ArithmeticError, match="did not converge"):
        analysis.effect_size.ncp_interval(1.2e6, 4)
    with pytest.raises(ArithmeticError, match="no noncentral t for t = inf"):
        analysis.effect_size.ncp_interval(np.inf, 4)


def test_no_spread_gives_no_effect_size_and_no_interval():
    data = pd.DataFrame({"arm": ["c"] * 3 + ["t"] * 3, "y": [1.0, 1, 1, 2, 2, 2]})
    got = analysis.effect_sizes(data, "y", "arm", "c").iloc[0]
    assert got["ci_method"] == "none"
    assert np.isnan(got[["cohens_d", "hedges_g", "conf_low", "conf_high"]].astype(float)).all()
