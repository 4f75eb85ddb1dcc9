"""Run a WSGI app under gunicorn (on 127.0.0.1, or a given address) in a subprocess: start, wait until ready, stop, kill -9.

Used by the reliability tests and the benchmarks, for framelab itself
(`framelab:create_app()`) and for the reference apps in `benchmarks/`.

    with GunicornServer("framelab:create_app()", database_url=url, workers=3) as server:
        httpx.get(server.base_url + "/s/torture-ban")
        server.kill_all()      # SIGKILL master and every worker at once
        server.start()         # same port, same database

gunicorn runs in its own session (process group), so `kill_all` reaches the master and every
worker with one `killpg`, the way a power cut or an OOM kill of the whole service would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _group_members(pgid: int) -> list[int]:
    """Pids whose process group is `pgid` (Linux /proc; empty elsewhere)."""
    members = []
    proc = Path("/proc")
    if not proc.is_dir():
        return members
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may contain spaces; fields after the last ')' are fixed.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


class ServerError(RuntimeError):
    """gunicorn did not start or did not answer; the message holds the end of its log."""


class GunicornServer:
    """One gunicorn service (master + workers) bound to 127.0.0.1 on a fixed free port.

    `host` binds another address instead: a test network's server address
    (`framelab.testing.netns`), so requests arrive from the test hosts' own addresses.
    """

    def __init__(
        self,
        app: str,
        *,
        database_url: str | None = None,
        workers: int = 3,
        worker_class: str = "sync",
        threads: int = 1,
        env: Mapping[str, str] | None = None,
        ready_path: str = "/",
        port: int | None = None,
        cwd: str | Path | None = None,
        extra_args: list[str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.app = app
        self.database_url = database_url
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.env = dict(env or {})
        self.ready_path = ready_path
        self.host = host
        self.port = port or free_port(host)
        self.cwd = Path(cwd) if cwd else ROOT
        self.extra_args = list(extra_args or [])
        self.process: subprocess.Popen | None = None
        # One key for the service's lifetime: cookies and CSRF tokens must survive a restart.
        self.secret_key = "load-test-" + os.urandom(16).hex()
        self.starts = 0
        self.kills = 0
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (lives as long as the server)
            prefix="gunicorn-", suffix=".log", delete=False
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return Path(self._log.name)

    def command(self) -> list[str]:
        """The gunicorn command line (also printed by the benchmarks and in docs/deploy.md)."""
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"{self.host}:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            # gthread closes a kept-alive connection when its keep-alive time runs out before
            # the worker gets to it, even if the next request is already waiting there: with
            # gunicorn's default of 2 s, 200 participants at saturation all saw their
            # connection dropped without an answer. 75 s (nginx's default) does not.
            "--keep-alive",
            "75",
            "--backlog",
            "2048",
            # Stopping waits for kept-alive connections; tests and benchmarks need not linger.
            "--graceful-timeout",
            "2",
            "--log-level",
            "warning",
            *self.extra_args,
            self.app,
        ]
        return cmd

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("FRAMELAB_SECRET_KEY", self.secret_key)
        if self.database_url:
            env["FRAMELAB_DATABASE_URL"] = self.database_url
        env.update(self.env)
        # The benchmark apps live in the repository, not in the installed package.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        return env

    def start(self, timeout: float = 30.0) -> None:
        """Start gunicorn and block until `ready_path` answers (any status below 500)."""
        if self.running:
            raise ServerError(f"gunicorn is already running on {self.base_url}")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.cwd,
            env=self._environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerError(f"gunicorn exited while starting:\n{self.log_tail()}")
            try:
                response = httpx.get(self.base_url + self.ready_path, timeout=2.0)
            except httpx.HTTPError as exc:
                last_error = repr(exc)
            else:
                if response.status_code < 500:
                    return
                last_error = f"HTTP {response.status_code}"
            time.sleep(0.05)
        self.kill_all()
        raise ServerError(
            f"gunicorn on {self.base_url} not ready after {timeout:.0f}s ({last_error}):\n"
            f"{self.log_tail()}"
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """The master's and every worker's pid (they share the master's process group)."""
        if self.process is None:
            return []
        return sorted(_group_members(self.process.pid))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the master and its live workers have used so far.

        Read from /proc (0.0 elsewhere); the difference over a load run is the server's
        CPU cost of that run, which a busy shared machine disturbs far less than the
        wall-clock rate.
        """
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        total = 0
        for pid in self.pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[-1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return total / ticks

    def worker_pids(self) -> list[int]:
        master = self.process.pid if self.process else None
        return [pid for pid in self.pids() if pid != master]

    def kill_all(self) -> int:
        """SIGKILL the master and all workers at once; return how many processes were killed."""
        if self.process is None:
            return 0
        pgid = self.process.pid
        victims = _group_members(pgid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.process.wait()
        # Orphaned workers are reaped by init; wait until none is left holding the database.
        deadline = time.monotonic() + 10
        while _group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.process = None
        if victims:
            self.kills += 1
        return len(victims)

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM to the master), SIGKILL if it does not exit in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        pgid = self.process.pid
        if _group_members(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.start(timeout)

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        """Stop the server and remove its log file."""
        self.stop()
        self._log.close()
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> GunicornServer:
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


EXAMPLE_STUDY = ROOT / "examples" / "torture-ban.yaml"


def prepare_database(database_url: str, study_file: str | Path = EXAMPLE_STUDY) -> None:
    """`framelab init-db` and `framelab load-study FILE --status live` on `database_url`."""
    from click.testing import CliRunner

    from framelab.cli import main

    runner = CliRunner()
    for args in (
        ["init-db", "--database-url", database_url],
        ["load-study", str(study_file), "--status", "live", "--database-url", database_url],
    ):
        outcome = runner.invoke(main, args, catch_exceptions=False)
        if outcome.exit_code != 0:
            raise ServerError(f"framelab {args[0]} failed: {outcome.output}")


FRAMELAB_APP = "framelab:create_app()"


def framelab_server(
    database_url: str, *, workers: int = 2, threads: int = 4, **options
) -> GunicornServer:
    """framelab as `framelab serve` runs it: gthread workers, the app loaded once in the master.

    `--preload` imports and builds the app before forking, so a (re)start costs one import
    instead of one per worker; the engine has not connected yet at that point, so every
    worker opens its own database connections.
    """
    extra = ["--preload", *options.pop("extra_args", [])]
    return GunicornServer(
        FRAMELAB_APP,
        database_url=database_url,
        workers=workers,
        worker_class="gthread",
        threads=threads,
        extra_args=extra,
        **options,
    )
