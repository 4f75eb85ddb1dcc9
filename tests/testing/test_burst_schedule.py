"""The burst benchmark's arrival schedule (benchmarks/burst.py, issue 22) and its step verdicts."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter

from benchmarks.burst import BurstOptions, arrival_schedule, rate_profile, split
from benchmarks.burst_stats import staircase_steps


def test_default_profile_is_a_blast_of_5000_over_5_minutes_peaking_at_50_per_s() -> None:
    segments = rate_profile(BurstOptions())
    assert segments[0] == (60.0, 50.0)
    assert segments[1][0] == 240.0
    assert round(sum(s * r for s, r in segments)) == 5000


def test_counts_per_minute_follow_the_profile() -> None:
    arrivals = arrival_schedule(rate_profile(BurstOptions()), seed=22)
    assert len(arrivals) == 5000
    assert [t for t, _ in arrivals] == sorted(t for t, _ in arrivals)
    per_minute = Counter(int(t // 60) for t, _ in arrivals)
    assert per_minute[0] == 3000  # 50/s for the first minute
    # The other 2,000 spread evenly: each minute ~ Binomial(2000, 1/4), sd about 19.
    for minute in (1, 2, 3, 4):
        assert abs(per_minute[minute] - 500) < 100, per_minute
    assert set(per_minute) == {0, 1, 2, 3, 4}


def test_gaps_are_exponential_like_a_poisson_process() -> None:
    arrivals = arrival_schedule([(600.0, 20.0)], seed=3)
    times = [t for t, _ in arrivals]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    mean = statistics.fmean(gaps)
    assert abs(mean - 1 / 20) < 0.005
    assert 0.9 < statistics.pstdev(gaps) / mean < 1.1  # an exponential's CV is 1


def test_schedule_is_seeded_and_reproducible() -> None:
    segments = rate_profile(BurstOptions.quick())
    assert arrival_schedule(segments, seed=7) == arrival_schedule(segments, seed=7)
    assert arrival_schedule(segments, seed=7) != arrival_schedule(segments, seed=8)


def test_each_generator_gets_an_even_share() -> None:
    arrivals = arrival_schedule([(10.0, 10.0), (10.0, 30.0)], seed=1)
    shares = split(arrivals, 4)
    assert sorted(a for share in shares for a in share) == arrivals
    assert max(map(len, shares)) - min(map(len, shares)) <= 1
    for share in shares:
        assert share == sorted(share)
        assert Counter(step for _, step in share)[1] > 2 * Counter(step for _, step in share)[0]


def test_a_step_fails_on_its_p99_or_on_any_error() -> None:
    segments, windows = [(10.0, 5.0), (10.0, 10.0), (10.0, 20.0)], [(0, 10), (10, 20), (20, 30)]
    pages = [[t / 10, 20.0, "consent", 200] for t in range(100)]  # step 0: fast
    pages += [[10 + t / 10, 20.0 if t < 98 else 900.0, "post", 200] for t in range(100)]
    pages += [[20 + t / 10, 10.0, "pre", 200] for t in range(99)] + [[29.9, 5.0, "pre", 0]]
    result = {"pages": pages, "outcome_by_step": {"0": {"completed": 5}, "1": {"completed": 9},
              "2": {"completed": 19, "failed": 1}}}  # fmt: skip
    steps = staircase_steps([result], segments, windows, BurstOptions())
    assert [s["ok"] for s in steps] == [True, False]  # the step after a failed one is not judged
    assert steps[1]["p99_ms"] == 900.0 and steps[1]["errors"] == 0
    result["outcome_by_step"]["1"] = result["outcome_by_step"].pop("2")
    steps = staircase_steps([result], segments[::2], windows[::2], BurstOptions())
    assert [s["ok"] for s in steps] == [True, False]
    assert steps[1]["transport_errors"] == 1 and steps[1]["failed_participants"] == 1
