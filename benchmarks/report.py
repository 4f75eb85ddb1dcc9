"""Ratios against the targets of issue 8, and the printed table."""

from __future__ import annotations

import math
import statistics
from typing import Any

# (name, target description, comparison) — every ratio is measured within one run.
FLOW_VS_REFERENCE = 0.9
FLOW_VS_OTREE = 8.0
P99_AT_50_MS = 60.0
ANALYSIS_VS_FLOOR = 1.5
ANALYSIS_1M_MB = 2048.0
AFTER_VS_BEFORE = 0.97  # issue 18: a cleanup keeps the participant flow at least as fast
DB_CPU_VS_REFERENCE = 2.0  # issue 22: PostgreSQL's CPU per participant, framelab / reference


def before_after(flow: list[dict]) -> list[dict]:
    """framelab against framelab@REV (`--before REV`), round by round of the same run.

    The ratio of each interleaved round's participants/s (after / before); the median is
    the figure, the lowest and highest round its spread.
    """
    rows = []
    for before in flow:
        app, _, backend = before["target"].partition("/")
        if not app.startswith("framelab@"):
            continue
        after = _flow(
            flow, f"framelab/{backend}", before["concurrency"], paced=bool(before.get("think_s"))
        )
        pairs = zip(
            (after or {}).get("rounds_participants_per_s", []),
            before.get("rounds_participants_per_s", []),
            strict=False,
        )
        paced = f" paced {before['think_s']:g}s" if before.get("think_s") else ""
        level = f"flow/{backend} c={before['concurrency']}{paced}"
        rows += _median_round(f"{level}: framelab / {app} participants/s (median round)", pairs)
        # CPU per participant: before / after, so that above 1 means the change is cheaper.
        cpu = zip(
            before.get("rounds_server_cpu_ms_per_participant", []),
            (after or {}).get("rounds_server_cpu_ms_per_participant", []),
            strict=False,
        )
        rows += _median_round(
            f"{level}: server CPU per participant, {app} / framelab (median round)", cpu
        )
    return rows


def _median_round(name: str, pairs) -> list[dict]:
    """One row: the median of the rounds' ratios a / b, with the lowest and highest round."""
    ratios = sorted(r for a, b in pairs if (r := _ratio(a, b)) is not None)
    if not ratios:
        return []
    row = _row(name, statistics.median(ratios), ">=", AFTER_VS_BEFORE)
    row.update(rounds=len(ratios), low=round(ratios[0], 3), high=round(ratios[-1], 3))
    row["name"] += f", {len(ratios)} rounds {ratios[0]:.2f}-{ratios[-1]:.2f}"
    return [row]


def _flow(records: list[dict], target: str, level: int, *, paced: bool = False) -> dict | None:
    for r in records:
        if r["target"] == target and r["concurrency"] == level and bool(r.get("think_s")) == paced:
            return r
    return None


def _median(record: dict, figure: str) -> float | None:
    """The median round of `rounds_<figure>_ms_per_participant` (None when not measured)."""
    known = [v for v in record.get(f"rounds_{figure}_ms_per_participant") or [] if v is not None]
    return statistics.median(known) if known else None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def targets(flow: list[dict], analysis: dict[str, Any]) -> list[dict]:
    """One row per target: measured value, target, met (None when not measured)."""
    rows: list[dict] = []
    levels = sorted({r["concurrency"] for r in flow})
    for backend in ("sqlite", "postgresql"):
        for level in levels:
            fl = _flow(flow, f"framelab/{backend}", level)
            ref = _flow(flow, f"reference/{backend}", level)
            if fl and ref:
                value = _ratio(fl["participants_per_s"], ref["participants_per_s"])
                rows.append(
                    _row(
                        f"flow/{backend} c={level}: framelab / reference",
                        value,
                        ">=",
                        FLOW_VS_REFERENCE,
                    )
                )
                db = _ratio(_median(fl, "database_cpu"), _median(ref, "database_cpu"))
                if db is not None:
                    rows.append(
                        _row(
                            f"flow/{backend} c={level}: database CPU/participant, framelab / ref.",
                            db,
                            "<=",
                            DB_CPU_VS_REFERENCE,
                        )
                    )
            hello = _flow(flow, "hello", level)
            if fl and hello:
                value = _ratio(fl["participants_per_s"], hello["participants_per_s"])
                rows.append(
                    _row(
                        f"flow/{backend} c={level}: framelab / hello (ceiling)", value, "info", None
                    )
                )
            # oTree runs on its own SQLite database: it is compared with framelab on SQLite.
            otree = _flow(flow, "otree/sqlite", level) if backend == "sqlite" else None
            if fl and otree:
                value = _ratio(fl["participants_per_s"], otree["participants_per_s"])
                rows.append(
                    _row(f"flow/{backend} c={level}: framelab / oTree", value, ">=", FLOW_VS_OTREE)
                )
        fl50 = _flow(flow, f"framelab/{backend}", 50)
        if fl50:
            # The median over the interleaved rounds (issue 22), each round's own p99.
            rounds = [p for p in fl50.get("rounds_p99_ms") or [] if p is not None]
            p99 = statistics.median(rounds) if rounds else fl50["p99_ms"]
            rows.append(
                _row(
                    f"flow/{backend} c=50 saturated: framelab p99 (ms), median of "
                    f"{len(rounds) or 1} rounds",
                    p99,
                    "<=",
                    P99_AT_50_MS,
                )
            )
        paced = _flow(flow, f"framelab/{backend}", 50, paced=True)
        if paced:
            rows.append(
                _row(
                    f"flow/{backend} c=50 paced {paced['think_s']:g}s/page: framelab p99 (ms)",
                    paced["p99_ms"],
                    "<=",
                    P99_AT_50_MS,
                )
            )
    for size, entry in sorted(analysis.items(), key=lambda kv: int(kv[0])):
        shared, floor, run = entry.get("shared"), entry.get("floor"), entry.get("run")
        if shared and floor and "wall_s" in shared and "wall_s" in floor:
            value = _ratio(shared["wall_s"], floor["wall_s"])
            limit = ANALYSIS_VS_FLOOR if int(size) == 100_000 else None
            rows.append(
                _row(
                    f"analysis n={int(size):,}: shared estimators / numpy floor",
                    value,
                    "<=" if limit else "info",
                    limit,
                )
            )
        if run and "peak_rss_mb" in run:
            limit = ANALYSIS_1M_MB if int(size) == 1_000_000 else None
            rows.append(
                _row(
                    f"analysis n={int(size):,}: run() peak memory (MB)",
                    run["peak_rss_mb"],
                    "<=" if limit else "info",
                    limit,
                )
            )
    return rows + before_after(flow)


def _row(name: str, value: float | None, op: str, limit: float | None) -> dict:
    met = None
    if value is not None and limit is not None:
        met = value >= limit if op == ">=" else value <= limit
    return {
        "name": name,
        "value": None if value is None else round(value, 3),
        "target": None if limit is None else f"{op} {limit:g}",
        "met": met,
    }


def flow_table(flow: list[dict]) -> str:
    head = (
        f"{'target':<22} {'conc':>5} {'think':>5} {'part/s':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'5xx':>4} {'neterr':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in flow:
        lines.append(
            f"{r['target']:<22} {r['concurrency']:>5} {r.get('think_s') or 0:>5g} "
            f"{r['participants_per_s']:>8.2f} "
            f"{r['requests_per_s']:>8.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['server_errors']:>4} {r['transport_errors']:>6}"
        )
    return "\n".join(lines)


def analysis_table(analysis: dict[str, Any]) -> str:
    head = f"{'n':>10} {'mode':<7} {'wall s':>9} {'peak MB':>9} {'data MB':>9}  note"
    lines = [head, "-" * len(head)]
    for size, entry in sorted(analysis.items(), key=lambda kv: int(kv[0])):
        for mode in ("run", "shared", "floor"):
            r = entry.get(mode)
            if not r:
                continue
            if "error" in r:
                lines.append(
                    f"{int(size):>10,} {mode:<7} {'-':>9} {'-':>9} {'-':>9}  {r['error'][:60]}"
                )
                continue
            note = ""
            if mode == "shared" and "max_rel_diff_vs_floor" in entry:
                note = f"max rel. diff vs floor {entry['max_rel_diff_vs_floor']:.1e}"
            if mode == "run" and r.get("warnings"):
                note = "warnings: " + ", ".join(sorted(set(r["warnings"])))[:60]
            lines.append(
                f"{int(size):>10,} {mode:<7} {r['wall_s']:>9.3f} {r['peak_rss_mb']:>9.1f} "
                f"{r['base_rss_mb']:>9.1f}  {note}"
            )
    return "\n".join(lines)


def targets_table(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        mark = {True: "MET", False: "MISSED", None: ""}[row["met"]]
        value = "n/a" if row["value"] is None else f"{row['value']:.3g}"
        target = row["target"] or ""
        lines.append(f"{row['name']:<58} {value:>9}  {target:<9} {mark}")
    return "\n".join(lines)


def markdown(document: dict) -> str:
    """The run's figures as Markdown tables (pasted into docs/deploy.md after a full run)."""
    out = []
    env = document.get("environment", {})
    out.append(
        f"Run of {document.get('started_at', '?')}: {env.get('cpus')} CPUs, load average at start "
        f"{', '.join(f'{x:.1f}' for x in env.get('load_average') or [])}; {env.get('gunicorn')}."
    )
    flow = [r for r in document.get("flow", []) if "error" not in r]
    if flow:
        out += [
            "",
            "| target | participants | think s/page | participants/s | requests/s | p50 ms | p95 ms | p99 ms | 5xx |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        out += [
            f"| {r['target']} | {r['concurrency']} | {r.get('think_s') or 0:g} | "
            f"{r['participants_per_s']:.2f} | {r['requests_per_s']:.1f} | {r['p50_ms']:.0f} | "
            f"{r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['server_errors']} |"
            for r in flow
        ]
    analysis = document.get("analysis", {})
    if analysis:
        out += ["", "| rows | measurement | wall s | peak MB |", "|---:|---|---:|---:|"]
        for size, entry in sorted(analysis.items(), key=lambda kv: int(kv[0])):
            for mode, label in (
                ("run", "analysis.run (whole plan)"),
                ("shared", "shared estimators"),
                ("floor", "numpy floor"),
            ):
                r = entry.get(mode) or {}
                if "wall_s" in r:
                    out.append(
                        f"| {int(size):,} | {label} | {r['wall_s']:.2f} | {r['peak_rss_mb']:.0f} |"
                    )
    rows = document.get("targets", [])
    if rows:
        out += ["", "| target | measured | goal | |", "|---|---:|---|---|"]
        for row in rows:
            mark = {True: "met", False: "missed", None: ""}[row["met"]]
            value = "n/a" if row["value"] is None else f"{row['value']:.3g}"
            out.append(f"| {row['name']} | {value} | {row['target'] or ''} | {mark} |")
    return "\n".join(out)
