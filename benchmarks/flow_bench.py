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
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml

from benchmarks import otree_runner
from framelab.testing.checks import check_database
from framelab.testing.loadgen import LoadResult, run_load
from framelab.testing.server import (
    EXAMPLE_STUDY,
    FRAMELAB_APP,
    GunicornServer,
    prepare_database,
)

SLUG = "torture-ban"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# 2 cores: two workers with four threads each keep both cores busy while a thread waits on
# the database; more processes only add context switches and memory (docs/deploy.md).
WORKERS = 2
THREADS = 4
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

    @property
    def name(self) -> str:
        return f"{self.app}/{self.backend}" if self.backend else self.app


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


def gunicorn_for(target: Target, url: str | None) -> GunicornServer:
    """The one gunicorn command every app is served with (only the app differs)."""
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
        env={"FRAMELAB_BENCH_STUDY": str(EXAMPLE_STUDY)},
    )


# The example study closes at 2,000 completions; a full run takes more participants than
# that, so the benchmark loads it with a target no run reaches. The target check (a count
# of completed participants on every study-link request) still runs, as in production.
UNREACHED_TARGET = 1_000_000_000


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

    def record(self) -> dict:
        return {"target": self.target, **self.result.summary(), "integrity": self.integrity}


def bench_target(
    target: Target,
    levels: list[int],
    seconds: float,
    workdir: Path,
    *,
    log=print,
    profile_dir: Path | None = None,
) -> list[FlowRun]:
    """Serve one app, warm it up, and run the load at every concurrency level."""
    if target.app == "otree":
        return otree_runner.bench(levels, seconds, workdir, log=log)
    runs: list[FlowRun] = []
    with database(target.backend, workdir) if target.backend else contextlib.nullcontext() as url:
        prepare(target, url, workdir)
        server = gunicorn_for(target, url)
        try:
            server.start(timeout=60)
            # Warm-up: workers import lazily-loaded modules and fill caches on first use.
            warm = run_load(server.base_url, f"/s/{SLUG}", concurrency=4, participants=8, seed=99)
            per_participant = warm.completed_requests / warm.completed if warm.completed else None
            for level in levels:
                result = run_load(
                    server.base_url,
                    f"/s/{SLUG}",
                    concurrency=level,
                    duration=seconds,
                    seed=level,
                    max_tail=MAX_TAIL_S,
                    requests_per_participant=per_participant,
                )
                run = FlowRun(target.name, level, result)
                runs.append(run)
                log(_line(run))
            if PACED_LEVEL in levels:
                # Below saturation: the same participants, each taking ~1 s per page.
                result = run_load(
                    server.base_url,
                    f"/s/{SLUG}",
                    concurrency=PACED_LEVEL,
                    duration=max(seconds, 8.0),
                    seed=PACED_LEVEL + 1,
                    think_time=PACED_THINK_S,
                    max_tail=MAX_TAIL_S,
                    requests_per_participant=per_participant,
                )
                run = FlowRun(target.name, PACED_LEVEL, result)
                runs.append(run)
                log(_line(run))
        finally:
            server.close()
        if target.app == "framelab":
            answers = [a for r in runs for a in r.result.answers]
            report = check_database(url, SLUG, answers)
            for run in runs:
                run.integrity = {**report.summary(), "problems": report.problems()[:10]}
            if profile_dir is not None:
                profile_flow(url, profile_dir / f"flow-{target.backend}.prof", log=log)
    return runs


def _line(run: FlowRun) -> str:
    s = run.result.summary()
    paced = f"+{s['think_s']:g}s" if s["think_s"] else ""
    return (
        f"  {run.target:<22} c={run.concurrency:<4}{paced:<5} {s['participants_per_s']:>7.2f} participants/s "
        f"{s['requests_per_s']:>7.1f} req/s  p50 {s['p50_ms']:>7.1f} ms  p95 {s['p95_ms']:>7.1f} ms "
        f"p99 {s['p99_ms']:>7.1f} ms  5xx {s['server_errors']}  net-err {s['transport_errors']}"
    )


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


def otree_status() -> str | None:
    """None when an oTree virtualenv is configured and usable, else why it is skipped."""
    return otree_runner.unavailable()
