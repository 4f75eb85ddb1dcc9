"""The SMS-blast benchmark (issue 22): open-loop arrivals at human pace, from several test hosts.

A campaign texts its network and most recipients tap the link within minutes. Here
participants arrive as a Poisson process with a rate profile (default: 5,000 over 5
minutes, 50/s in the first minute and the rest spread over the other four), each walking
the example study's real pages, reading every page 3-20 s, one in ten leaving midway.
Arrivals are scheduled ahead and split over one generator process per test host
(`framelab.testing.netns`), so the server sees several source addresses and the
per-source enrolment limit applies as in the field (loopback would be exempt); without
root it falls back to loopback and says so. The server (framelab as `framelab serve`
runs it, gunicorn gthread) and PostgreSQL are pinned to core 0, the generators to core 1.

Then a staircase of constant rates, each step `step_seconds` of arrivals straight after
the previous (people still walking carry over, as in a real ramp); each step is judged by
the pages sent during it, and the first step with p99 >= 500 ms or any error (5xx,
transport, 429) ends it. The headline is the highest rate before that step.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import flow_bench, machine
from benchmarks.burst_stats import combine, staircase_steps
from framelab.commands.survey import WORKER_CONNECTIONS
from framelab.testing import netns
from framelab.testing.checks import check_database
from framelab.testing.loadgen import run_load
from framelab.testing.results import AckedAnswer
from framelab.testing.server import FRAMELAB_APP, GunicornServer, prepare_database

SLUG = flow_bench.SLUG
RESUME = f"/s/{SLUG}/p/{{code}}"
SERVER_CORE, GENERATOR_CORE = 0, 1


@dataclass
class BurstOptions:
    participants: int = 5000
    seconds: float = 300.0
    peak_rate: float = 50.0  # arrivals/s in the first `peak_seconds`
    peak_seconds: float = 60.0
    # 16 source addresses: at 1,000 enrolments per source and minute (the default limit)
    # they admit up to 266 arrivals/s, so the staircase measures the server, not the limit.
    hosts: int = 16
    think: tuple[float, float] = (3.0, 20.0)
    abandon: float = 0.10
    steps: list[float] = field(default_factory=lambda: [20, 40, 60, 80, 100, 120, 150])
    step_seconds: float = 90.0
    p99_limit_ms: float = 500.0
    seed: int = 22
    # gunicorn's worker_connections (None: `framelab serve`'s, WORKER_CONNECTIONS); a
    # blast keeps thousands of connections open (see `serve`).
    worker_connections: int | None = None

    @classmethod
    def quick(cls) -> BurstOptions:
        return cls(participants=600, seconds=60, peak_rate=15, peak_seconds=20,
                   steps=[10, 20, 40, 60], step_seconds=30)  # fmt: skip


def rate_profile(opts: BurstOptions) -> list[tuple[float, float]]:
    """(seconds, arrivals/s) segments: the peak, then the rest spread evenly."""
    peak = min(opts.participants, opts.peak_rate * opts.peak_seconds)
    rest_seconds = opts.seconds - opts.peak_seconds
    if rest_seconds <= 0:
        return [(opts.seconds, opts.participants / opts.seconds)]
    return [(opts.peak_seconds, peak / opts.peak_seconds),
            (rest_seconds, (opts.participants - peak) / rest_seconds)]  # fmt: skip


def arrival_schedule(segments: list[tuple[float, float]], seed: int) -> list[tuple[float, int]]:
    """Arrival times (s from the start) and their segment index, sorted.

    A Poisson process of each segment's rate, conditioned on its expected count: given
    the count, a Poisson process's arrival times are independent and uniform over the
    segment, so the profile's total arrives exactly while the gaps stay exponential.
    """
    rng = random.Random(seed)
    out: list[tuple[float, int]] = []
    start = 0.0
    for index, (seconds, rate) in enumerate(segments):
        n = round(seconds * rate)
        out += sorted((start + rng.uniform(0, seconds), index) for _ in range(n))
        start += seconds
    return out


def split(arrivals: list[tuple[float, int]], parts: int) -> list[list[tuple[float, int]]]:
    """Every `parts`-th arrival to each generator (each gets an even share of every minute)."""
    return [arrivals[k::parts] for k in range(parts)]


@contextlib.contextmanager
def network(hosts: int, log) -> Iterator[tuple[str, list[netns.TestHost | None], str | None]]:
    """(server address, hosts, why loopback) — test hosts, or loopback with the reason."""
    reason = netns.unavailable()
    if reason:
        log(f"  burst: test hosts unavailable ({reason}); generators on loopback, where "
            "the per-source enrolment limit does not apply")  # fmt: skip
        yield "127.0.0.1", [None] * hosts, reason
        return
    with netns.test_hosts(hosts) as net:
        yield net.server_address, list(net.hosts), None


def serve(url: str, host: str, pin: bool, worker_connections: int | None = None) -> GunicornServer:
    """framelab as `framelab serve` runs it (framelab.commands.survey.gunicorn_options).

    A gthread worker holds at most worker_connections connections, idle kept-alive ones
    included, and accepts no more until one closes; kept-alive connections close after 75 s
    idle. Phones in a blast keep theirs open between pages and after the last: at
    gunicorn's default of 1000 per worker new ones waited in the listen queue for that
    expiry, hence `framelab serve`'s WORKER_CONNECTIONS (`--burst-worker-connections 1000`
    shows the difference).
    """
    extra = ["--preload", "--timeout", "60"]
    extra += ["--worker-connections", str(worker_connections or WORKER_CONNECTIONS)]
    server = GunicornServer(
        FRAMELAB_APP,
        database_url=url,
        workers=2,  # serve's default on 2 cores: min(4, max(2, cpus))
        worker_class="gthread",
        threads=4,
        extra_args=extra,
        env={"FRAMELAB_BENCH_STUDY": str(flow_bench.EXAMPLE_STUDY)},
        host=host,
    )
    saved = os.sched_getaffinity(0) if pin else None
    if pin:  # gunicorn inherits this thread's affinity; its workers inherit the master's
        os.sched_setaffinity(0, {SERVER_CORE})
    try:
        server.start(timeout=60)
    finally:
        if saved is not None:
            os.sched_setaffinity(0, saved)
    if pin:
        machine.pin(server.pids(), [SERVER_CORE])
    return server


def run_generators(
    server: GunicornServer,
    hosts: list[netns.TestHost | None],
    segments: list[tuple[float, float]],
    opts: BurstOptions,
    pages: int,
    *,
    seed: int,
    pin: bool,
    staircase: bool = False,
    postgres: bool = False,
) -> dict:
    """Run the arrivals of `segments` from one generator per host; their results combined."""
    arrivals = arrival_schedule(segments, seed)
    tail = pages * opts.think[1] + 120.0  # the slowest walk plus room for slow answers
    workdir = Path(tempfile.mkdtemp(prefix="framelab-burst-"))
    stop_dir = workdir / "stop"
    stop_dir.mkdir()
    windows, start = [], 0.0
    for seconds, _ in segments:
        windows.append((start, start + seconds))
        start += seconds
    epoch = time.time() + 3.0 + 0.5 * len(hosts)  # room for the generators to start
    procs = []
    try:
        for k, (share, host) in enumerate(zip(split(arrivals, len(hosts)), hosts, strict=True)):
            plan = {
                "index": k,
                "base_url": server.base_url,
                "start_path": f"/s/{SLUG}",
                "resume_path": RESUME,
                "epoch": epoch,
                "arrivals": share,
                "seed": seed * 100 + k,
                "think": list(opts.think),
                "abandon": opts.abandon,
                "pages": pages,
                "cpu": GENERATOR_CORE if pin else None,
                "tail": tail,
                "stop_dir": str(stop_dir) if staircase else None,
                "windows": windows,
                "p99_limit_ms": opts.p99_limit_ms,
            }
            (workdir / f"plan-{k}.json").write_text(json.dumps(plan))
            argv = [sys.executable, "-m", "benchmarks.burst_client",
                    str(workdir / f"plan-{k}.json"), str(workdir / f"result-{k}.json")]  # fmt: skip
            procs.append(
                subprocess.Popen(
                    host.command(argv) if host else argv,
                    cwd=flow_bench.ROOT,
                    stdout=open(workdir / f"log-{k}.txt", "w"),  # noqa: SIM115
                    stderr=subprocess.STDOUT,
                )
            )
        database_cpu = machine.postgres_cpu_seconds() if postgres else None
        server_cpu = server.cpu_seconds()
        began = time.time()
        with machine.Sampler(server.host, server.port) as sampler:
            for proc in procs:
                proc.wait(timeout=windows[-1][1] + tail + 120)
        wall = time.time() - began
        server_cpu = server.cpu_seconds() - server_cpu
        if database_cpu is not None:
            database_cpu = machine.postgres_cpu_seconds() - database_cpu
        results = []
        for k, proc in enumerate(procs):
            path = workdir / f"result-{k}.json"
            if proc.returncode != 0 or not path.exists():
                log = (workdir / f"log-{k}.txt").read_text()[-2000:]
                raise RuntimeError(f"burst generator {k} failed ({proc.returncode}):\n{log}")
            results.append(json.loads(path.read_text()))
        stopped = sorted(p.name for p in stop_dir.iterdir())
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    summary = combine(results, segments, windows, opts)
    summary.update(
        wall_s=round(wall, 1),
        server_cpu_s=round(server_cpu, 2),
        database_cpu_s=None if database_cpu is None else round(database_cpu, 2),
        machine=sampler.summary(),
        stop_marks=stopped,
    )
    started = summary["started"]
    summary["server_cpu_ms_per_participant"] = (
        round(1000 * server_cpu / started, 2) if started else None
    )
    if database_cpu is not None and started:
        summary["database_cpu_ms_per_participant"] = round(1000 * database_cpu / started, 2)
    summary["answers"] = [AckedAnswer(*a) for r in results for a in r["answers"]]
    if staircase:
        summary["steps"] = staircase_steps(results, segments, windows, opts)
    return summary


def run_backend(backend: str, opts: BurstOptions, workdir: Path, log) -> dict:
    record: dict = {"backend": backend}
    why_not_pinned = machine.can_pin()
    pin = why_not_pinned is None
    if not pin:
        log(f"  burst: not pinned ({why_not_pinned})")
    record["pinned"] = pin or why_not_pinned
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(flow_bench.database(backend, workdir))
        prepare_database(url, flow_bench.bench_study(workdir))
        address, hosts, loopback_reason = stack.enter_context(network(opts.hosts, log))
        record.update(server_address=address, hosts=len(hosts), loopback_reason=loopback_reason)
        server = serve(url, address, pin, opts.worker_connections)
        stack.callback(server.close)
        record["server_command"] = " ".join(server.command()[1:])
        warm = run_load(server.base_url, f"/s/{SLUG}", concurrency=4, participants=8, seed=99)
        # Form pages: the study link's GET, then a POST and the next page's GET per page.
        pages = max(2, (warm.completed_requests // max(1, warm.completed) - 1) // 2)
        if backend == "postgresql" and pin:
            stack.enter_context(machine.pinned_postgres(SERVER_CORE, record))
        segments = rate_profile(opts)
        log(f"  burst {backend}: {opts.participants} arrivals over {opts.seconds:g} s "
            f"({', '.join(f'{r:g}/s for {s:g} s' for s, r in segments)}) from {len(hosts)} "
            f"{'test hosts' if loopback_reason is None else 'loopback generators'}")  # fmt: skip
        on_postgres = backend == "postgresql"
        burst = run_generators(server, hosts, segments, opts, pages, seed=opts.seed, pin=pin,
                               postgres=on_postgres)  # fmt: skip
        log(_line(backend, burst))
        ladder = [(opts.step_seconds, rate) for rate in opts.steps]
        log(f"  staircase {backend}: {', '.join(f'{r:g}' for r in opts.steps)} arrivals/s, "
            f"{opts.step_seconds:g} s each, until a step fails")  # fmt: skip
        stairs = run_generators(server, hosts, ladder, opts, pages, seed=opts.seed + 1,
                                pin=pin, staircase=True, postgres=on_postgres)  # fmt: skip
        for step in stairs["steps"]:
            log(f"    {step['rate']:>6g}/s  p99 {step['p99_ms']:>8.1f} ms  errors {step['errors']}"
                f"  429 {step['refused_429']}  {'ok' if step['ok'] else 'FAILED'}")  # fmt: skip
        record["gunicorn_log_tail"] = server.log_tail(15)
        server.close()
        acked = burst.pop("answers") + stairs.pop("answers")
        report = check_database(url, SLUG, acked)
        record["integrity"] = {**report.summary(), "problems": report.problems()[:10]}
    record.update(burst=burst, staircase=stairs, sustainable_rate=_sustainable(stairs["steps"]))
    return record


def _sustainable(steps: list[dict]) -> float | None:
    best = None
    for step in steps:
        if not step["ok"]:
            break
        best = step["rate"]
    return best


def _line(backend: str, s: dict) -> str:
    pages = s["pages"]["all"]
    return (f"    {backend}: offered {s['offered_per_s']:.1f}/s served {s['served_per_s']:.1f}/s, "
            f"completed {s['outcomes'].get('completed', 0)}, abandoned {s['outcomes'].get('abandoned', 0)}"
            f" (+{s['abandoned_by_error']} by error), p50/p95/p99 {pages['p50_ms']}/{pages['p95_ms']}/"
            f"{pages['p99_ms']} ms, 5xx {s['server_errors']}, transport {s['transport_errors']}, "
            f"429 {s['refused_429']}, server CPU {s['server_cpu_ms_per_participant']} ms/participant")  # fmt: skip


def run_burst(
    opts: BurstOptions, workdir: Path, log, backends: list[str] | None = None
) -> list[dict]:
    """The burst and the staircase on SQLite and (when it answers) PostgreSQL."""
    records = []
    for backend in backends or ["sqlite", "postgresql"]:
        if backend == "postgresql":
            reason = flow_bench.postgres_available(flow_bench.postgres_base_url())
            if reason:
                log(f"  burst postgresql skipped: PostgreSQL unavailable ({reason})")
                continue
        try:
            records.append(run_backend(backend, opts, workdir, log))
        except Exception as exc:  # one backend's failure must not lose the other's figures
            log(f"  burst {backend} FAILED: {type(exc).__name__}: {exc}")
            records.append({"backend": backend, "error": f"{type(exc).__name__}: {exc}"})
    return records
