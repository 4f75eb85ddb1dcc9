"""Load and concurrency: framelab under gunicorn with several workers, driven over HTTP.

Virtual participants walk the example study (cookies, CSRF tokens, form posts) while the
database is audited afterwards: no server error, no acknowledged answer missing, nothing
stored twice, every stratum within one block of perfect balance, and the assignment log
replaying from the study's seed. The full 200-participant x 60 s run is
`python -m benchmarks --reliability`; this bounded variant keeps `make test` short.
"""

from __future__ import annotations

import json

import pytest

from framelab.testing.checks import check_database
from framelab.testing.loadgen import run_load
from framelab.testing.server import framelab_server, prepare_database

SLUG = "torture-ban"
CONCURRENCY = 16
SECONDS = 5


@pytest.mark.slow
def test_concurrent_participants_lose_nothing_and_stay_balanced(database_url, artifacts_dir):
    prepare_database(database_url)
    with framelab_server(database_url) as server:
        result = run_load(
            server.base_url, f"/s/{SLUG}", concurrency=CONCURRENCY, duration=SECONDS, seed=8
        )
    report = check_database(database_url, SLUG, result.answers)
    figures = {"load": result.summary(), "database": report.summary()}
    (artifacts_dir / "load.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))

    assert result.server_errors == []
    assert result.transport_errors == 0
    assert result.rejected == []
    # Enough traffic to mean something: several blocks' worth of participants finished.
    assert result.completed >= 5
    assert report.acked_checked > 10 * result.completed
    assert report.problems() == []
    # One database participant per virtual participant that consented, each one finished.
    assert report.participants == len(result.last_step) == result.started
    assert report.completed == result.completed
    assert report.assigned == result.completed
