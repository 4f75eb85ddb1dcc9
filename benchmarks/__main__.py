"""`python -m benchmarks` (`make bench`): participant flow and analysis, with ratios.

    python -m benchmarks                 # everything (about 15 minutes on 2 cores)
    python -m benchmarks --quick         # a short run: fewer levels, shorter loads, 10k rows
    python -m benchmarks --only analysis --sizes 100000
    python -m benchmarks --profile       # also write cProfile (+ pyinstrument) profiles
    python -m benchmarks --reliability   # the 200 participants x 60 s reliability run
    python -m benchmarks --only sequential   # anytime-valid monitoring: error rates by simulation
    python -m benchmarks --only burst    # SMS blast: open-loop arrivals from test hosts (issue 22;
                                         # 15-25 min a database, --quick about 6)

Results go to benchmarks/results/bench-<UTC time>.json (and latest.json, plus latest.md:
the figures as Markdown tables for docs/deploy.md); profiles to
benchmarks/results/profiles/. oTree rows need FRAMELAB_OTREE_VENV (see otree_runner).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

from benchmarks import analysis_bench, burst, burst_report, flow_bench, report
from benchmarks.power_bench import run_power
from benchmarks.reliability import run_reliability
from benchmarks.sequential import run_sequential

RESULTS = Path(__file__).resolve().parent / "results"


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="short run (a few minutes)")
    parser.add_argument("--profile", action="store_true", help="write CPU profiles")
    parser.add_argument(
        "--reliability", action="store_true", help="only the 200 x 60 s reliability run"
    )
    parser.add_argument(
        "--only",
        choices=["flow", "analysis", "power", "sequential", "burst"],
        help="run one part only",
    )
    parser.add_argument("--levels", type=_ints, help="concurrency levels (default 10,50,200)")
    parser.add_argument("--seconds", type=float, help="load duration per level (default 12)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=flow_bench.ROUNDS,
        help=f"interleaved rounds per level (default {flow_bench.ROUNDS})",
    )
    parser.add_argument("--sizes", type=_ints, help="analysis sizes (default 10000,100000,1000000)")
    parser.add_argument("--draws", type=int, help="randomization-inference draws (default 10000)")
    parser.add_argument(
        "--targets",
        help="flow targets, e.g. framelab/sqlite,reference/sqlite,hello,framelab@HEAD~3/sqlite",
    )
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also serve framelab as of git revision REV beside the working tree, in the "
        "same interleaved rounds, and print the after/before ratio per round",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    blast = parser.add_argument_group("burst (issue 22; defaults: 5000 over 300 s, peak 50/s)")
    blast.add_argument("--burst-participants", type=int, help="arrivals in the burst")
    blast.add_argument("--burst-seconds", type=float, help="seconds the arrivals last")
    blast.add_argument("--burst-peak", type=float, help="arrivals/s in the first minute")
    blast.add_argument("--burst-peak-seconds", type=float, help="how long the peak lasts")
    blast.add_argument("--burst-hosts", type=int, help="test hosts, one generator each (16)")
    blast.add_argument("--burst-steps", help="staircase rates/s, e.g. 10,20,40,60,80,100")
    blast.add_argument("--burst-step-seconds", type=float, help="seconds per staircase step")
    blast.add_argument(
        "--burst-worker-connections",
        type=int,
        help="gunicorn worker_connections for the burst's server (default: framelab serve's)",
    )
    blast.add_argument(
        "--burst-databases", default="sqlite,postgresql", help="sqlite,postgresql (default both)"
    )
    args = parser.parse_args(argv)
    args.levels = args.levels or ([10, 50] if args.quick else [10, 50, 200])
    args.seconds = args.seconds or (4.0 if args.quick else 12.0)
    args.sizes = args.sizes or ([10_000] if args.quick else [10_000, 100_000, 1_000_000])
    args.draws = args.draws or (2_000 if args.quick else 10_000)
    return args


def burst_options(args: argparse.Namespace) -> burst.BurstOptions:
    opts = burst.BurstOptions.quick() if args.quick else burst.BurstOptions()
    for name, value in (
        ("participants", args.burst_participants),
        ("seconds", args.burst_seconds),
        ("peak_rate", args.burst_peak),
        ("peak_seconds", args.burst_peak_seconds),
        ("hosts", args.burst_hosts),
        ("step_seconds", args.burst_step_seconds),
        ("worker_connections", args.burst_worker_connections),
    ):
        if value is not None:
            setattr(opts, name, value)
    if args.burst_steps:
        opts.steps = [float(x) for x in args.burst_steps.split(",") if x.strip()]
    return opts


def flow_targets(args: argparse.Namespace, log) -> list[flow_bench.Target]:
    if args.targets:
        wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    else:
        wanted = ["framelab/sqlite", "reference/sqlite", "hello", "otree"]
        if not args.quick:
            wanted[2:2] = ["framelab/postgresql", "reference/postgresql"]
    if args.before:
        backends = [n.partition("/")[2] for n in wanted if n.startswith("framelab/")]
        wanted += [f"framelab@{args.before}/{backend}" for backend in backends]
    targets = []
    postgres_reason: str | None = None  # "" once PostgreSQL answered
    for name in wanted:
        app, _, backend = name.partition("/")
        app, _, revision = app.partition("@")
        if app == "otree":
            reason = flow_bench.otree_status()
            if reason:
                log(f"  {reason}")
                continue
            backend = ""
        if backend == "postgresql":
            if postgres_reason is None:
                base = flow_bench.postgres_base_url()
                postgres_reason = flow_bench.postgres_available(base) or ""
            if postgres_reason:
                log(f"  {name} skipped: PostgreSQL unavailable ({postgres_reason})")
                continue
        targets.append(flow_bench.Target(app, backend, revision))
    return targets


def run_flow(args: argparse.Namespace, workdir: Path, log) -> list[dict]:
    log(
        f"Participant flow: levels {args.levels}, {args.seconds:g} s each, "
        f"in {args.rounds} interleaved rounds"
    )
    records: list[dict] = []
    profiles = args.out / "profiles" if args.profile else None
    # Apps on the same database are loaded side by side in interleaved rounds (their
    # ratio is what counts); the bare hello app goes with the SQLite group, oTree alone.
    groups: dict[str, list[flow_bench.Target]] = {}
    for target in flow_targets(args, log):
        key = "otree" if target.app == "otree" else (target.backend or "sqlite")
        groups.setdefault(key, []).append(target)
    for key, targets in groups.items():
        try:
            if key == "otree":
                runs = flow_bench.bench_target(
                    targets[0], args.levels, args.seconds, workdir, log=log
                )
            else:
                runs = flow_bench.bench_group(
                    targets,
                    args.levels,
                    args.seconds,
                    workdir,
                    rounds=args.rounds,
                    log=log,
                    profile_dir=profiles,
                )
        except Exception as exc:  # one broken group must not lose the others' figures
            names = ", ".join(t.name for t in targets)
            log(f"  {names} FAILED: {type(exc).__name__}: {exc}")
            records += [
                {"target": t.name, "error": f"{type(exc).__name__}: {exc}"} for t in targets
            ]
            continue
        records += [run.record() for run in runs]
    return records


def run_analysis(args: argparse.Namespace, log) -> dict:
    log(f"Analysis: sizes {args.sizes}, {args.draws} randomization draws")
    results: dict[str, dict] = {}
    profiles = args.out / "profiles"
    for n in args.sizes:
        entry: dict = {}
        timeout = 120 + n / 500
        for mode in ("floor", "shared", "run"):
            profile = None
            if args.profile and mode == "run":
                profiles.mkdir(parents=True, exist_ok=True)
                profile = str(profiles / f"analysis-{n}.prof")
            entry[mode] = analysis_bench.measure(
                mode, n, args.draws, timeout=timeout, profile=profile
            )
            r = entry[mode]
            if "error" in r:
                log(f"  n={n:,} {mode}: {r['error'][:200]}")
            else:
                log(f"  n={n:,} {mode:<6} {r['wall_s']:8.3f} s  peak {r['peak_rss_mb']:7.1f} MB")
        if all("estimates" in entry[m] for m in ("floor", "shared")):
            entry["max_rel_diff_vs_floor"] = analysis_bench.max_relative_difference(
                entry["shared"]["estimates"], entry["floor"]["estimates"]
            )
        for mode in ("floor", "shared"):
            entry[mode].pop("estimates", None)
        results[str(n)] = entry
    return results


def environment() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "gunicorn": f"{flow_bench.WORKERS} gthread workers x {flow_bench.THREADS} threads, --preload",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def log(line: str) -> None:
        print(line, flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    document: dict = {
        "started_at": started.isoformat(timespec="seconds"),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": environment(),
    }
    workdir = flow_bench.make_workdir()
    try:
        if args.reliability:
            log("Reliability: 200 concurrent participants for 60 s per database")
            document["reliability"] = run_reliability(workdir, log=log)
            ok = all(r["ok"] for r in document["reliability"])
        else:
            flow = run_flow(args, workdir, log) if args.only in (None, "flow") else []
            analysis = run_analysis(args, log) if args.only in (None, "analysis") else {}
            if args.only in (None, "power"):  # issue 19: simulated power of the demo design
                log("Power for the exact design (framelab power)")
                document["power"] = run_power(log=log)
            if args.only in (None, "sequential"):  # issue 20: anytime-valid monitoring
                log("Anytime-valid monitoring: error rates by simulation (looks, N, MC error)")
                document["sequential"] = run_sequential(quick=args.quick, log=log)
            if args.only in (None, "burst"):  # issue 22: the SMS blast
                log("Burst: open-loop arrivals at human pace from test hosts, then a staircase")
                document["burst"] = burst.run_burst(
                    burst_options(args),
                    workdir,
                    log,
                    backends=[b.strip() for b in args.burst_databases.split(",") if b.strip()],
                )
            measured = [r for r in flow if "error" not in r]
            document.update(
                flow=flow, analysis=analysis, targets=report.targets(measured, analysis)
            )
            log("")
            if measured:
                log(report.flow_table(measured))
                log("")
            if analysis:
                log(report.analysis_table(analysis))
                log("")
            if document.get("burst"):
                log(burst_report.burst_table(document["burst"]))
                log("")
            log("Targets (ratios measured in this run):")
            log(report.targets_table(document["targets"]))
            ok = True
    finally:
        flow_bench.remove_workdir(workdir)
    document["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(document, indent=2, default=str)
    (args.out / f"bench-{stamp}.json").write_text(text)
    (args.out / "latest.json").write_text(text)
    if not args.reliability:
        text = report.markdown(document)
        if document.get("burst"):
            text += "\n" + burst_report.burst_markdown(document["burst"])
        (args.out / "latest.md").write_text(text + "\n")
    log(f"\nResults: {args.out / f'bench-{stamp}.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
