"""Proof by simulation that the confidence sequences may be looked at every day.

Bounded to well under a minute (vectorised numpy, benchmarks.sequential): a look after
every 50 participants up to 3,000. `python -m benchmarks --only sequential` runs the
full table with more studies and settings.
"""

from __future__ import annotations

from benchmarks.sequential import simulate


def test_under_no_effect_continuous_monitoring_keeps_the_error_rate_at_most_five_percent():
    result = simulate(effect=0.0, every=50, max_n=3000, runs=4000, seed=11)
    print(
        f"\nno effect, {result.looks} looks up to {result.max_n}: any look's anytime-valid "
        f"interval excludes 0 in {result.any_excludes_truth:.2%} of {result.runs} studies "
        f"(MC error {result.mc_error:.2%}); the naive fixed-sample 95% interval in "
        f"{result.naive_any_excludes_truth:.2%} (MC error {result.naive_mc_error:.2%})"
    )
    assert result.any_excludes_truth <= 0.05 + 2 * result.mc_error
    assert result.naive_any_excludes_truth > 0.2  # the peeking problem: far above 5%


def test_on_a_likert_outcome_the_error_rate_stays_at_most_five_percent():
    result = simulate(effect=0.0, outcome="likert7", every=50, max_n=3000, runs=2000, seed=12)
    print(f"\nlikert, no effect: {result.any_excludes_truth:.2%} (MC {result.mc_error:.2%})")
    assert result.any_excludes_truth <= 0.05 + 2 * result.mc_error


def test_under_a_planted_effect_the_sequence_covers_the_truth_at_every_look():
    result = simulate(effect=0.15, every=50, max_n=3000, runs=3000, seed=13)
    print(
        f"\neffect 0.15 SD: covers the truth at all {result.looks} looks in "
        f"{result.covers_all_looks:.2%} of {result.runs} studies; the efficacy rule stops "
        f"{result.rejects_zero:.1%} of them by {result.max_n}, at a median of "
        f"{result.median_stop_n:.0f} participants (fixed design for 80% power: "
        f"{result.fixed_n})"
    )
    assert result.covers_all_looks >= 0.95
    assert result.rejects_zero > 0.8
    assert result.median_stop_n < result.max_n
