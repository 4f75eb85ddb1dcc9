"""Statements per participant: what each app sends to the database for one participant.

PostgreSQL logs every statement of the app's connections (log_statement=all, set for
those connections only) while participants walk the flow through the app in this process
(Flask's test client, the same walk as the profile); the count is read from the server's
log. BEGIN and COMMIT count: the server parses and executes each like any other.

    python -m benchmarks.statements postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import collections
import contextlib
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import flow_bench

PARTICIPANTS = 30


class Tally:
    def __init__(self) -> None:
        self.kinds: collections.Counter[str] = collections.Counter()
        self.rows = 0  # executemany rows

    @property
    def statements(self) -> int:
        return sum(self.kinds.values())

    def add(self, sql: object, rows: int = 1) -> None:
        text = sql.decode() if isinstance(sql, bytes) else str(sql)
        word = text.lstrip().split(None, 1)[0].upper() if text.strip() else "?"
        self.kinds[word] += 1
        self.rows += rows - 1

    def per(self, n: int) -> dict:
        return {
            "statements": round(self.statements / n, 2),
            **{k: round(v / n, 2) for k, v in sorted(self.kinds.items())},
        }


def server_log() -> Path | None:
    """PostgreSQL's log file on this machine (Debian's pg_ctlcluster layout), if readable."""
    for path in sorted(Path("/var/log/postgresql").glob("postgresql-*-main.log")):
        if os.access(path, os.R_OK):
            return path
    return None


LOGGED = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)")


@contextlib.contextmanager
def counting(log: Path) -> Iterator[Tally]:
    """Count the statements PostgreSQL logged while the block ran.

    Only connections made with `logged_url` log their statements (log_statement=all is
    set for them alone), so other clients of the same server are not counted.
    """
    tally = Tally()
    offset = log.stat().st_size
    yield tally
    time.sleep(0.2)  # the server writes its log asynchronously
    with log.open("rb") as fh:
        fh.seek(offset)
        for line in fh.read().decode("utf-8", "replace").splitlines():
            match = LOGGED.search(line)
            if match:
                tally.add(match.group(1))


def logged_url(url: str) -> str:
    """`url` with log_statement=all for its connections (superuser, as in the benchmark)."""
    return url + "%20-clog_statement%3Dall"


def _walk(client, rng: random.Random, slug: str) -> None:
    from framelab.testing.forms import fill_form, parse_page

    response = client.get(f"/s/{slug}", follow_redirects=True)
    for _ in range(20):
        forms = [f for f in parse_page(response.get_data(as_text=True))[0] if f.method == "post"]
        forms = [f for f in forms if "withdraw" not in f.action]
        if not forms:
            return
        data, _ = fill_form(forms[0], rng, fixed={"consent": "yes"}, ignore=frozenset({"website"}))
        response = client.post(forms[0].action or "", data=data, follow_redirects=True)


def per_participant(app_name: str, url: str, workdir: Path, participants: int) -> dict:
    """Statements per participant for `app_name` (framelab | reference) on database `url`."""
    target = flow_bench.Target(app_name, "postgresql")
    flow_bench.prepare(target, url, workdir)
    log = server_log()
    if log is None:
        return {"error": "PostgreSQL's log file is not readable here"}
    url = logged_url(url)
    os.environ["FRAMELAB_DATABASE_URL"] = url
    os.environ.setdefault("FRAMELAB_SECRET_KEY", "bench-statements-" + os.urandom(24).hex())
    if app_name == "framelab":
        from framelab import create_app

        app = create_app()
    else:
        from benchmarks.reference_app import create_app

        app = create_app(str(flow_bench.bench_study(workdir)), url)
    rng = random.Random(3)
    with app.test_client() as client:  # warm: caches, compiled statements, pool
        _walk(client, rng, flow_bench.SLUG)
    with counting(log) as tally:
        for _ in range(participants):
            with app.test_client() as client:
                _walk(client, rng, flow_bench.SLUG)
    return tally.per(participants)


def count_for(targets: list, runs: list, workdir: Path, *, log) -> None:
    """Statements per participant of each app on PostgreSQL, counted by the server."""
    for target in targets:
        if target.backend != "postgresql" or target.app not in ("framelab", "reference"):
            continue
        if target.revision:
            continue  # an older revision is served from its worktree, not importable here
        with flow_bench.database("postgresql", workdir) as url:
            figures = per_participant(target.app, url, workdir, PARTICIPANTS)
        log(f"  {target.name}: statements per participant {figures}")
        for run in runs:
            if run.target == target.name:
                run.statements = figures


def compare(base_url: str, participants: int = PARTICIPANTS) -> dict:
    workdir = flow_bench.make_workdir()
    try:
        out = {}
        for name in ("framelab", "reference"):
            with flow_bench.database("postgresql", workdir) as url:
                out[name] = per_participant(name, url, workdir, participants)
        return out
    finally:
        flow_bench.remove_workdir(workdir)


if __name__ == "__main__":
    os.environ["FRAMELAB_BENCH_POSTGRES_URL"] = sys.argv[1] if len(sys.argv) > 1 else ""
    for name, figures in compare(flow_bench.postgres_base_url()).items():
        print(name, figures)
