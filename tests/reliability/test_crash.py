"""Crash durability: SIGKILL every gunicorn process while participants submit, restart, go on.

The load generator keeps participants walking the example study; the test kills the
master and all workers at once (twice), restarts gunicorn on the same port and database,
and the participants resume from their resume links. Afterwards every acknowledged answer
must be in the database, every participant still unfinished must be able to continue from
their step and finish, and the block state must be intact (no slot lost or duplicated).
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from framelab.testing.checks import check_database, unfinished_codes
from framelab.testing.loadgen import LoadGenerator, run_load
from framelab.testing.server import framelab_server, prepare_database

SLUG = "torture-ban"
RESUME = f"/s/{SLUG}/p/{{code}}"
KILLS = 2


@pytest.mark.slow
def test_sigkill_of_every_server_process_loses_no_acknowledged_answer(database_url, artifacts_dir):
    prepare_database(database_url)
    server = framelab_server(database_url)
    generator = LoadGenerator(
        server.base_url,
        f"/s/{SLUG}",
        concurrency=12,
        duration=5,
        seed=7,
        resume_path=RESUME,
        resume_window=30,
        timeout=10,
    )
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(result=_run(generator)))
    killed = []
    try:
        server.start()
        runner.start()
        for _ in range(KILLS):
            time.sleep(1.5)
            killed.append(server.kill_all())
            assert not server.running
            time.sleep(0.3)
            server.start()
        runner.join(60)
        assert not runner.is_alive(), "the load generator did not finish after the restarts"
        result = outcome["result"]
        # Participants whose acknowledgement was lost in a kill are resumed from their code.
        leftover = unfinished_codes(database_url, SLUG)
        resumed = run_load(
            server.base_url,
            f"/s/{SLUG}",
            concurrency=8,
            start_codes=leftover,
            resume_path=RESUME,
            seed=9,
        )
    finally:
        generator.stop()
        server.close()

    report = check_database(database_url, SLUG, result.answers + resumed.answers)
    figures = {
        "kills": server.kills,
        "processes_killed": killed,
        "load": result.summary(),
        "resumed": resumed.summary(),
        "database": report.summary(),
    }
    (artifacts_dir / "crash.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))

    assert server.kills == KILLS
    # Master plus both workers each time: the whole service went down.
    assert all(n >= 3 for n in killed)
    # The kills hit participants mid-flow, and they carried on afterwards.
    assert result.transport_errors > 0
    assert result.retries > 0
    assert result.stuck == []
    assert result.completed >= 5
    assert report.problems() == []
    # Nobody is left stranded: every unfinished participant continued from their step.
    assert resumed.completed == len(leftover)
    assert resumed.server_errors == [] and resumed.stuck == []
    assert unfinished_codes(database_url, SLUG) == []
    # Virtual participants always consent, so everyone in the database has now finished.
    assert report.completed == report.participants


def _run(generator: LoadGenerator):
    import asyncio

    return asyncio.run(generator.run())
