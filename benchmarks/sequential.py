"""Calibration of the anytime-valid confidence sequences (analysis.sequential) by simulation.

Two-arm studies (block-randomized pairs, outcome normal or 7-point Likert) are looked at
every `every` participants up to `max_n`. At each look the difference in means and its
Neyman standard error come from running sums, so many thousands of studies take seconds:

- under no effect, the share of studies in which *any* look's confidence sequence
  excludes 0 (the anytime type-I error, at most alpha), next to the same share for the
  naive fixed-sample 95% interval looked at as often (far above alpha);
- under a planted effect, the share of studies whose sequence covers the truth at every
  look (at least 1 - alpha), and the median participants at which the efficacy rule
  first says "you may stop", next to the fixed design's N for 80% power.

`python -m benchmarks --only sequential` prints the full table; tests/analysis/
test_sequential_simulation.py runs a bounded version in the suite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from analysis.sequential import cs_radius, optimal_rho2

ALPHA = 0.05


@dataclass(frozen=True)
class Calibration:
    """One simulated setting and its operating characteristics."""

    effect: float  # planted difference in means, in outcome SDs
    outcome: str  # "normal" or "likert7"
    every: int
    max_n: int
    runs: int
    looks: int
    any_excludes_truth: float  # share of runs where some look's CS misses the truth
    naive_any_excludes_truth: float  # the same for the fixed-sample 95% interval
    covers_all_looks: float  # 1 - any_excludes_truth
    rejects_zero: float  # share of runs where the efficacy rule fires by max_n
    median_stop_n: float | None  # median participants at the first "you may stop"
    fixed_n: int | None  # the fixed design's N for 80% power at this effect

    @property
    def mc_error(self) -> float:
        """Monte-Carlo standard error of `any_excludes_truth`."""
        p = self.any_excludes_truth
        return math.sqrt(max(p * (1 - p), 1e-12) / self.runs)

    @property
    def naive_mc_error(self) -> float:
        p = self.naive_any_excludes_truth
        return math.sqrt(max(p * (1 - p), 1e-12) / self.runs)


def fixed_design_n(effect: float, alpha: float = ALPHA, power: float = 0.8) -> int:
    """Total N (two equal arms) of the fixed-sample z-test with this power at `effect` SDs."""
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return 2 * math.ceil(2 * (z / effect) ** 2)


def _outcomes(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> np.ndarray:
    if kind == "normal":
        return rng.standard_normal(shape)
    # a skewed 7-point answer scale, standardised to mean 0 and SD 1
    probs = np.array([0.05, 0.07, 0.1, 0.18, 0.25, 0.2, 0.15])
    points = np.arange(1, 8, dtype=float)
    mean = probs @ points
    sd = math.sqrt(probs @ (points - mean) ** 2)
    return (rng.choice(points, size=shape, p=probs) - mean) / sd


def simulate(
    *,
    effect: float = 0.0,
    outcome: str = "normal",
    every: int = 50,
    max_n: int = 3000,
    runs: int = 2000,
    seed: int = 0,
    alpha: float = ALPHA,
    chunk: int = 500,
) -> Calibration:
    """Simulate `runs` studies looked at every `every` participants up to `max_n`.

    The sequence is tuned to `max_n` (the study's target, as the plan's default does).
    """
    rng = np.random.default_rng(seed)
    looks = np.arange(every, max_n + 1, every)
    rho2 = optimal_rho2(max_n, alpha)
    z = norm.ppf(1 - alpha / 2)
    miss, naive_miss, rejects, stops = [], [], [], []
    pairs = max_n // 2
    for start in range(0, runs, chunk):
        r = min(chunk, runs - start)
        # each pair of arrivals is one block: one to each arm, in random order
        first_treated = rng.random((r, pairs)) < 0.5
        treated = np.empty((r, 2 * pairs), dtype=bool)
        treated[:, 0::2] = first_treated
        treated[:, 1::2] = ~first_treated
        y = _outcomes(rng, (r, 2 * pairs), outcome) + effect * treated
        t = treated.astype(float)
        c = 1.0 - t
        idx = looks - 1
        n_t = np.cumsum(t, axis=1)[:, idx]
        n_c = np.cumsum(c, axis=1)[:, idx]
        s_t = np.cumsum(y * t, axis=1)[:, idx]
        s_c = np.cumsum(y * c, axis=1)[:, idx]
        q_t = np.cumsum(y * y * t, axis=1)[:, idx]
        q_c = np.cumsum(y * y * c, axis=1)[:, idx]
        m_t, m_c = s_t / n_t, s_c / n_c
        v_t = (q_t - n_t * m_t**2) / (n_t - 1)
        v_c = (q_c - n_c * m_c**2) / (n_c - 1)
        est = m_t - m_c
        se = np.sqrt(v_t / n_t + v_c / n_c)
        radius = cs_radius(looks[None, :], se, rho2, alpha)
        miss.append(np.any(np.abs(est - effect) > radius, axis=1))
        naive_miss.append(np.any(np.abs(est - effect) > z * se, axis=1))
        fired = est - radius > 0
        rejects.append(fired.any(axis=1))
        first = np.where(fired.any(axis=1), looks[np.argmax(fired, axis=1)], np.nan)
        stops.append(first)
    miss_rate = float(np.concatenate(miss).mean())
    stop_n = np.concatenate(stops)
    fired_any = np.concatenate(rejects)
    return Calibration(
        effect=effect,
        outcome=outcome,
        every=every,
        max_n=max_n,
        runs=runs,
        looks=len(looks),
        any_excludes_truth=miss_rate,
        naive_any_excludes_truth=float(np.concatenate(naive_miss).mean()),
        covers_all_looks=1.0 - miss_rate,
        rejects_zero=float(fired_any.mean()),
        median_stop_n=float(np.median(np.where(np.isnan(stop_n), max_n, stop_n)))
        if effect
        else None,
        fixed_n=fixed_design_n(effect, alpha) if effect else None,
    )


SETTINGS = (
    {"effect": 0.0, "outcome": "normal", "every": 50, "max_n": 3000},
    {"effect": 0.0, "outcome": "likert7", "every": 50, "max_n": 3000},
    {"effect": 0.0, "outcome": "normal", "every": 10, "max_n": 3000},
    {"effect": 0.0, "outcome": "normal", "every": 50, "max_n": 10000},
    {"effect": 0.1, "outcome": "normal", "every": 50, "max_n": 3000},
    {"effect": 0.15, "outcome": "normal", "every": 50, "max_n": 3000},
    {"effect": 0.2, "outcome": "likert7", "every": 50, "max_n": 3000},
)


def table(rows: list[Calibration]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| effect | outcome | looks (every) | N | runs | CS misses truth at some look "
        "(MC error) | naive 95% CI misses (MC error) | CS covers at all looks | "
        "efficacy stops by N | median stop n | fixed design N (80%) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.effect:g} | {r.outcome} | {r.looks} ({r.every}) | {r.max_n} | {r.runs} | "
            f"{r.any_excludes_truth:.4f} ({r.mc_error:.4f}) | "
            f"{r.naive_any_excludes_truth:.4f} ({r.naive_mc_error:.4f}) | "
            f"{r.covers_all_looks:.4f} | {r.rejects_zero:.3f} | "
            f"{'' if r.median_stop_n is None else f'{r.median_stop_n:.0f}'} | "
            f"{'' if r.fixed_n is None else r.fixed_n} |"
        )
    return "\n".join(lines)


def run_sequential(*, runs: int = 20_000, quick: bool = False, log=print) -> list[dict]:
    """Every setting of SETTINGS; prints the table; returns the records for the JSON."""
    rows = []
    for i, setting in enumerate(SETTINGS):
        n_runs = runs // 5 if quick else runs
        if setting["max_n"] > 3000 or setting["every"] < 50:
            n_runs //= 4
        rows.append(simulate(**setting, runs=n_runs, seed=1000 + i))
    text = table(rows)
    log(text)
    return [
        {**r.__dict__, "mc_error": r.mc_error, "naive_mc_error": r.naive_mc_error} for r in rows
    ]
