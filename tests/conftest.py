"""Shared fixtures: database URLs (SQLite always, PostgreSQL when configured) and a real browser."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PG_ENV = "FRAMELAB_TEST_DATABASE_URL"

# The suite's own switches, read from the environment on purpose.
TEST_SWITCHES = frozenset(
    {
        PG_ENV,
        "FRAMELAB_CHROMIUM",
        "FRAMELAB_AXE_JS",
        "FRAMELAB_SIM_QUICK",
        "FRAMELAB_FUZZ_LONG",
        "FRAMELAB_FUZZ_PER_FIELD",  # tests/security/test_studio_fuzz.py
        "FRAMELAB_FUZZ_FULL",  # tests/security/test_studio_fuzz.py
    }
)


def drop_ambient_app_settings(environ) -> list[str]:
    """Remove the app's settings (FRAMELAB_*, DATABASE_URL) that the shell running the suite set.

    framelab reads its configuration from the environment at call time, so a
    FRAMELAB_PROXY_FIX, FRAMELAB_RATELIMIT_ENABLED or DATABASE_URL left in a deploy
    shell would change what the tests check. A test that needs one sets it with
    monkeypatch; subprocesses inherit the cleaned environment.
    """
    dropped = sorted(
        name
        for name in environ
        if name == "DATABASE_URL" or (name.startswith("FRAMELAB_") and name not in TEST_SWITCHES)
    )
    for name in dropped:
        del environ[name]
    return dropped


drop_ambient_app_settings(os.environ)


# ---------------------------------------------------------------- parallel runs (pytest-xdist)
#
# `make test` runs the suite in worker processes (pytest -n). Each worker has its own
# tmp_path tree (xdist gives it a basetemp of its own), its live servers bind port 0, and
# on PostgreSQL it gets a database of its own: the controller creates one per worker on
# the server of FRAMELAB_TEST_DATABASE_URL, hands its URL to the worker (which puts it in
# its environment, so subprocesses and tests reading the variable use it too) and drops
# it when the run ends. A plain `pytest` (no -n) uses the configured database itself.

WORKER_DATABASE = "framelab_test_database_url"  # its key in the worker's workerinput
_WORKER_DATABASES = pytest.StashKey[list]()  # the controller's list of what it created

# Tests that start several CPU-hungry processes (gunicorn services, process pools, the
# 2,000-bot simulation) go to one worker as one unit of work, one after another, so two
# of them never crowd the machine at once; being the largest unit, they start first.
PROCESS_HEAVY = (
    "tests/reliability/",
    "tests/services/test_concurrency.py::",
    "tests/web/test_simulate.py::test_simulated_participants_show_the_planted_effects",
    "tests/web/test_simulate.py::test_parallel_bots_all_finish",
    # the demo twice and the docs' runnable blocks: bots in process pools, reports
    "tests/docs/test_demo_twice.py::",
    "tests/docs/test_docs.py::test_runnable_blocks_run_on_a_fresh_instance",
    # gunicorn and 1,400 enrolments from network namespaces, timed against the minute
    "tests/security/test_carrier_nat_netns.py::",
    # two gunicorn services, nginx and a load run, one service killed mid-run
    "tests/scale/",
)


def worker_database_name(base: str, worker: str, run: str) -> str:
    """`<base>_<worker>_<run>`: unique to one worker of one run, so runs side by side never meet."""
    return f"{base}_{worker}_{run[:8]}".lower()


def _postgres_admin(base_url: str):
    import sqlalchemy as sa

    return sa.create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def create_worker_database(base_url: str, worker: str, run: str) -> str:
    """Create an empty database for one worker on base_url's server; return its URL."""
    import sqlalchemy as sa

    url = sa.make_url(base_url)
    name = worker_database_name(url.database or "test", worker, run)
    engine = _postgres_admin(base_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            # A commit returns before its WAL record reaches the disk (the server still
            # applies it atomically and shows it to every later transaction). Only a crash
            # of the PostgreSQL server itself could lose it, and no test crashes the server:
            # the crash tests kill framelab's processes. Tests that commit participant after
            # participant gain most (150 walked through the report's pages: 3.9 s, not 6.7 s).
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    finally:
        engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_worker_database(base_url: str, worker_url: str) -> None:
    import sqlalchemy as sa

    name = sa.make_url(worker_url).database
    engine = _postgres_admin(base_url)
    try:
        with engine.connect() as conn:
            # FORCE (PostgreSQL 13+): a connection a test leaked must not keep it alive.
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Controller, before a worker starts: give it a PostgreSQL database of its own."""
    base = os.environ.get(PG_ENV)
    if not base:
        return
    worker = node.workerinput["workerid"]
    url = create_worker_database(base, worker, node.workerinput["testrunuid"])
    node.workerinput[WORKER_DATABASE] = url
    node.config.stash.setdefault(_WORKER_DATABASES, []).append(url)


def pytest_configure(config) -> None:
    worker_input = getattr(config, "workerinput", None)
    if worker_input and worker_input.get(WORKER_DATABASE):
        os.environ[PG_ENV] = worker_input[WORKER_DATABASE]


def pytest_unconfigure(config) -> None:
    """Controller, after every worker has stopped: drop the workers' databases."""
    if getattr(config, "workerinput", None) is not None:
        return
    base = os.environ.get(PG_ENV)
    for url in config.stash.get(_WORKER_DATABASES, []):
        try:
            drop_worker_database(base, url)
        except Exception as exc:  # the run's result stands; say what was left behind
            print(f"\ncould not drop the worker database {url}: {exc}", file=sys.stderr)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """Controller: `-n N` (xdist's "load" mode) hands out one test at a time, except PROCESS_HEAVY.

    The grouping is decided here from the node ids, not with xdist_group marks: xdist's
    loadgroup mode relies on rewriting node ids, which pytest 9.2 no longer allows
    (pytest-xdist issue 1386: the marks are silently ignored).
    """
    if config.getvalue("dist") != "load":
        return None  # an explicit --dist other than load keeps xdist's own scheduler
    from xdist.scheduler import LoadScopeScheduling

    class ProcessHeavyTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "process-heavy" if nodeid.startswith(PROCESS_HEAVY) else nodeid

    return ProcessHeavyTogether(config, log)


def _database_params() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get(PG_ENV):
        params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    else:
        params.append(
            pytest.param(
                "postgresql",
                id="postgresql",
                marks=pytest.mark.skip(reason=f"PostgreSQL tests need {PG_ENV} (see .ci/run)"),
            )
        )
    return params


def make_postgres_schema_url(base_url: str) -> tuple[str, str]:
    """Create a fresh schema so each test has its own empty database; return (url, schema)."""
    import sqlalchemy as sa

    schema = "t_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}", schema


def drop_postgres_schema(base_url: str, schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@contextmanager
def empty_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in `folder`, or a private PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'framelab.sqlite'}"
        return
    base = os.environ[PG_ENV]
    url, schema = make_postgres_schema_url(base)
    try:
        yield url
    finally:
        drop_postgres_schema(base, schema)


@pytest.fixture(params=_database_params())
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database: a SQLite file, or a private schema on the test PostgreSQL server."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=_database_params())
def module_database_url(request, tmp_path_factory) -> Iterator[str]:
    """One empty database (SQLite, PostgreSQL) for all of a module's tests.

    For data that is expensive to build and that the module's tests only read, e.g.
    participants walked through the real pages once instead of once per test.
    """
    with empty_database(request.param, tmp_path_factory.mktemp("module-db")) as url:
        yield url


# ---------------------------------------------------------------- browser


def chromium_executable() -> str | None:
    for candidate in (
        os.environ.get("FRAMELAB_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def axe_script() -> str | None:
    for candidate in (
        os.environ.get("FRAMELAB_AXE_JS"),
        ROOT / "node_modules" / "axe-core" / "axe.min.js",
    ):
        if candidate and Path(candidate).exists():
            return Path(candidate).read_text(encoding="utf-8")
    return None


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright; skipped with a reason when absent.

    Module-scoped on purpose: Playwright's sync API keeps an asyncio loop running in
    this thread while it is open, which would break later tests that use asyncio.run.
    """
    exe = chromium_executable()
    if exe is None:
        pytest.skip("browser test needs Debian's chromium (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser test needs playwright")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def axe_js() -> str:
    src = axe_script()
    if src is None:
        pytest.skip("accessibility check needs axe-core (npm install axe-core; .ci/run does)")
    return src


def run_axe(page, axe_source: str) -> list[dict]:
    """Run axe-core on the page and return its violations (id, impact, help, nodes)."""
    # evaluate() goes through the DevTools protocol, so a strict CSP does not block it.
    # A click that submits a form returns once the next page starts loading: axe must see
    # that page loaded, not a document being replaced under it (seen on a busy machine).
    page.wait_for_load_state()
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v.get("impact"),
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]],
        }
        for v in result["violations"]
    ]


@pytest.fixture
def artifacts_dir(request) -> Path:
    """Folder for screenshots and other test artifacts (kept after the run)."""
    path = ARTIFACTS / request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    path.mkdir(parents=True, exist_ok=True)
    return path
