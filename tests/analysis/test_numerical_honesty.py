"""Numerical honesty: separated data and blown-up fits give a reason, never a number.

The separation decision is checked against an exact combinatorial rule for
arm-only designs (derived in ``analysis.separation``'s docstring from the
recession cone of the cumulative-logit likelihood), written out here
independently of the linear program; non-separated fits are checked against
closed forms (the arm-only logit is the 2 x 2 table's log odds ratio with
Woolf's standard error) and, in test_estimators_reference.py, against R.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.guards import NumericalError, check_effects, check_information, scaled_condition
from analysis.interactions import interaction_effects
from analysis.separation import SeparationError, separated_constraints
from analysis.value_matching import value_match

ROOT = Path(__file__).resolve().parents[2]

# The data of test_estimators_input's separation test: the control answers 1-2, the
# arm 2-3, so no category boundary is shared and the arm's log odds ratio is unbounded.
SEPARATED = pd.DataFrame({"arm": ["c"] * 30 + ["t"] * 30, "y": [1] * 26 + [2] * 8 + [3] * 26})


def interval_rule_separated(tables: list[set[int]], n_levels: int) -> bool:
    """Exact rule for an arm-only cumulative logit (binary: n_levels = 2).

    ``tables[g]`` is the set of category indices arm g uses. The MLE exists iff no arm
    uses only the lowest or only the highest category, and the threshold intervals
    ``[lo_g, hi_g - 1]`` of the arms using two or more categories, chained by sharing a
    threshold, cover every threshold ``0 .. n_levels - 2``.
    """
    for cats in tables:
        if len(cats) == 1 and next(iter(cats)) in (0, n_levels - 1):
            return True
    intervals = sorted((min(c), max(c) - 1) for c in tables if len(c) > 1)
    if not intervals or intervals[0][0] != 0:
        return True
    reach = intervals[0][1]
    for lo, hi in intervals[1:]:
        if lo > reach:
            return True
        reach = max(reach, hi)
    return reach < n_levels - 2


def random_table(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int, list[set[int]]]:
    n_arms, n_levels = int(rng.integers(2, 5)), int(rng.integers(2, 6))
    while True:
        # Each arm uses a random contiguous-or-not subset of the categories.
        used = [
            set(np.flatnonzero(rng.random(n_levels) < rng.uniform(0.2, 0.9)).tolist())
            for _ in range(n_arms)
        ]
        if all(used) and set().union(*used) == set(range(n_levels)):
            break
    codes, y = [], []
    for g, cats in enumerate(used):
        for k in cats:
            m = int(rng.integers(1, 4))
            codes += [g] * m
            y += [k] * m
    return np.array(codes), np.array(y), n_levels, used


def test_linear_program_agrees_with_the_exact_interval_rule_on_400_random_tables():
    rng = np.random.default_rng(20261203)
    decisions = []
    for _ in range(400):
        codes, y, n_levels, used = random_table(rng)
        D = (codes[:, None] == np.arange(1, len(used))).astype(float)
        got = bool(separated_constraints(D, y, n_levels).any())
        assert got == interval_rule_separated(used, n_levels), (used, n_levels)
        decisions.append(got)
    # Both outcomes are well represented, so the agreement is not vacuous.
    assert 50 < sum(decisions) < 350


def test_non_separated_random_tables_fit_finite_and_separated_ones_raise():
    rng = np.random.default_rng(7)
    seen = {True: 0, False: 0}
    for _ in range(60):
        codes, y, n_levels, used = random_table(rng)
        arms = np.array(["control", "a1", "a2", "a3"])[codes]
        d = pd.DataFrame({"arm": arms, "y": y + 1.0})
        separated = interval_rule_separated(used, n_levels)
        seen[separated] += 1
        if separated:
            with pytest.raises(SeparationError, match=r"\(separation\): the proportional-odds"):
                analysis.ordinal_logit(d, "y", "arm", "control")
        else:
            try:
                res = analysis.ordinal_logit(d, "y", "arm", "control")
            except NumericalError:
                continue  # tiny tables can be finite but too flat to report; never a row
            assert np.isfinite(res[["estimate", "std_error"]].to_numpy()).all()
            assert (res["estimate"].abs() <= 20).all()
    assert seen[True] > 5 and seen[False] > 5


def test_separated_ordinal_message_names_outcome_arms_and_empty_categories():
    with pytest.raises(SeparationError) as err:
        analysis.ordinal_logit(SEPARATED, "y", "arm", "c")
    assert str(err.value) == (
        "outcome 'y': arm 'c' has no answers in category 3 and arm 't' has no answers in "
        "category 1, so the log odds ratio of arm 't' is unbounded (separation): the "
        "proportional-odds model has no finite estimate and is not fitted"
    )
    assert err.value.arm == "t" and err.value.unbounded == ["t"]
    assert err.value.empty == {"c": [3.0], "t": [1.0]}


def test_arm_without_the_lower_categories_is_named_with_a_category_range():
    # The control answers 1-3, 'care' only 4-5: complete separation of the two arms.
    d = pd.DataFrame(
        {"arm": ["control"] * 9 + ["care"] * 8, "post_support": [1, 2, 3] * 3 + [4, 5] * 4}
    )
    with pytest.raises(SeparationError) as err:
        analysis.ordinal_logit(d, "post_support", "arm", "control")
    assert str(err.value).startswith(
        "outcome 'post_support': arm 'control' has no answers in categories 4-5 and arm "
        "'care' has no answers in categories 1-3, so the log odds ratio of arm 'care' is "
        "unbounded (separation)"
    )


def test_an_arm_in_the_top_category_only_is_separated_but_a_middle_category_is_not():
    base = [1, 2, 3, 4, 5] * 2
    top = pd.DataFrame({"arm": ["c"] * 10 + ["t"] * 10, "y": base + [5] * 10})
    with pytest.raises(SeparationError, match="every participant in arm 't' has the value 5"):
        analysis.ordinal_logit(top, "y", "arm", "c")
    middle = top.assign(y=base + [3] * 10)
    # Symmetric data: the arm's log odds ratio is 0 (R: clm gives 0 here by symmetry).
    assert analysis.ordinal_logit(middle, "y", "arm", "c")["estimate"].iloc[0] == pytest.approx(
        0.0, abs=1e-9
    )


def test_binary_control_all_no_names_the_control_and_every_unbounded_arm():
    d = pd.DataFrame(
        {
            "arm": ["control"] * 6 + ["care"] * 6 + ["fairness"] * 6,
            "join": [0] * 6 + [0, 1] * 3 + [1, 1, 0, 0, 1, 0],
        }
    )
    with pytest.raises(SeparationError) as err:
        analysis.logit(d, "join", "arm", "control")
    assert str(err.value) == (
        "outcome 'join': every participant in arm 'control' has the value 0, so the log odds "
        "ratios of arms 'care' and 'fairness' are unbounded (separation): the logit model has "
        "no finite estimate and is not fitted"
    )
    assert err.value.arm == "control"


@pytest.mark.parametrize("estimator", [analysis.logit, analysis.ordinal_logit])
def test_a_covariate_that_sorts_the_answers_is_named(estimator):
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    d = pd.DataFrame({"arm": np.tile(["c", "t"], 20), "x": x, "y": (x > 0).astype(int)})
    with pytest.raises(SeparationError, match="outcome 'y': covariate 'x' sorts the answers"):
        estimator(d, "y", "arm", "c", covariates=["x"])
    # The same covariate with some overlap (its largest value answers 0, its smallest 1)
    # is fitted.
    d.loc[[np.argmax(x), np.argmin(x)], "y"] = [0, 1]
    assert np.isfinite(estimator(d, "y", "arm", "c", covariates=["x"])["estimate"]).all()


def test_near_separated_logit_is_fitted_and_equals_the_2x2_table_closed_form():
    # 1 'yes' of 400 in the arm: extreme but finite. Arm-only logit = the 2x2 table's
    # log odds ratio, with Woolf's standard error sqrt(1/a + 1/b + 1/c + 1/d).
    d = pd.DataFrame({"arm": ["c"] * 400 + ["t"] * 400, "y": [0, 1] * 200 + [1] + [0] * 399})
    row = analysis.logit(d, "y", "arm", "c").iloc[0]
    assert row["estimate"] == pytest.approx(np.log(1 / 399) - np.log(200 / 200), rel=1e-10)
    assert row["std_error"] == pytest.approx(np.sqrt(1 / 1 + 1 / 399 + 1 / 200 + 1 / 200), rel=1e-8)
    # A binary outcome as a 2-category ordinal model is the same logit.
    assert analysis.ordinal_logit(d, "y", "arm", "c")["estimate"].iloc[0] == pytest.approx(
        row["estimate"], rel=1e-8
    )


def test_collinear_covariates_are_refused_by_the_condition_number():
    rng = np.random.default_rng(3)
    d = pd.DataFrame(
        {
            "arm": np.tile(["c", "t"], 20),
            "x": np.arange(40.0),
            "z": 2 * np.arange(40.0),
            "y": rng.integers(0, 2, 40),
        }
    )
    with pytest.raises(NumericalError, match="information matrix is numerically singular"):
        analysis.logit(d, "y", "arm", "c", covariates=["x", "z"])
    with pytest.raises(NumericalError, match="information matrix is numerically singular"):
        analysis.ordinal_logit(d, "y", "arm", "c", covariates=["x", "z"])


@pytest.mark.parametrize("estimator", ["lin", "ancova"])
def test_linear_estimator_with_a_covariate_that_is_almost_the_arm_gives_no_row(estimator):
    # Before the guard: estimate 1.8e5, standard error 1.2e5 for an outcome with SD 1.
    rng = np.random.default_rng(2)
    arm = np.tile(["c", "t"], 30)
    x = (arm == "t") + 1e-6 * rng.normal(size=60)
    d = pd.DataFrame({"arm": arm, "x": x, "y": rng.normal(size=60)})
    call = {
        "lin": lambda: analysis.lin(d, "y", "arm", "c", ["x"]),
        "ancova": lambda: analysis.ancova(d, "y", "arm", "c", "x"),
    }[estimator]
    with pytest.raises(NumericalError) as err:
        call()
    assert str(err.value).startswith(
        f"outcome 'y', arm 't': {estimator}: the standard error 1."
    ) and "more than 1000 times the outcome's standard deviation (0.9" in str(err.value)
    assert err.value.arm == "t"


def test_interaction_and_value_match_with_a_moderator_that_is_almost_the_arm_give_no_row():
    # Before the guard: interaction estimate -1.9e5 with standard error 2.0e5 (SD(y) = 1).
    rng = np.random.default_rng(2)
    arm = np.tile(["c", "t"], 60)
    m = (arm == "t") + 1e-6 * rng.normal(size=120)
    d = pd.DataFrame({"arm": arm, "m": m, "y": rng.normal(size=120)})
    with pytest.raises(NumericalError) as err:
        interaction_effects(d, "y", "arm", "c", "m")
    assert str(err.value).startswith(
        "outcome 'y', arm 't': interaction with 'm': the standard error of one SD of 't:m' ("
    )
    assert "more than 1000 times the outcome's standard deviation" in str(err.value)
    with pytest.raises(NumericalError, match="value match with 'm': the standard error of one SD"):
        value_match(d, "y", "arm", "c", {"t": "m"})
    # A moderator in tiny units is refused for nothing: the check is per SD of the term.
    fine = d.assign(m=rng.normal(size=120) * 1e-9)
    assert np.isfinite(interaction_effects(fine, "y", "arm", "c", "m")["std_error"]).all()


def test_guard_limits_on_log_odds_standard_error_and_condition():
    frame = pd.DataFrame({"arm": ["a", "b"], "estimate": [1.0, 20.5], "std_error": [0.5, 0.9]})
    with pytest.raises(NumericalError, match=r"arm 'b': logit: the log odds ratio 20\.5 is beyond"):
        check_effects(frame, outcome="y", method="logit", outcome_sd=0.5, log_odds=True)
    # The same numbers on an outcome's own scale are fine; an SE above 1e3 SDs is not.
    assert check_effects(frame, outcome="y", method="lin", outcome_sd=0.5) is frame
    wide = frame.assign(std_error=[0.5, 501.0])
    with pytest.raises(NumericalError, match="standard error 501 is more than 1000 times"):
        check_effects(wide, outcome="y", method="lin", outcome_sd=0.5)
    with pytest.raises(NumericalError, match="standard error is nan"):
        check_effects(
            frame.assign(estimate=[1.0, 2.0], std_error=[0.5, np.nan]),
            outcome="y",
            method="ordinal_logit",
            outcome_sd=1.0,
            log_odds=True,
        )
    # Condition numbers are taken after scaling to unit diagonal: units do not matter.
    assert scaled_condition(np.diag([1.0, 1e-20])) == pytest.approx(1.0)
    r = 1 - 1e-12
    assert scaled_condition(np.array([[1.0, r], [r, 1.0]])) == pytest.approx(2e12, rel=1e-3)
    with pytest.raises(NumericalError, match=r"condition number 2.0e\+12, above 1e\+10"):
        check_information(np.array([[1.0, r], [r, 1.0]]), "y", "logit")


PLAN = {
    "arm": "arm",
    "control": "control",
    "ri_draws": 200,
    "outcomes": [
        {"name": "post_support", "type": "ordinal", "primary": True},
        {"name": "post_join", "type": "binary"},
    ],
}


def test_run_turns_separation_into_a_warning_record_and_emits_no_model_row():
    rng = np.random.default_rng(11)
    n = 40
    d = pd.DataFrame(
        {
            "arm": np.repeat(["control", "care", "fairness"], n),
            # care answers only 4-5 while the control and fairness answer 1-3: separated.
            "post_support": np.concatenate(
                [rng.integers(1, 4, n), rng.integers(4, 6, n), rng.integers(1, 4, n)]
            ).astype(float),
            # Nobody in fairness joins: its log odds ratio is -infinity.
            "post_join": np.concatenate(
                [rng.integers(0, 2, n), rng.integers(0, 2, n), np.zeros(n, dtype=int)]
            ),
        }
    )
    res = analysis.run(d, PLAN)
    json.dumps(res, allow_nan=False)
    got = {(w["outcome"], w["method"]): w for w in res["warnings"] if w["code"] == "separation"}
    assert set(got) == {("post_support", "ordinal_logit"), ("post_join", "logit")}
    assert got["post_join", "logit"]["arm"] == "fairness"
    assert got["post_join", "logit"]["message"] == (
        "logit not estimated: outcome 'post_join': every participant in arm 'fairness' has "
        "the value 0, so the log odds ratio of arm 'fairness' is unbounded (separation): the "
        "logit model has no finite estimate and is not fitted"
    )
    assert got["post_support", "ordinal_logit"] == {
        "code": "separation",
        "message": "ordinal_logit not estimated: outcome 'post_support': arm 'control' has no "
        "answers in categories 4-5, arm 'care' has no answers in categories 1-3 and arm "
        "'fairness' has no answers in categories 4-5, so the log odds ratio of arm 'care' is "
        "unbounded (separation): the proportional-odds model has no finite estimate and is not "
        "fitted",
        "outcome": "post_support",
        "arm": "care",
        "method": "ordinal_logit",
    }
    methods = {(e["outcome"], e["method"]) for e in res["effects"]}
    assert ("post_support", "ordinal_logit") not in methods
    assert ("post_join", "logit") not in methods
    # The other estimators still report both outcomes.
    assert ("post_support", "difference_in_means") in methods
    assert ("post_join", "difference_in_means") in methods


# --- the same answer whatever the BLAS kernel --------------------------------------------

PROBE = r"""
import json, sys
import numpy as np, pandas as pd
import analysis

def outcome(fn):
    try:
        r = fn()
    except ValueError as e:
        return {"error": type(e).__name__, "message": str(e)}
    return {"estimate": r["estimate"].tolist(), "std_error": r["std_error"].tolist()}

sep = pd.DataFrame({"arm": ["c"] * 30 + ["t"] * 30, "y": [1] * 26 + [2] * 8 + [3] * 26})
rng = np.random.default_rng(5)
n = 300
arm = np.repeat(["c", "t", "u"], n)
ordinal = pd.DataFrame({"arm": arm, "y": rng.integers(1, 8, 3 * n) + (arm == "t"), "x": rng.normal(size=3 * n)})
binary = ordinal.assign(y=(ordinal["y"] > 4).astype(int))
ctl0 = binary.assign(y=np.where(arm == "c", 0, binary["y"]))
x = (arm == "t") + 1e-6 * rng.normal(size=3 * n)
near = ordinal.assign(x=x)
sorted_by_x = binary.assign(y=(binary["x"] > 0).astype(int))
run_plan = {"arm": "arm", "control": "c", "outcomes": [{"name": "y", "type": "binary"}],
            "covariates": ["x"], "ri_draws": 100, "seed": 1}
fallback = analysis.run(sorted_by_x, run_plan)
from tests.analysis import test_estimators_input as existing
existing.test_ordinal_logit_explains_separated_categories_instead_of_a_linear_algebra_error()
print(json.dumps({
    "existing_test": "passed",
    "separated_ordinal": outcome(lambda: analysis.ordinal_logit(sep, "y", "arm", "c")),
    "separated_logit": outcome(lambda: analysis.logit(ctl0, "y", "arm", "c")),
    "ordinal": outcome(lambda: analysis.ordinal_logit(ordinal, "y", "arm", "c", covariates=["x"])),
    "logit": outcome(lambda: analysis.logit(binary, "y", "arm", "c", covariates=["x"])),
    "lin_near_singular": outcome(lambda: analysis.lin(near, "y", "arm", "c", ["x"])),
    "separated_by_covariate": outcome(
        lambda: analysis.logit(sorted_by_x, "y", "arm", "c", covariates=["x"])
    ),
    "run_covariates_dropped": {
        "warnings": sorted(w["code"] for w in fallback["warnings"]),
        "logit": [(e["arm"], e["covariates"]) for e in fallback["effects"] if e["method"] == "logit"],
    },
}))
"""


def _blas_env(coretype: str | None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def _has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


# Prescott (SSE3) runs on every x86-64 CPU; it is the kernel under which the old
# linear-algebra-based detection returned estimate 41.5 with an undefined SE.
KERNELS = ["Prescott", *(["Haswell"] if _has_avx2() else [])]

needs_x86 = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="OPENBLAS_CORETYPE kernels are x86"
)


@needs_x86
def test_outcomes_and_the_existing_separation_test_agree_under_each_openblas_kernel():
    runs = {}
    for kernel in [None, *KERNELS]:
        out = subprocess.run(
            [sys.executable, "-c", PROBE],
            env=_blas_env(kernel),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        runs[kernel] = json.loads(out.stdout)
    base = runs[None]
    # test_estimators_input's separation test ran (and passed) in every subprocess.
    assert {r["existing_test"] for r in runs.values()} == {"passed"}
    assert base["separated_ordinal"]["error"] == "SeparationError"
    assert base["separated_logit"]["error"] == "SeparationError"
    assert base["lin_near_singular"]["error"] == "NumericalError"
    # Covariates that sort the answers: decided by the linear program, not by the BLAS,
    # and run falls back to the arm-only model with a warning (issue 19).
    assert base["separated_by_covariate"]["error"] == "SeparationError"
    assert "covariates_dropped" in base["run_covariates_dropped"]["warnings"]
    assert base["run_covariates_dropped"]["logit"] == [["t", ""], ["u", ""]]
    assert "estimate" in base["ordinal"] and "estimate" in base["logit"]
    for kernel in KERNELS:
        other = runs[kernel]
        assert other.keys() == base.keys()
        for case, want in base.items():
            got = other[case]
            if not isinstance(want, dict) or "estimate" not in want:
                assert got == want, (kernel, case)
            else:
                for key in ("estimate", "std_error"):
                    np.testing.assert_allclose(got[key], want[key], rtol=1e-8, atol=0)
