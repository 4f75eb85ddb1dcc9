"""The burst generators' results, combined: per-page latency, outcomes, errors, lag, CPU.

Each generator (`benchmarks.burst_client`) reports every page it sent as
[send time s, latency ms, page label, final status] (status 0: no response), its
participants' outcomes (completed, abandoned by choice, refused with 429, failed,
unfinished), its send lag and its own CPU time.
"""

from __future__ import annotations

from collections import Counter, defaultdict

TRANSPORT = 0


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values (None when empty)."""
    if not ordered:
        return None
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank], 1)


def latency(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": percentile(ordered, 50),
        "p95_ms": percentile(ordered, 95),
        "p99_ms": percentile(ordered, 99),
        "max_ms": round(ordered[-1], 1) if ordered else None,
    }


def _counts(pages: list[list]) -> dict:
    statuses = Counter(p[3] for p in pages)
    return {
        "server_errors": sum(n for s, n in statuses.items() if s >= 500),
        "transport_errors": statuses.get(TRANSPORT, 0),
        "refused_429": statuses.get(429, 0),
    }


def combine(results: list[dict], segments, windows, opts) -> dict:
    """One run's figures from its generators' results (pages pooled, lag per generator)."""
    pages = [p for r in results for p in r["pages"]]
    by_label: dict[str, list[float]] = defaultdict(list)
    for p in pages:
        by_label[p[2]].append(p[1])
    outcomes: Counter = Counter()
    for r in results:
        outcomes.update(r["outcomes"])
    seconds = windows[-1][1]
    arrivals = sum(r["arrivals"] for r in results)
    started = sum(r["started"] for r in results)
    served = outcomes.get("completed", 0) + outcomes.get("abandoned", 0)
    generator_cpu = sum(r["cpu_user_s"] + r["cpu_sys_s"] for r in results)
    return {
        "profile": [[s, round(r, 3)] for s, r in segments],
        "arrivals": arrivals,
        "started": started,
        "offered_per_s": round(arrivals / seconds, 2),
        "served_per_s": round(served / seconds, 2),
        "outcomes": dict(outcomes),
        # Whoever neither finished nor chose to leave: refused, failed or still stuck.
        "abandoned_by_error": started - served,
        "pages": {"all": latency([p[1] for p in pages])}
        | {label: latency(v) for label, v in sorted(by_label.items())},
        **_counts(pages),
        "statuses": dict(sum((Counter(r["statuses"]) for r in results), Counter())),
        "retries": sum(r["retries"] for r in results),
        "error_samples": [e for r in results for e in r["server_errors"][:3]]
        + [e for r in results for e in r["transport_samples"][:3]]
        + [e for r in results for e in r["stuck"][:3]],
        "send_lag_s": [r["arrival_lag_s"] | {"generator": r["index"]} for r in results],
        "think_lag_s": [r["think_lag_s"] | {"generator": r["index"]} for r in results],
        "generator_cpu_s": round(generator_cpu, 2),
        "generator_cpu_ms_per_participant": round(1000 * generator_cpu / started, 2)
        if started
        else None,
        "generator_max_rss_mb": round(max(r["max_rss_mb"] for r in results), 1),
    }


def staircase_steps(results: list[dict], segments, windows, opts) -> list[dict]:
    """Each constant-rate step judged by the pages sent while its arrivals ran."""
    pages = [p for r in results for p in r["pages"]]
    steps = []
    for index, ((seconds, rate), (start, end)) in enumerate(zip(segments, windows, strict=True)):
        mine = [p for p in pages if start <= p[0] < end]
        outcomes: Counter = Counter()
        for r in results:
            outcomes.update(r["outcome_by_step"].get(str(index), {}))
        started = sum(outcomes.values())
        counts = _counts(mine)
        figures = latency([p[1] for p in mine])
        failed = outcomes.get("failed", 0) + outcomes.get("unfinished", 0)
        errors = counts["server_errors"] + counts["transport_errors"]
        if not started or (steps and not steps[-1]["ok"]):
            # The staircase stopped before this step, or during it: the generators saw the
            # previous step fail (judged a few seconds after it) and started no more arrivals.
            break
        ok = (
            errors == 0
            and counts["refused_429"] == 0
            and failed == 0
            and outcomes.get("refused", 0) == 0
            and figures["p99_ms"] is not None
            and figures["p99_ms"] < opts.p99_limit_ms
        )
        steps.append(
            {
                "rate": rate,
                "seconds": seconds,
                "arrivals": started,
                "pages_sent": len(mine),
                "pages_per_s": round(len(mine) / seconds, 1),
                **figures,
                "errors": errors,
                **counts,
                "failed_participants": failed,
                "outcomes": dict(outcomes),
                "ok": ok,
            }
        )
    return steps
