"""LoadResult.combined: interleaved rounds of one load pooled into one result."""

from __future__ import annotations

from collections import Counter

from framelab.testing.results import AckedAnswer, LoadResult


def _round(requests: int, latency: float, completed: int) -> LoadResult:
    result = LoadResult(concurrency=10, window=3.0, requests_per_participant=11.0)
    result.started = completed + 1
    result.completed = completed
    result.completed_requests = completed * 11
    result.window_requests = requests
    result.requests = requests
    result.elapsed = 3.5
    result.latencies = [latency] * requests
    result.statuses = Counter({200: requests})
    result.answers = [AckedAnswer(f"p{completed}", "pre", "q", "1")]
    return result


def test_rounds_pool_their_counts_samples_and_windows():
    fast, slow = _round(330, 0.004, 30), _round(110, 0.020, 10)
    pooled = LoadResult.combined([fast, slow])
    assert (pooled.requests, pooled.completed, pooled.started) == (440, 40, 42)
    assert pooled.window == 6.0 and pooled.elapsed == 7.0
    assert pooled.statuses == Counter({200: 440}) and len(pooled.answers) == 2
    # Throughput over the pooled windows: (330 + 110) requests / 6 s / 11 per participant.
    assert abs(pooled.throughput - 440 / 6.0 / 11) < 1e-9
    # Percentiles over every request of every round, not an average of the rounds'.
    assert pooled.percentile(50) == 0.004 and pooled.percentile(99) == 0.020
    # The rounds themselves are untouched.
    assert fast.requests == 330 and len(slow.latencies) == 110
