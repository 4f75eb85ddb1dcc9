"""The burst benchmark's tables (issue 22): printed by `make bench` and written to latest.md.

Kept beside benchmarks/report.py (the flow and analysis tables), which is near the
400-line limit of a module.
"""

from __future__ import annotations

from typing import Any


def _fmt(value: Any, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def _lag_p99_ms(run: dict) -> float | None:
    known = [g["p99"] for g in run.get("send_lag_s", []) if g.get("n")]
    return round(1000 * max(known), 1) if known else None


def _lag_max_ms(run: dict) -> float | None:
    known = [g["max"] for g in run.get("send_lag_s", []) if g.get("n")]
    return round(1000 * max(known), 1) if known else None


def burst_rows(records: list[dict]) -> list[dict]:
    """One row per backend: the burst's figures, its staircase's headline and the machine."""
    rows = []
    for r in records:
        if "error" in r:
            rows.append({"backend": r["backend"], "error": r["error"]})
            continue
        b, pages = r["burst"], r["burst"]["pages"]["all"]
        rows.append(
            {
                "backend": r["backend"],
                "sources": "loopback" if r.get("loopback_reason") else f"{r['hosts']} test hosts",
                "arrivals": b["arrivals"],
                "offered_per_s": b["offered_per_s"],
                "served_per_s": b["served_per_s"],
                "completed": b["outcomes"].get("completed", 0),
                "abandoned": b["outcomes"].get("abandoned", 0),
                "abandoned_by_error": b["abandoned_by_error"],
                "p50_ms": pages["p50_ms"],
                "p95_ms": pages["p95_ms"],
                "p99_ms": pages["p99_ms"],
                "server_errors": b["server_errors"],
                "transport_errors": b["transport_errors"],
                "refused_429": b["refused_429"],
                "send_lag_p99_ms": _lag_p99_ms(b),
                "send_lag_max_ms": _lag_max_ms(b),
                "generator_cpu_s": b["generator_cpu_s"],
                "server_cpu_ms": b["server_cpu_ms_per_participant"],
                "database_cpu_ms": b.get("database_cpu_ms_per_participant"),
                "load_max": b["machine"]["load_1min_max"],
                "connections_max": b["machine"]["server_connections_max"],
                "sustainable_per_s": r.get("sustainable_rate"),
                "integrity_ok": not r.get("integrity", {}).get("problems"),
            }
        )
    return rows


def burst_table(records: list[dict]) -> str:
    """The burst per backend, its per-page latency, and the staircase of constant rates."""
    head = (
        f"{'backend':<11} {'sources':<13} {'arrive':>6} {'offer/s':>7} {'served/s':>8} {'done':>5} "
        f"{'left':>4} {'by err':>6} {'p50':>6} {'p95':>6} {'p99':>7} {'5xx':>4} {'net':>4} "
        f"{'429':>4} {'lag99':>6} {'genCPU':>7} {'srv ms/p':>8} {'db ms/p':>7} {'load':>5} "
        f"{'conns':>5} {'ok':>3}"
    )
    lines = ["Burst (page latency ms: all hops of a page; lag99: send lag p99 ms)", head]
    lines.append("-" * len(head))
    for row in burst_rows(records):
        if "error" in row:
            lines.append(f"{row['backend']:<11} FAILED: {row['error'][:100]}")
            continue
        lines.append(
            f"{row['backend']:<11} {row['sources']:<13} {row['arrivals']:>6} "
            f"{row['offered_per_s']:>7.2f} {row['served_per_s']:>8.2f} {row['completed']:>5} "
            f"{row['abandoned']:>4} {row['abandoned_by_error']:>6} {_fmt(row['p50_ms'], '.1f'):>6} "
            f"{_fmt(row['p95_ms'], '.1f'):>6} {_fmt(row['p99_ms'], '.1f'):>7} "
            f"{row['server_errors']:>4} {row['transport_errors']:>4} {row['refused_429']:>4} "
            f"{_fmt(row['send_lag_p99_ms'], '.1f'):>6} {row['generator_cpu_s']:>7.1f} "
            f"{_fmt(row['server_cpu_ms'], '.2f'):>8} {_fmt(row['database_cpu_ms'], '.2f'):>7} "
            f"{row['load_max']:>5.2f} {_fmt(row['connections_max']):>5} "
            f"{'yes' if row['integrity_ok'] else 'NO':>3}"
        )
    for r in records:
        if "error" in r:
            continue
        lines += ["", f"{r['backend']}: per page (ms)  n  p50  p95  p99"]
        for label, p in r["burst"]["pages"].items():
            lines.append(
                f"  {label:<14} {p['n']:>7} {_fmt(p['p50_ms'], '.1f'):>7} "
                f"{_fmt(p['p95_ms'], '.1f'):>7} {_fmt(p['p99_ms'], '.1f'):>7}"
            )
        lines += ["", f"{r['backend']}: staircase (constant arrival rates; p99 < 500 ms, 0 errors)"]
        lines.append(
            f"  {'rate/s':>6} {'arrivals':>8} {'pages/s':>7} {'p50':>7} {'p95':>7} {'p99':>8} "
            f"{'errors':>6} {'429':>4} {'failed':>6}  ok"
        )
        for s in r["staircase"]["steps"]:
            lines.append(
                f"  {s['rate']:>6g} {s['arrivals']:>8} {s['pages_per_s']:>7.1f} "
                f"{_fmt(s['p50_ms'], '.1f'):>7} {_fmt(s['p95_ms'], '.1f'):>7} "
                f"{_fmt(s['p99_ms'], '.1f'):>8} {s['errors']:>6} {s['refused_429']:>4} "
                f"{s['failed_participants']:>6}  {'yes' if s['ok'] else 'NO'}"
            )
        best = r.get("sustainable_rate")
        lines.append(
            f"  highest sustainable arrival rate: {_fmt(best, 'g')}/s"
            + (f" ({best * 60:g} participants a minute)" if best else "")
        )
    return "\n".join(lines)


def burst_markdown(records: list[dict]) -> str:
    """The burst and staircase tables in Markdown (for latest.md and docs/deploy.md)."""
    out = [
        "",
        "| database | sources | arrivals | offered/s | served/s | completed | abandoned (chosen) "
        "| abandoned by error | p50 ms | p95 ms | p99 ms | 5xx | transport | 429 | send lag p99 ms "
        "| server CPU ms/participant | database CPU ms/participant | load max | sustainable/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in burst_rows(records):
        if "error" in row:
            out.append(f"| {row['backend']} | failed: {row['error'][:80]} |" + " |" * 17)
            continue
        out.append(
            f"| {row['backend']} | {row['sources']} | {row['arrivals']} | {row['offered_per_s']:.1f} "
            f"| {row['served_per_s']:.1f} | {row['completed']} | {row['abandoned']} "
            f"| {row['abandoned_by_error']} | {_fmt(row['p50_ms'], '.0f')} "
            f"| {_fmt(row['p95_ms'], '.0f')} | {_fmt(row['p99_ms'], '.0f')} | {row['server_errors']} "
            f"| {row['transport_errors']} | {row['refused_429']} | {_fmt(row['send_lag_p99_ms'], '.0f')} "
            f"| {_fmt(row['server_cpu_ms'], '.1f')} | {_fmt(row['database_cpu_ms'], '.1f')} "
            f"| {row['load_max']:.1f} | {_fmt(row['sustainable_per_s'], 'g')} |"
        )
    steps = [
        (r["backend"], s) for r in records if "error" not in r for s in r["staircase"]["steps"]
    ]
    if steps:
        out += [
            "",
            "| database | arrivals/s | pages/s | p50 ms | p95 ms | p99 ms | errors | 429 | sustained |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        out += [
            f"| {backend} | {s['rate']:g} | {s['pages_per_s']:.1f} | {_fmt(s['p50_ms'], '.0f')} "
            f"| {_fmt(s['p95_ms'], '.0f')} | {_fmt(s['p99_ms'], '.0f')} | {s['errors']} "
            f"| {s['refused_429']} | {'yes' if s['ok'] else 'no'} |"
            for backend, s in steps
        ]
    return "\n".join(out)
