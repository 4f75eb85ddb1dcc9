"""One burst generator: its share of scheduled arrivals, each a participant at human pace.

Started by `benchmarks.burst` once per test host (inside the host's network namespace):

    python -m benchmarks.burst_client PLAN.json RESULT.json

The plan holds the server's base URL, the arrivals (seconds after `epoch`, a wall-clock
time shared by every generator, with the index of the rate step each belongs to), the
think-time range, the share who abandon midway and the core to run on. Each arrival
starts a participant at its scheduled time; the participant walks the real pages like
`framelab.testing.loadgen` (same forms, same answers, same resumption after transport
errors), but reads every page for a think time drawn uniformly from the range, and one in
ten leaves at a random page. Its kept-alive connection stays open after it finished or
left, until the server closes it (as a phone's browser leaves it).

Per page sent it records the send time, the page's latency (all redirect hops, what the
person waits for) and the final status; per participant the outcome; and the send lag:
actual minus scheduled send time, for arrivals and for sends after a think time. The
result file (JSON) is read by the parent. With a `stop_dir`, a generator that sees a rate
step fail (p99 over the limit or an error) leaves a mark there, and no generator starts
the arrivals of later steps (the staircase stops at the first failed step).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import resource
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from framelab.testing.loadgen import LOOPBACK, LoadGenerator, _Participant, _Transient
from framelab.testing.netns import NETWORK, is_test_address

TRANSPORT = 0  # the status recorded for a page that got no response


def _inside_test_host(server: str) -> bool:
    """True when this process runs in a test host whose network holds `server`.

    `netns.is_test_address` is checked in this machine's own namespace, where the bridge
    address is local; inside a test host it is not, but an interface of the host's own
    in the same 10.213.n.0/24 is, and that network exists only while the test run lasts.
    """
    try:
        target = ipaddress.ip_address(server)
    except ValueError:
        return False
    if target not in NETWORK:
        return False
    network = ipaddress.ip_network(f"{target}/24", strict=False)
    for last in range(2, 255):
        candidate = str(network.network_address + last)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((candidate, 0))
            except OSError:
                continue
            return True
    return False


class BurstGenerator(LoadGenerator):
    """The loadgen generator's state, aimed at loopback or a live test network only."""

    def __init__(self, plan: dict) -> None:
        base_url = plan["base_url"]
        host = urlsplit(base_url).hostname
        if host not in LOOPBACK and not is_test_address(host) and not _inside_test_host(host):
            raise ValueError(f"base_url: load is only generated against test hosts, not {host!r}")
        # The parent checks is_test_address in its own namespace; the guard above is this
        # process's own check, so the loadgen's is given a loopback stand-in.
        super().__init__(
            "http://127.0.0.1:1",
            plan["start_path"],
            concurrency=1,
            participants=len(plan["arrivals"]),
            seed=plan["seed"],
            timeout=plan.get("timeout", 30.0),
            resume_path=plan.get("resume_path"),
            retry_delay=plan.get("retry_delay", 1.0),
        )
        self.base_url = base_url
        self.plan = plan
        self.pages: list[list] = []  # [send offset s, latency ms, label, status]
        self.arrival_lag: list[float] = []
        self.think_lag: list[float] = []
        self.outcomes: dict[str, int] = {}
        self.outcome_by_step: dict[int, dict[str, int]] = {}
        self.not_started = 0
        self.clients: list = []
        self.closers: set[asyncio.Task] = set()


class BurstParticipant(_Participant):
    def __init__(self, gen: BurstGenerator, index: int, due: float, step: int) -> None:
        super().__init__(gen, index)
        plan = gen.plan
        self.burst = gen
        self.rate_step = step
        self.due: float | None = due  # when the next send is scheduled (monotonic)
        self.lags = gen.arrival_lag
        self.label = "start"
        self.think = tuple(plan["think"])
        leaves = self.rng.random() < plan["abandon"]
        self.abandon_at = self.rng.randint(1, max(1, plan["pages"] - 1)) if leaves else None
        self.pages_seen = 0
        self.walks = 0
        self.abandoned = False
        self.refused = False

    async def send(self, method: str, url: str, data: dict[str, str] | None = None):
        gen = self.burst
        now = time.monotonic()
        if self.due is not None:
            self.lags.append(now - self.due)
            self.due = None
        sent = time.time() - gen.plan["epoch"]
        errors = gen.result.transport_errors
        began = time.perf_counter()
        try:
            first, final = await super().send(method, url, data)
        except _Transient:
            status = TRANSPORT if gen.result.transport_errors > errors else 500
            gen.pages.append([round(sent, 3), _ms(began), self.label, status])
            raise
        gen.pages.append([round(sent, 3), _ms(began), self.label, final.status])
        if final.status == 429:
            self.refused = True
        return first, final

    async def walk(self) -> bool:
        """loadgen's walk at human pace, leaving at `abandon_at` for the abandoning few."""
        self.label = "resume" if self.walks else "start"  # resumed after a transport error
        self.walks += 1
        return await super().walk()

    async def read_and_decide(self, step: str) -> bool:
        think = self.rng.uniform(*self.think)
        due = time.monotonic() + think
        await asyncio.sleep(think)
        if self.abandon_at is not None and self.pages_seen >= self.abandon_at:
            self.abandoned = True
            return False
        self.pages_seen += 1
        self.due, self.lags, self.label = due, self.burst.think_lag, step
        return True

    async def run(self) -> bool:
        # Unlike loadgen's, the connection is not closed at once (see the module docstring).
        self.burst.clients.append(self.client)
        try:
            done = await self._run()
        except Exception as exc:  # a broken page must not take the generator down
            self.burst.result.stuck.append(f"{self.code}: {type(exc).__name__}: {exc}")
            done = False
        outcome = (
            "completed"
            if done
            else "abandoned"
            if self.abandoned
            else "refused"
            if self.refused
            else "failed"
        )
        gen = self.burst
        gen.outcomes[outcome] = gen.outcomes.get(outcome, 0) + 1
        per_step = gen.outcome_by_step.setdefault(self.rate_step, {})
        per_step[outcome] = per_step.get(outcome, 0) + 1
        # Left open like a browser tab's, and closed once the server has surely dropped it.
        gen.closers.add(asyncio.create_task(self._close_later(gen.plan.get("linger", 80.0))))
        return done

    async def _close_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.client.aclose()
        self.burst.clients.remove(self.client)


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 2)


def _window_fails(gen: BurstGenerator, start: float, end: float, limit_ms: float) -> bool:
    sent = [p for p in gen.pages if start <= p[0] < end]
    if any(p[3] == TRANSPORT or p[3] >= 500 or p[3] == 429 for p in sent):
        return True
    latencies = sorted(p[1] for p in sent)
    return bool(latencies) and latencies[int(0.99 * (len(latencies) - 1))] >= limit_ms


async def _watch_steps(gen: BurstGenerator, stop_dir: Path, stopped: list[bool]) -> None:
    """Mark the first failed step (judged `grace` s after its window) in `stop_dir`."""
    plan = gen.plan
    for start, end in plan["windows"]:
        wait = plan["epoch"] + end + plan.get("grace", 10.0) - time.time()
        await asyncio.sleep(max(0.0, wait))
        if stopped[0]:
            return
        if _window_fails(gen, start, end, plan.get("p99_limit_ms", 500.0)):
            (stop_dir / f"failed-{plan['index']}").write_text(f"{start} {end}\n")
            stopped[0] = True
            return


async def run(plan: dict) -> dict:
    gen = BurstGenerator(plan)
    epoch_mono = time.monotonic() - (time.time() - plan["epoch"])
    arrivals = plan["arrivals"]
    last = max((a[0] for a in arrivals), default=0.0)
    gen.resume_deadline = epoch_mono + last + plan["tail"]
    stop_dir = Path(plan["stop_dir"]) if plan.get("stop_dir") else None
    stopped = [False]
    watcher = asyncio.create_task(_watch_steps(gen, stop_dir, stopped)) if stop_dir else None
    tasks: list[asyncio.Task] = []
    checked = 0.0
    for index, (offset, step) in enumerate(arrivals):
        due = epoch_mono + offset
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if stop_dir is not None and time.monotonic() - checked > 0.5:
            checked = time.monotonic()
            stopped[0] = stopped[0] or any(stop_dir.iterdir())
        if stopped[0]:
            gen.not_started = len(arrivals) - index
            break
        gen.result.started += 1
        participant = BurstParticipant(gen, index, due, step)
        tasks.append(asyncio.create_task(participant.run()))
    deadline = epoch_mono + last + plan["tail"]
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=max(1.0, deadline - time.monotonic()))
        for task in pending:
            task.cancel()
        gen.outcomes["unfinished"] = len(pending)
    if watcher is not None:
        watcher.cancel()
    for closer in gen.closers:
        closer.cancel()
    for client in list(gen.clients):
        await client.aclose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = gen.result
    return {
        "index": plan["index"],
        "arrivals": len(arrivals),
        "started": result.started,
        "not_started": gen.not_started,
        "outcomes": gen.outcomes,
        "outcome_by_step": {str(k): v for k, v in gen.outcome_by_step.items()},
        "pages": gen.pages,
        "arrival_lag_s": _lag(gen.arrival_lag),
        "think_lag_s": _lag(gen.think_lag),
        "statuses": {str(k): v for k, v in result.statuses.items()},
        "server_errors": result.server_errors[:20],
        "server_error_count": len(result.server_errors),
        "transport_errors": result.transport_errors,
        "transport_samples": result.transport_samples,
        "retries": result.retries,
        "stuck": result.stuck[:20],
        "rejected": len(result.rejected),
        "answers": [(a.participant, a.step, a.item, a.value) for a in result.answers],
        "cpu_user_s": usage.ru_utime,
        "cpu_sys_s": usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024,
    }


def _lag(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    pick = lambda q: round(ordered[int(q * (len(ordered) - 1))], 4)  # noqa: E731
    return {"n": len(ordered), "p50": pick(0.5), "p99": pick(0.99), "max": round(ordered[-1], 4)}


def main(argv: list[str]) -> int:
    plan_path, out_path = argv
    plan = json.loads(Path(plan_path).read_text())
    if plan.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {plan["cpu"]})
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = asyncio.run(run(plan))
    result["nofile"] = hard
    Path(out_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
