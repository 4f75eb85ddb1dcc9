"""Several app servers, for real (issue 22): two framelab servers behind the shipped nginx config.

Two `framelab serve`-style gunicorn services (framelab.testing.server.framelab_server) on
127.0.0.1, one PostgreSQL database, the rate limiter's counters in Redis, and nginx in
front running deploy/nginx/framelab.conf (rendered by framelab.testing.proxy: ports, listen
addresses and log folder; no TLS). nginx also listens on a test network's bridge, so a
client in a network namespace arrives from an address of its own, as a phone would.

1. Rate limits hold across servers: with FRAMELAB_ENROL_RATE_LIMIT "6 per minute", 14 new
   participants consenting from one (non-loopback) address through the proxy, which sends
   them round robin to both servers, are enrolled 6 times and refused 8 times. With each
   process counting in memory (FRAMELAB_RATELIMIT_STORAGE_URI unset), each server admits up
   to 6: 9 to 12 in all (9 measured; the study-link GETs share the round robin).
2. A server dies mid-run: virtual participants walk the study through the proxy; one app
   server is killed (SIGKILL to its master and worker) and they carry on through the other.
   nginx sends refused connections to the survivor; a submit that was inside the killed
   server gets one 502, and that participant reloads their page and continues. Afterwards
   every acknowledged answer is stored exactly once, block balance is exact, the
   assignment log replays, and no participant saw more than one failed request.

Skipped, with the reason, without nginx, Redis, PostgreSQL (FRAMELAB_TEST_DATABASE_URL) or
root for network namespaces; .ci/run provides all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from framelab.testing import netns
from framelab.testing.checks import check_database, unfinished_codes
from framelab.testing.http import CLIENTS, LeanClient, TransportError
from framelab.testing.loadgen import LoadGenerator, run_load
from framelab.testing.proxy import NginxProxy, nginx_unavailable
from framelab.testing.server import ROOT, framelab_server, prepare_database
from tests.conftest import PG_ENV, drop_postgres_schema, make_postgres_schema_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SLUG = "torture-ban"
RESUME = f"/s/{SLUG}/p/{{code}}"
ENROL_LIMIT = 6
CONSENTS = 14
REDIS_URL = "redis://127.0.0.1:6379/0"
LIMITER_STORAGE = REDIS_URL  # memory:// fails the rate-limit part (9 admitted, measured)


def _redis_unavailable() -> str | None:
    try:
        import redis
    except ImportError:
        return "the redis client package is not installed (pip install -e .)"
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis does not answer on 127.0.0.1:6379 ({exc}); .ci/run starts it"
    return None


def _skip_reasons() -> list[str]:
    reasons = [nginx_unavailable(), _redis_unavailable(), netns.unavailable()]
    if not os.environ.get(PG_ENV):
        reasons.append(f"needs PostgreSQL ({PG_ENV}; .ci/run sets it)")
    return [reason for reason in reasons if reason]


def _source_key(secret: str, address: str) -> str:
    """framelab.web.rate_limits.source_key for `address` (its counters' key in Redis)."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]


def _forget_counters(secret: str, address: str) -> int:
    """Delete this run's rate-limit counters from Redis (their keys hold the run's secret's hash)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{_source_key(secret, address)}*"))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.connection_pool.disconnect()


def counting_client(seen: list) -> type:
    """The load generator's client, recording the failed requests of each participant."""

    class CountingClient(LeanClient):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.failures: list[str] = []
            seen.append(self)

        async def request(self, method, url, data=None):
            try:
                response = await super().request(method, url, data)
            except TransportError as exc:
                self.failures.append(str(exc))
                raise
            if response.status >= 500:
                self.failures.append(f"{method} {url} -> {response.status}")
            return response

    return CountingClient


def _start_together(servers) -> None:
    """Start the services side by side (each start waits for its app to answer)."""
    errors: list[BaseException] = []

    def start(server) -> None:
        try:
            server.start()
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _consent_from(host: netns.TestHost, base_url: str, n: int) -> dict:
    """`n` new phones open the study link and consent from `host` (tests/security/nat_client)."""
    done = subprocess.run(
        host.command(
            [sys.executable, "-m", "tests.security.nat_client", base_url, "browsers", str(n), "2"]
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_servers_behind_nginx_share_rate_limits_and_survive_a_kill(monkeypatch, artifacts_dir):
    reasons = _skip_reasons()
    if reasons:
        pytest.skip("multi-server run: " + "; ".join(reasons))
    began = time.monotonic()
    base = os.environ[PG_ENV]
    url, schema = make_postgres_schema_url(base)
    secret = "multi-server-" + os.urandom(16).hex()
    env = {
        # What every app server shares (docs/deploy.md, "Several app servers").
        "FRAMELAB_SECRET_KEY": secret,
        "FRAMELAB_PROXY_FIX": "1",
        "FRAMELAB_RATELIMIT_ENABLED": "1",
        "FRAMELAB_RATELIMIT_STORAGE_URI": LIMITER_STORAGE,
        "FRAMELAB_ENROL_RATE_LIMIT": f"{ENROL_LIMIT} per minute",
    }
    # One worker each: with memory:// storage each server would count on its own.
    servers = [framelab_server(url, workers=1, threads=4, env=env) for _ in range(2)]
    seen: list = []
    monkeypatch.setitem(CLIENTS, "counting", counting_client(seen))
    source = None
    try:
        prepare_database(url)
        with netns.test_hosts(1) as net:
            source = net.hosts[0].address
            _start_together(servers)
            listen = ["127.0.0.1", net.server_address]
            with NginxProxy([s.port for s in servers], listen_hosts=listen) as proxy:
                consents = _consent_from(net.hosts[0], proxy.url_on(net.server_address), CONSENTS)
                load, resumed, leftover, at_kill = _walk_and_kill(proxy.base_url, servers)
        report = check_database(url, SLUG, load.answers + resumed.answers)
        still_unfinished = unfinished_codes(url, SLUG)
    finally:
        for server in servers:
            server.close()
        counters = _forget_counters(secret, source) if source else 0
        drop_postgres_schema(base, schema)

    failures = sorted((len(c.failures) for c in seen), reverse=True)
    figures = {
        "seconds": round(time.monotonic() - began, 1),
        "consents_from_one_address": consents,
        "redis_counters": counters,
        "at_kill": at_kill,
        "load": load.summary(),
        "resumed": len(leftover),
        "participants_with_a_failed_request": sum(1 for n in failures if n),
        "most_failed_requests_of_one_participant": failures[0] if failures else 0,
        "database": report.summary(),
    }
    (artifacts_dir / "multi_server.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))

    # 1. The limit was counted in Redis across both servers: 6 enrolled, then refused.
    assert consents["statuses"] == {"302": ENROL_LIMIT, "429": CONSENTS - ENROL_LIMIT}, consents
    assert counters > 0, "no rate-limit counter in Redis: the limiter did not use it"
    # 2. The kill happened mid-run, with both servers serving before it.
    assert at_kill["processes_killed"] >= 2, at_kill  # the master and its worker
    assert all(cpu > 0.05 for cpu in at_kill["served_cpu_seconds"]), at_kill
    assert 0 < at_kill["completed"] < load.completed, at_kill
    # Nobody saw more than one failed request, and each failure was retried.
    assert failures and failures[0] <= 1, [c.failures for c in seen if c.failures]
    assert load.stuck == [] and load.rejected == [], (load.stuck, load.rejected)
    assert load.retries == len(load.server_errors) + load.transport_errors
    assert resumed.server_errors == [] and resumed.stuck == []
    assert resumed.completed == len(leftover)
    assert still_unfinished == []
    # Every acknowledged answer stored once, blocks balanced, the log replays.
    assert report.acked_checked > 0
    assert report.problems() == []
    # The 6 who consented from the test host were resumed too: everyone has finished.
    assert report.completed == report.participants


def _walk_and_kill(base_url: str, servers) -> tuple:
    """Participants walk the study through the proxy; the first server is killed mid-run."""
    generator = LoadGenerator(
        base_url,
        f"/s/{SLUG}",
        concurrency=8,
        duration=6,
        seed=22,
        resume_path=RESUME,
        resume_window=15,
        timeout=10,
        client="counting",
    )
    outcome: dict = {}
    cpu_before = [s.cpu_seconds() for s in servers]
    runner = threading.Thread(target=lambda: outcome.update(result=_run(generator)))
    runner.start()
    try:
        time.sleep(2.5)
        served = [round(s.cpu_seconds() - c, 2) for s, c in zip(servers, cpu_before, strict=True)]
        at_kill = {
            "completed": generator.result.completed,
            "served_cpu_seconds": served,
            "processes_killed": servers[0].kill_all(),
        }
        runner.join(60)
        assert not runner.is_alive(), "the load generator did not finish through the survivor"
    finally:
        generator.stop()
        runner.join(10)
    load = outcome["result"]
    # Who has not finished yet (the consents from the test host; a participant whose consent
    # was cut off by the kill, who started again) finishes here, through the survivor.
    url = servers[1].database_url
    leftover = unfinished_codes(url, SLUG)
    resumed = run_load(
        base_url,
        f"/s/{SLUG}",
        concurrency=4,
        start_codes=leftover,
        resume_path=RESUME,
        seed=23,
        client="counting",
    )
    return load, resumed, leftover, at_kill


def _run(generator: LoadGenerator):
    import asyncio

    return asyncio.run(generator.run())
