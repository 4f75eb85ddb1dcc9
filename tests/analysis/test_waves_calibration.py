"""Calibration of the follow-up wave estimates by simulation (issue 21).

Studies are drawn from tests/analysis/waves_dgp.py: effect 0.6 SD at wave 1, 0.3 at wave 2
(half remains), return rates 60% (control) and 45% (frame) independent of the answers.
In a balanced setting (250 per arm) and a small unbalanced one (120 control, 60 frame;
about 72 and 27 returners), 95% intervals must cover the truth at their nominal rate
within Monte-Carlo error: the wave-1 effect (whole sample, as the main report shows it,
and on the returners), the wave-2 effect, and the share remaining (Fieller's interval,
over the draws where the report shows it: the wave-1 effect's interval excludes 0).

For speed the draws are estimated all at once with the closed forms that
:func:`analysis.waves.wave_effects` documents (Welch/HC2 differences in means, the CR2
covariance ``sum_g s_{1k,g} / n_g``, Fieller's set as the inequality it inverts); the first
draws of each setting are also run through ``wave_effects`` and
:func:`analysis.estimators.difference_in_means`, which must agree draw by draw. The
bounds are the binomial 0.05% and 99.95% quantiles of the number of covering draws, so a
correct method fails a check with probability about 0.001; seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.estimators import difference_in_means
from analysis.waves import return_rates, wave_effects
from tests.analysis.waves_dgp import (
    CONTROL,
    EFFECT_W1,
    EFFECT_W2,
    FRAME,
    RETURN_RATES,
    SHARE,
    as_export,
    draw,
)

REPS = 1000
CHECKED = 20  # draws also run through the package's own functions
Z = stats.norm.ppf(0.975)


def covers_at_nominal_rate(hits: np.ndarray, level: float = 0.95) -> bool:
    low, high = stats.binom.ppf([0.0005, 0.9995], hits.size, level)
    return bool(low <= hits.sum() <= high)


def _moments(y: np.ndarray, in_group: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per draw: n, mean and variance (n - 1) of y over in_group (reps x n arrays)."""
    n = in_group.sum(axis=1)
    mean = np.where(in_group, y, 0).sum(axis=1) / n
    dev = np.where(in_group, y - mean[:, None], 0)
    return n, mean, dev, (dev**2).sum(axis=1) / (n - 1)


def _welch(y: np.ndarray, group_t: np.ndarray, group_c: np.ndarray, truth: float):
    n_t, m_t, dev_t, v_t = _moments(y, group_t)
    n_c, m_c, dev_c, v_c = _moments(y, group_c)
    est = m_t - m_c
    se2_t, se2_c = v_t / n_t, v_c / n_c
    se = np.sqrt(se2_t + se2_c)
    df = se**4 / (se2_t**2 / (n_t - 1) + se2_c**2 / (n_c - 1))
    crit = stats.t.ppf(0.975, df)
    return {
        "est": est,
        "se": se,
        "low": est - crit * se,
        "high": est + crit * se,
        "cover": np.abs(est - truth) <= crit * se,
        "dev": (dev_t, dev_c, n_t, n_c),
    }


def _vectorised(d: dict[str, np.ndarray]) -> dict[str, dict]:
    treated = np.broadcast_to(d["treated"], d["first"].shape)
    back = d["returned"] == 1
    whole = _welch(d["first"], treated, ~treated, EFFECT_W1)
    first = _welch(d["first"], treated & back, ~treated & back, EFFECT_W1)
    later = _welch(np.nan_to_num(d["later"]), treated & back, ~treated & back, EFFECT_W2)
    (a_t, a_c, n_t, n_c), (b_t, b_c, _, _) = first["dev"], later["dev"]
    cov = (a_t * b_t).sum(axis=1) / (n_t - 1) / n_t + (a_c * b_c).sum(axis=1) / (n_c - 1) / n_c
    d1, dk, v11, vkk = first["est"], later["est"], first["se"] ** 2, later["se"] ** 2
    stable = (first["low"] > 0) | (first["high"] < 0)
    in_fieller = (dk - SHARE * d1) ** 2 <= Z**2 * (vkk - 2 * SHARE * cov + SHARE**2 * v11)
    share = {"stable": stable, "cover": in_fieller, "cov": cov, "est": dk / d1}
    return {"whole": whole, "first": first, "later": later, "share": share}


@pytest.mark.parametrize(
    ("n_control", "n_frame", "seed"), [(250, 250, 2101), (120, 60, 2102)], ids=["balanced", "small"]
)
def test_wave_intervals_and_the_share_cover_the_planted_truth(n_control, n_frame, seed):
    d = draw(np.random.default_rng(seed), n_control, n_frame, REPS)
    v = _vectorised(d)
    for rep in range(CHECKED):  # the package's own functions give the same answers
        df = as_export(d, rep)
        whole = difference_in_means(df, "support", "arm", CONTROL).iloc[0]
        e = wave_effects(df, "support", "w2_support", "arm", CONTROL, returned="w2_returned")
        e = e.iloc[0]
        assert whole["conf_low"] == pytest.approx(v["whole"]["low"][rep], rel=1e-9)
        assert e["first_conf_high"] == pytest.approx(v["first"]["high"][rep], rel=1e-9)
        assert e["conf_low"] == pytest.approx(v["later"]["low"][rep], rel=1e-9)
        assert e["covariance"] == pytest.approx(v["share"]["cov"][rep], rel=1e-9)
        assert e["share"] == pytest.approx(v["share"]["est"][rep], rel=1e-9)
        assert e["share_stable"] == v["share"]["stable"][rep]
        if e["share_stable"]:
            inside = e["share_conf_low"] <= SHARE <= e["share_conf_high"]
            assert inside == v["share"]["cover"][rep]
    assert covers_at_nominal_rate(v["whole"]["cover"])
    assert covers_at_nominal_rate(v["first"]["cover"])
    assert covers_at_nominal_rate(v["later"]["cover"])
    stable = v["share"]["stable"]
    assert stable.sum() >= REPS // 2  # enough draws where the report shows the share
    assert covers_at_nominal_rate(v["share"]["cover"][stable])
    # return is independent of the answers: the wave-2 estimate is unbiased
    est = v["later"]["est"]
    assert abs(est.mean() - EFFECT_W2) < 4 * est.std(ddof=1) / np.sqrt(REPS)


def test_a_biased_interval_would_fail_the_coverage_check():
    """The check has teeth: 92% or 98% coverage over 1000 draws is refused, 95% accepted."""
    assert not covers_at_nominal_rate(np.arange(REPS) % 100 >= 8)
    assert not covers_at_nominal_rate(np.arange(REPS) % 100 >= 2)
    assert covers_at_nominal_rate(np.arange(REPS) % 20 != 0)


def _flagged(d: dict[str, np.ndarray]) -> np.ndarray:
    """Per draw: the HC2 test of differential return rejects at 5% (n - 2 df)."""
    treated = d["treated"]
    back_t, back_c = d["returned"][:, treated], d["returned"][:, ~treated]
    n_t, n_c = back_t.shape[1], back_c.shape[1]
    p_t, p_c = back_t.mean(axis=1), back_c.mean(axis=1)
    se = np.sqrt(p_t * (1 - p_t) / (n_t - 1) + p_c * (1 - p_c) / (n_c - 1))
    return np.abs(p_t - p_c) / se > stats.t.ppf(0.975, n_t + n_c - 2)


@pytest.mark.parametrize("rates", [RETURN_RATES, {CONTROL: 0.6, FRAME: 0.6}], ids=["gap", "none"])
def test_the_differential_return_flag_finds_the_planted_gap_and_holds_its_level(rates):
    d = draw(np.random.default_rng(2103), 250, 250, REPS, return_rates=rates)
    flagged = _flagged(d)
    for rep in range(CHECKED):  # return_rates gives the same verdict draw by draw
        row = return_rates(as_export(d, rep), "w2_returned", "arm", CONTROL).iloc[1]
        assert bool(row["differential"]) == flagged[rep]
    if rates[FRAME] == rates[CONTROL]:  # no gap: false alarms at the nominal 5%
        assert covers_at_nominal_rate(~flagged)
    else:  # 60% vs 45% with 250 per arm: power about 0.94
        assert flagged.mean() > 0.9
