"""Every estimator against R reference values (tests/reference/estimators.R).

The exact R call that produced each expected row is in the ``call`` column of
tests/reference/estimators_reference.csv and repeated in the assertion message.
Tolerance: 1e-6 relative on estimate, std_error, statistic, df, p_value and the
interval bounds. The HC2 regressions are asked for estimatr's residual degrees of
freedom (``small_sample="residual"``); their default Bell-McCaffrey degrees of
freedom are checked against clubSandwich in test_small_sample_reference.py.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import analysis

REF = Path(__file__).resolve().parents[1] / "reference"
COLUMNS = ["estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]
CONTROL = {
    "framing": "c1",
    "thornton": "control",
    "synthetic": "control",
    "pairs": "control",
    "pairs_mixed": "control",
}
ARM = {"framing": "cond"}
COVARIATES = {
    "framing": ["age", "income", "gender", "educ"],
    "thornton": ["age", "distvct"],
    "synthetic": ["x1", "x2", "pre"],
}
BLOCKS = {
    "framing": "gender",
    "thornton": "villnum",
    "synthetic": "block",
    "pairs": "pair",
    "pairs_mixed": "pair",
}
BASELINE = {"framing": "age", "synthetic": "pre"}


@cache
def dataset(name: str) -> pd.DataFrame:
    file = {"pairs_mixed": "pairs", "thornton": "thornton_hiv"}.get(name, name)
    d = pd.read_csv(REF / "data" / f"{file}.csv")
    if name == "pairs":
        d = d[d["design"] == "pairs"]
    return d


def reference() -> pd.DataFrame:
    return pd.read_csv(REF / "estimators_reference.csv")


def compute(name: str, outcome: str, method: str) -> pd.DataFrame:
    d, arm, control = dataset(name), ARM.get(name, "arm"), CONTROL[name]
    if method == "difference_in_means":
        return analysis.difference_in_means(d, outcome, arm, control)
    if method == "difference_in_means_blocked":
        return analysis.difference_in_means(d, outcome, arm, control, blocks=BLOCKS[name])
    if method == "lin":
        return analysis.lin(d, outcome, arm, control, COVARIATES[name], small_sample="residual")
    if method == "ancova":
        return analysis.ancova(d, outcome, arm, control, BASELINE[name], small_sample="residual")
    if method == "change_score":
        return analysis.change_score(
            d, outcome, arm, control, BASELINE[name], small_sample="residual"
        )
    if method == "logit":
        return analysis.logit(d, outcome, arm, control)
    if method == "logit_covariates":
        return analysis.logit(d, outcome, arm, control, covariates=["x1"])
    if method == "ordinal_logit":
        return analysis.ordinal_logit(d, outcome, arm, control)
    if method == "ordinal_logit_covariates":
        return analysis.ordinal_logit(d, outcome, arm, control, covariates=["x1"])
    if method == "equivalence":
        # Stored in R as statistic = the bound in raw units (0.1 pooled SD).
        eq = analysis.equivalence(d, outcome, arm, control, bound=0.1)
        return eq.assign(statistic=eq["bound_raw"])
    if method == "mann_whitney":
        return analysis.mann_whitney(d, outcome, arm, control)
    if method == "effect_sizes":
        # These rows hold the Hedges-Olkin normal interval, which effect_sizes gives only
        # when the noncentral t cannot be inverted; the noncentral-t interval is checked
        # against R's effectsize in test_effect_size_reference.py.
        with mock.patch("analysis.effect_size.ncp_interval", side_effect=ArithmeticError):
            es = analysis.effect_sizes(d, outcome, arm, control)
        assert (es["ci_method"] == "normal").all()
        # Stored in R as estimate = g, std_error = se(g), statistic = d, df = n_t + n_c - 2.
        return es.assign(
            estimate=es["hedges_g"],
            statistic=es["cohens_d"],
            df=es["n_control"] + es["n_treatment"] - 2,
            p_value=np.nan,
        )
    raise AssertionError(method)


CASES = reference().groupby(["dataset", "outcome", "method"], sort=False).size().index.tolist()


@pytest.mark.parametrize(("name", "outcome", "method"), CASES, ids=["-".join(c) for c in CASES])
def test_estimate_matches_r_reference_to_1e6_relative(name, outcome, method):
    ref = reference()
    ref = ref[(ref.dataset == name) & (ref.outcome == outcome) & (ref.method == method)]
    got = compute(name, outcome, method).set_index("arm")
    assert sorted(got.index) == sorted(ref["arm"])
    for _, row in ref.iterrows():
        for col in COLUMNS:
            expected, actual = row[col], float(got.loc[row["arm"], col])
            if pd.isna(expected):
                continue
            if np.isinf(expected):
                assert np.isinf(actual), f"{col} for {row['call']}"
                continue
            assert actual == pytest.approx(expected, rel=1e-6, abs=1e-12), (
                f"{col} of arm {row['arm']}: R {row['call']} gives {expected}, we give {actual}"
            )


def test_omnibus_hc2_wald_matches_lmtest_waldtest():
    ref = pd.read_csv(REF / "wald_reference.csv")
    for _, row in ref.iterrows():
        name = row["dataset"]
        got = analysis.omnibus(
            dataset(name), row["outcome"], ARM.get(name, "arm"), CONTROL[name]
        ).iloc[0]
        for col in ["statistic", "df", "p_value", "f_statistic", "df_num", "df_denom", "f_p_value"]:
            assert got[col] == pytest.approx(row[col], rel=1e-6), f"{col}: {row['call']}"


@pytest.mark.parametrize("method", ["holm", "bh", "bonferroni", "none"])
def test_adjust_pvalues_matches_r_p_adjust_including_ties_and_na(method):
    # R: p.adjust(p, method) with p = c(0.01, 0.04, 0.03, 0.005, 0.04, NA, 0.2, 0.0001, 0.5)
    ref = pd.read_csv(REF / "padjust_reference.csv")
    got = analysis.adjust_pvalues(ref["p"].to_numpy(), method)
    np.testing.assert_allclose(got, ref[method].to_numpy(), rtol=1e-12, equal_nan=True)


def test_mixed_block_sizes_use_matched_pair_variance_like_estimatr():
    # estimatr warns and switches to the matched-pair SE with df = J - 1 when some
    # blocks have two units and others more (J = 46 blocks here).
    got = analysis.difference_in_means(dataset("pairs_mixed"), "y", "arm", "control", blocks="pair")
    assert got["df"].iloc[0] == 45
