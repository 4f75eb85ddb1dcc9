"""The long reliability run of issue 7: 200 concurrent participants for 60 s per database.

Same checks as tests/reliability/test_load.py (which runs a bounded version in `make test`):
no server error, no acknowledged answer lost, nothing duplicated, balance within one block
per stratum, and the assignment log replaying from the seed.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.flow_bench import SLUG, database, postgres_available, postgres_base_url
from framelab.testing.checks import check_database
from framelab.testing.loadgen import run_load
from framelab.testing.server import framelab_server, prepare_database


def run_reliability(
    workdir: Path, *, concurrency: int = 200, seconds: float = 60.0, log=print
) -> list[dict]:
    records = []
    backends = ["sqlite"]
    reason = postgres_available(postgres_base_url())
    if reason is None:
        backends.append("postgresql")
    else:
        log(f"  PostgreSQL skipped: {reason}")
    for backend in backends:
        with database(backend, workdir) as url:
            prepare_database(url)
            with framelab_server(url) as server:
                result = run_load(
                    server.base_url,
                    f"/s/{SLUG}",
                    concurrency=concurrency,
                    duration=seconds,
                    seed=2026,
                    timeout=120,
                )
            report = check_database(url, SLUG, result.answers)
        problems = report.problems()
        ok = (
            not problems
            and not result.server_errors
            and result.transport_errors == 0
            and report.participants == result.started
        )
        record = {
            "backend": backend,
            "ok": ok,
            "load": result.summary(),
            "database": report.summary(),
            "problems": problems[:20],
            "server_errors": result.server_errors[:20],
        }
        records.append(record)
        s, d = result.summary(), report.summary()
        log(
            f"  {backend:<11} {'PASS' if ok else 'FAIL'}: {s['completed']} completed, "
            f"{s['requests']} requests, {s['server_errors']} server errors, "
            f"{s['transport_errors']} network errors, {d['acked_answers_checked']} acknowledged "
            f"answers checked, {d['lost_answers']} lost, {d['duplicates']} duplicated, "
            f"{d['block_state_problems']} block-state problems, {d['replay_mismatches']} replay "
            f"mismatches, {d['imbalanced_strata']} imbalanced strata"
        )
        for line in problems[:5]:
            log(f"    {line}")
    return records
