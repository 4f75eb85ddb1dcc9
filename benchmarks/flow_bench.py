"""Participant-flow benchmark: the same load against framelab, the reference app, hello and oTree.

Every app is served by the same gunicorn command (gthread workers, app preloaded) on
127.0.0.1 and driven by `framelab.testing.loadgen` at each concurrency level; oTree runs
under its own `otree prodserver` from a separate virtualenv. framelab and the reference app
run once over SQLite and once over PostgreSQL (a private schema, dropped afterwards).
"""

from __future__ import annotations

import contextlib
import cProfile
import os
import pstats
import random
import shutil
import statistics
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml

from benchmarks import otree_runner
from benchmarks.machine import postgres_cpu_seconds
from framelab.domain.study_sections import MAX_TARGET_N
from framelab.testing.checks import check_database
from framelab.testing.loadgen import LoadResult, run_load
from framelab.testing.server import (
    EXAMPLE_STUDY,
    FRAMELAB_APP,
    GunicornServer,
    prepare_database,
)

ROOT = Path(__file__).resolve().parents[1]
SLUG = "torture-ban"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# 2 cores: two workers with four threads each keep both cores busy while a thread waits on
# the database; more processes only add context switches and memory (docs/deploy.md).
WORKERS = 2
THREADS = 4
# Each level is split into interleaved rounds over the apps served side by side.
ROUNDS = 4
# The latency target (p99 at 50 concurrent participants) is also measured with people's pace.
PACED_LEVEL = 50
PACED_THINK_S = 1.0
# Participants still walking this long after a timed window are abandoned (counted): at
# saturation a slow server would otherwise keep the run going for minutes.
MAX_TAIL_S = 30.0


@dataclass(frozen=True)
class Target:
    app: str  # framelab | reference | hello | otree
    backend: str  # sqlite | postgresql | "" (no database)
    revision: str = ""  # framelab only: serve this git revision instead of the working tree

    @property
    def name(self) -> str:
        app = f"{self.app}@{self.revision}" if self.revision else self.app
        return f"{app}/{self.backend}" if self.backend else app


def checkout(revision: str, workdir: Path) -> Path:
    """A detached git worktree of `revision` in `workdir` (removed with the workdir).

    Served with PYTHONPATH pointing at it, so its `framelab` package is imported instead of
    the working tree's (the editable install's finder comes after PYTHONPATH).
    """
    path = workdir / f"rev-{revision.replace('/', '_')}"
    if not path.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(path), revision],
            check=True,
        )
    return path


def postgres_base_url() -> str:
    return (
        os.environ.get("FRAMELAB_BENCH_POSTGRES_URL")
        or os.environ.get("FRAMELAB_TEST_DATABASE_URL")
        or DEFAULT_POSTGRES
    )


def postgres_available(url: str) -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """An empty database: a SQLite file in `workdir`, or a private PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / ('bench-' + uuid.uuid4().hex[:8] + '.sqlite')}"
        return
    base = postgres_base_url()
    schema = "bench_" + uuid.uuid4().hex[:10]
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def gunicorn_for(target: Target, url: str | None, workdir: Path) -> GunicornServer:
    """The one gunicorn command every app is served with (only the app differs)."""
    env = {"FRAMELAB_BENCH_STUDY": str(EXAMPLE_STUDY)}
    cwd = None
    if target.revision:
        cwd = checkout(target.revision, workdir)
        env["PYTHONPATH"] = str(cwd)
    app = {
        "framelab": FRAMELAB_APP,
        "reference": "benchmarks.reference_app:create_app()",
        "hello": "benchmarks.hello_app:create_app()",
    }[target.app]
    return GunicornServer(
        app,
        database_url=url,
        workers=WORKERS,
        worker_class="gthread",
        threads=THREADS,
        extra_args=["--preload"],
        env=env,
        cwd=cwd,
    )


# The example study closes at 2,000 completions; a full run takes more participants than
# that, so the benchmark loads it with a target no run reaches. The target check (a count
# of completed participants on every study-link request) still runs, as in production.
UNREACHED_TARGET = MAX_TARGET_N  # the largest target a study may declare (10 million)


def bench_study(workdir: Path) -> Path:
    """The example study with a target no benchmark reaches."""
    data = yaml.safe_load(EXAMPLE_STUDY.read_text(encoding="utf-8"))
    data["target_n"] = UNREACHED_TARGET
    path = workdir / "bench-study.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def prepare(target: Target, url: str | None, workdir: Path) -> None:
    if target.app == "framelab":
        prepare_database(url, bench_study(workdir))
    elif target.app == "reference":
        from benchmarks.reference_app import create_schema

        create_schema(url)


@dataclass
class FlowRun:
    target: str
    concurrency: int
    result: LoadResult
    integrity: dict | None = None
    rounds: list[LoadResult] | None = None
    # The server's CPU time (master and workers, user + system) per completed participant,
    # round by round: far steadier than the rate when other work shares the machine.
    cpu_ms_per_participant: list[float | None] | None = None
    # PostgreSQL's CPU time per completed participant, round by round (PostgreSQL on this
    # machine only: benchmarks.machine reads its processes' /proc times).
    db_cpu_ms_per_participant: list[float | None] | None = None
    # PostgreSQL only: statements per participant by kind (benchmarks.statements).
    statements: dict | None = None

    def record(self) -> dict:
        summaries = [r.summary() for r in self.rounds or []]
        return {
            "target": self.target,
            **self.result.summary(),
            "rounds_participants_per_s": [s["participants_per_s"] for s in summaries],
            "rounds_p99_ms": [s["p99_ms"] for s in summaries],
            "rounds_server_cpu_ms_per_participant": self.cpu_ms_per_participant or [],
            "rounds_database_cpu_ms_per_participant": self.db_cpu_ms_per_participant or [],
            "statements_per_participant": self.statements,
            "integrity": self.integrity,
        }


@dataclass
class _Served:
    target: Target
    server: GunicornServer
    url: str | None
    per_participant: float | None


def bench_group(
    targets: list[Target],
    levels: list[int],
    seconds: float,
    workdir: Path,
    *,
    rounds: int = ROUNDS,
    log=print,
    profile_dir: Path | None = None,
) -> list[FlowRun]:
    """Serve the apps side by side and load them in interleaved rounds at every level.

    On a shared two-core machine the speed of the same app drifts by 10-20% from one
    minute to the next; run one app after the other and the ratio measures the drift as
    much as the apps. Here every app is up at once (idle while another is loaded) and each
    level is `rounds` rounds of `seconds / rounds`, visiting the apps in turn (A B, then
    B A); an app's figures pool its rounds.
    """
    runs: list[FlowRun] = []
    with contextlib.ExitStack() as stack:
        served: list[_Served] = []
        for target in targets:
            url = stack.enter_context(
                database(target.backend, workdir) if target.backend else contextlib.nullcontext()
            )
            prepare(target, url, workdir)
            server = gunicorn_for(target, url, workdir)
            stack.callback(server.close)
            server.start(timeout=60)
            # Warm-up: workers import lazily-loaded modules and fill caches on first use.
            warm = run_load(server.base_url, f"/s/{SLUG}", concurrency=4, participants=8, seed=99)
            per = warm.completed_requests / warm.completed if warm.completed else None
            served.append(_Served(target, server, url, per))
        plan = [(level, 0.0, seconds) for level in levels]
        if PACED_LEVEL in levels:
            # Below saturation: the same participants, each taking ~1 s per page.
            plan.append((PACED_LEVEL, PACED_THINK_S, max(seconds, 8.0)))
        for level, think, duration in plan:
            parts: dict[str, list[LoadResult]] = {s.target.name: [] for s in served}
            cpu: dict[str, list[float | None]] = {s.target.name: [] for s in served}
            db_cpu: dict[str, list[float | None]] = {s.target.name: [] for s in served}
            for n in range(rounds):
                for one in served if n % 2 == 0 else served[::-1]:
                    postgres = one.target.backend == "postgresql"
                    db_used = postgres_cpu_seconds() if postgres else None
                    used = one.server.cpu_seconds()
                    result = run_load(
                        one.server.base_url,
                        f"/s/{SLUG}",
                        concurrency=level,
                        duration=duration / rounds,
                        seed=level * 100 + n + (1 if think else 0),
                        think_time=think,
                        max_tail=MAX_TAIL_S,
                        requests_per_participant=one.per_participant,
                    )
                    used = one.server.cpu_seconds() - used
                    if db_used is not None:
                        db_used = (postgres_cpu_seconds() or db_used) - db_used
                    parts[one.target.name].append(result)
                    cpu[one.target.name].append(_per(used, result.completed))
                    db_cpu[one.target.name].append(_per(db_used, result.completed))
            for one in served:
                mine = parts[one.target.name]
                run = FlowRun(
                    one.target.name,
                    level,
                    LoadResult.combined(mine),
                    rounds=mine,
                    cpu_ms_per_participant=cpu[one.target.name],
                    db_cpu_ms_per_participant=db_cpu[one.target.name],
                )
                runs.append(run)
                log(_line(run))
        for one in served:
            one.server.close()
            if one.target.app != "framelab":
                continue
            mine = [r for r in runs if r.target == one.target.name]
            report = check_database(one.url, SLUG, [a for r in mine for a in r.result.answers])
            for run in mine:
                run.integrity = {**report.summary(), "problems": report.problems()[:10]}
            if profile_dir is not None:
                profile_flow(one.url, profile_dir / f"flow-{one.target.backend}.prof", log=log)
        from benchmarks import statements  # it imports this module

        statements.count_for(targets, runs, workdir, log=log)
    return runs


def bench_target(
    target: Target,
    levels: list[int],
    seconds: float,
    workdir: Path,
    *,
    log=print,
    profile_dir: Path | None = None,
) -> list[FlowRun]:
    """One app on its own (oTree runs from its own virtualenv and server)."""
    if target.app == "otree":
        return otree_runner.bench(levels, seconds, workdir, log=log)
    return bench_group(
        [target], levels, seconds, workdir, rounds=1, log=log, profile_dir=profile_dir
    )


def _line(run: FlowRun) -> str:
    s = run.result.summary()
    paced = f"+{s['think_s']:g}s" if s["think_s"] else ""
    return (
        f"  {run.target:<22} c={run.concurrency:<4}{paced:<5} {s['participants_per_s']:>7.2f} participants/s "
        f"{s['requests_per_s']:>7.1f} req/s  p50 {s['p50_ms']:>7.1f} ms  p95 {s['p95_ms']:>7.1f} ms "
        f"p99 {s['p99_ms']:>7.1f} ms  5xx {s['server_errors']}  net-err {s['transport_errors']}"
        f"{_cpu(run)}"
    )


def _per(seconds: float | None, participants: int) -> float | None:
    """Milliseconds per participant (None when not measured or nobody completed)."""
    return round(1000 * seconds / participants, 3) if seconds is not None and participants else None


def _cpu(run: FlowRun) -> str:
    known = [c for c in run.cpu_ms_per_participant or [] if c is not None]
    db = [c for c in run.db_cpu_ms_per_participant or [] if c is not None]
    text = f"  server CPU {statistics.median(known):.1f} ms/participant" if known else ""
    return text + (f", database {statistics.median(db):.2f} ms" if db else "")


def profile_flow(url: str, out: Path, *, participants: int = 40, log=print) -> None:
    """cProfile (and pyinstrument when installed) of framelab's app code walking the flow.

    The app runs in this process behind Flask's test client: the profile shows framelab's
    own costs per request (views, services, SQL, templates) without gunicorn's.
    """
    from framelab import create_app
    from framelab.testing.forms import fill_form, parse_page

    os.environ["FRAMELAB_DATABASE_URL"] = url
    os.environ.setdefault("FRAMELAB_SECRET_KEY", "bench-profile-" + os.urandom(24).hex())
    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = True
    rng = random.Random(5)

    def walk() -> None:
        with app.test_client() as client:
            response = client.get(f"/s/{SLUG}")
            for _ in range(12):
                forms = [
                    f for f in parse_page(response.get_data(as_text=True))[0] if f.method == "post"
                ]
                forms = [f for f in forms if "withdraw" not in f.action]
                if not forms:
                    return
                data, _ = fill_form(
                    forms[0], rng, fixed={"consent": "yes"}, ignore=frozenset({"website"})
                )
                response = client.post(forms[0].action, data=data, follow_redirects=True)

    walk()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(participants):
        walk()
    profiler.disable()
    out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out)
    with open(out.with_suffix(".txt"), "w") as fh:
        pstats.Stats(profiler, stream=fh).sort_stats("cumulative").print_stats(60)
    log(f"  profile of {participants} participants through the app: {out} (+ .txt)")
    try:
        from pyinstrument import Profiler
    except ImportError:
        log("  pyinstrument not installed: cProfile only")
        return
    profiler = Profiler()
    profiler.start()
    for _ in range(participants):
        walk()
    profiler.stop()
    out.with_suffix(".pyinstrument.html").write_text(profiler.output_html())


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="framelab-bench-"))


def remove_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    # Forget the worktrees of revisions served from it (--before).
    subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=False, capture_output=True)


def otree_status() -> str | None:
    """None when an oTree virtualenv is configured and usable, else why it is skipped."""
    return otree_runner.unavailable()
