"""Shared fixtures: database URLs (SQLite always, PostgreSQL when configured) and a real browser."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PG_ENV = "FRAMELAB_TEST_DATABASE_URL"

# The suite's own switches, read from the environment on purpose.
TEST_SWITCHES = frozenset(
    {PG_ENV, "FRAMELAB_CHROMIUM", "FRAMELAB_AXE_JS", "FRAMELAB_SIM_QUICK", "FRAMELAB_FUZZ_LONG"}
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


@pytest.fixture(params=_database_params())
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database: a SQLite file, or a private schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'framelab.sqlite'}"
        return
    base = os.environ[PG_ENV]
    url, schema = make_postgres_schema_url(base)
    try:
        yield url
    finally:
        drop_postgres_schema(base, schema)


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
