"""The machine around a benchmark: PostgreSQL's CPU time, core pinning, load and sockets.

    from benchmarks.machine import postgres_cpu_seconds
    before = postgres_cpu_seconds()
    ...  # a load run
    database_cpu = postgres_cpu_seconds() - before

Linux only (/proc, taskset); elsewhere the figures are None and pinning is skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after the last ')' are fixed.
    return stat.rsplit(")", 1)[-1].split()


def postgres_pids() -> list[int]:
    """Every running process named `postgres` (the postmaster and its children)."""
    pids = []
    if not PROC.is_dir():
        return pids
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return sorted(pids)


def postgres_cpu_seconds() -> float | None:
    """CPU time (user + system) PostgreSQL's processes have used, None without /proc.

    The live processes' own time, plus the postmasters' reaped children's time (a backend
    that exited during the run, e.g. a closed pool connection, still counts). Take the
    difference over a run: that is the database's CPU for it, on this machine only (a
    remote server's is not seen).
    """
    pids = postgres_pids()
    if not pids:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    mine = set(pids)
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is None:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if int(fields[1]) not in mine:  # a postmaster: add its reaped children
            total += int(fields[13]) + int(fields[14])  # cutime, cstime
    return total / ticks


def affinity(pid: int) -> list[int] | None:
    try:
        return sorted(os.sched_getaffinity(pid))
    except OSError:
        return None


def pin(pids: list[int], cores: list[int]) -> None:
    """Every thread of `pids` onto `cores` (`taskset -apc`); gone processes are skipped."""
    spec = ",".join(str(c) for c in cores)
    for pid in pids:
        subprocess.run(["taskset", "-apc", spec, str(pid)], capture_output=True, check=False)


def can_pin() -> str | None:
    """None when processes can be pinned to cores 0 and 1, else why not."""
    if not hasattr(os, "sched_setaffinity"):
        return "no sched_setaffinity on this platform"
    if len(os.sched_getaffinity(0)) < 2:
        return "fewer than 2 cores available"
    if subprocess.run(["which", "taskset"], capture_output=True).returncode != 0:
        return "taskset (util-linux) not installed"
    return None


@contextlib.contextmanager
def pinned_postgres(core: int, record: dict) -> Iterator[None]:
    """PostgreSQL's running processes on `core` for the block, their affinity restored after.

    `record` receives the affinity found before ({pid: cores}) and how it was restored:
    backends forked meanwhile inherit the postmaster's pinning, so they get the
    postmaster's previous affinity back.
    """
    pids = postgres_pids()
    before = {pid: affinity(pid) for pid in pids}
    record["postgres_affinity_before"] = {str(k): v for k, v in before.items()}
    pin(pids, [core])
    try:
        yield
    finally:
        default = next((v for v in before.values() if v), sorted(os.sched_getaffinity(0)))
        for pid in postgres_pids():
            pin([pid], before.get(pid) or default)
        record["postgres_affinity_restored"] = {str(pid): affinity(pid) for pid in postgres_pids()}


def listen_overflows() -> int | None:
    """TcpExt ListenOverflows of this network namespace (connections the backlog dropped)."""
    try:
        lines = (PROC / "net" / "netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0))
    return None


def established(address: str, port: int) -> int | None:
    """Established TCP connections to `address:port` (the server's side), via `ss`."""
    try:
        out = subprocess.run(
            ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    pattern = re.compile(rf"\s{re.escape(address)}:{port}\s")
    return sum(1 for line in out.splitlines() if pattern.search(f" {line} "))


class Sampler:
    """Samples the load average and the server's open connections every `every` s."""

    def __init__(self, address: str, port: int, every: float = 5.0) -> None:
        self.address, self.port, self.every = address, port, every
        self.load: list[float] = []
        self.connections: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._overflows = listen_overflows()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.load.append(os.getloadavg()[0])
            count = established(self.address, self.port)
            if count is not None:
                self.connections.append(count)
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        after = listen_overflows()
        self.overflows = (
            after - self._overflows if after is not None and self._overflows is not None else None
        )

    def summary(self) -> dict:
        load = self.load or [os.getloadavg()[0]]
        return {
            "load_1min_mean": round(sum(load) / len(load), 2),
            "load_1min_max": round(max(load), 2),
            "load_avg_end": [round(x, 2) for x in os.getloadavg()],
            "server_connections_max": max(self.connections) if self.connections else None,
            "listen_overflows": getattr(self, "overflows", None),
        }
