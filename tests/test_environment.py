"""`make test` gives the same answers whatever app settings the shell running it exports."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, drop_ambient_app_settings


def test_app_settings_are_dropped_and_the_suite_switches_kept():
    environ = {
        "PATH": "/usr/bin",
        "DATABASE_URL": "postgresql://deploy@db/prod",
        "FRAMELAB_ENV": "production",
        "FRAMELAB_PROXY_FIX": "1",
        "FRAMELAB_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "FRAMELAB_CHROMIUM": "/usr/bin/chromium",
        "FRAMELAB_SIM_QUICK": "1",
    }

    dropped = drop_ambient_app_settings(environ)

    assert dropped == ["DATABASE_URL", "FRAMELAB_ENV", "FRAMELAB_PROXY_FIX"]
    assert environ == {
        "PATH": "/usr/bin",
        "FRAMELAB_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "FRAMELAB_CHROMIUM": "/usr/bin/chromium",
        "FRAMELAB_SIM_QUICK": "1",
    }


def test_a_trusted_proxy_and_disabled_rate_limits_in_the_shell_do_not_change_test_results():
    # Both tests fail when these settings reach the app: the cookie turns secure over plain
    # HTTP, and nothing is rate limited.
    nodes = [
        "tests/security/test_headers.py::test_https_behind_a_trusted_proxy_makes_the_cookie_secure",
        "tests/security/test_rate_limits.py::test_new_participants_per_source_are_limited",
    ]
    env = {**os.environ, "FRAMELAB_PROXY_FIX": "1", "FRAMELAB_RATELIMIT_ENABLED": "0"}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *nodes],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout
