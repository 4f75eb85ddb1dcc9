"""Serve the oTree version of the example study (`benchmarks/otree_app/`) and load it.

oTree is not a framelab dependency: it runs from its own virtualenv, named by the
FRAMELAB_OTREE_VENV environment variable (e.g. `python -m venv /tmp/otree-venv &&
/tmp/otree-venv/bin/pip install otree`). Without it the oTree rows are skipped with a
message; nothing is installed during a benchmark run. `otree prodserver` is oTree's
production server (one uvicorn process); the project is copied to a temporary folder so
its database file never lands in the repository.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx

from framelab.testing.loadgen import run_load
from framelab.testing.server import EXAMPLE_STUDY, free_port

APP_DIR = Path(__file__).resolve().parent / "otree_app"
VENV_ENV = "FRAMELAB_OTREE_VENV"


def otree_executable() -> Path | None:
    venv = os.environ.get(VENV_ENV)
    if not venv:
        return None
    exe = Path(venv) / "bin" / "otree"
    return exe if exe.exists() else None


def unavailable() -> str | None:
    """None when oTree can run, else the reason its rows are skipped."""
    venv = os.environ.get(VENV_ENV)
    if not venv:
        return (
            f"oTree skipped: set {VENV_ENV} to a virtualenv with oTree installed "
            "(python -m venv /tmp/otree-venv && /tmp/otree-venv/bin/pip install otree)"
        )
    if otree_executable() is None:
        return f"oTree skipped: {venv}/bin/otree does not exist ({VENV_ENV}={venv})"
    return None


def write_frames(path: Path) -> None:
    """The example study's frame titles and bodies (English), for the oTree message page."""
    from framelab.domain.study import load_study_file

    study = load_study_file(EXAMPLE_STUDY)
    frames = {}
    for arm in study.arms:
        frame = arm.frame
        frames[arm.id] = {
            "title": study.text(frame.title, "en") if frame else "",
            "body": study.text(frame.body, "en") if frame else "",
        }
    path.write_text(json.dumps(frames), encoding="utf-8")


class OtreeServer:
    def __init__(self, workdir: Path) -> None:
        self.project = workdir / "otree_app"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = workdir / "otree.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        shutil.copytree(APP_DIR, self.project, dirs_exist_ok=True)
        frames = self.project / "frames.json"
        write_frames(frames)
        env = {
            **os.environ,
            "FRAMELAB_BENCH_FRAMES": str(frames),
            "OTREE_PRODUCTION": "1",
            "OTREE_ADMIN_PASSWORD": "bench-" + os.urandom(6).hex(),
            # prodserver starts its helper process as plain `otree`.
            "PATH": f"{otree_executable().parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        env.pop("DATABASE_URL", None)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(otree_executable()), "prodserver", f"127.0.0.1:{self.port}"],
                cwd=self.project,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"otree prodserver exited:\n{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base_url + "/", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"otree prodserver not ready after {timeout:.0f}s")

    def create_session(self, participants: int) -> str:
        """A session with `participants` places; returns the path of its session-wide link."""
        response = httpx.post(
            self.base_url + "/api/sessions",
            json={"session_config_name": "framing", "num_participants": participants},
            timeout=300,
        )
        response.raise_for_status()
        url = response.json()["session_wide_url"]
        return "/" + url.split("/", 3)[3]

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


def bench(levels: list[int], seconds: float, workdir: Path, *, log=print) -> list:
    from benchmarks.flow_bench import MAX_TAIL_S, FlowRun, _line

    server = OtreeServer(workdir)
    runs = []
    try:
        server.start()
        for level in levels:
            # A fresh session per level, with more places than the run can fill.
            join = server.create_session(level * 3 + 40)
            warm = run_load(server.base_url, join, concurrency=4, participants=8, seed=99)
            per_participant = warm.completed_requests / warm.completed if warm.completed else None
            result = run_load(
                server.base_url,
                join,
                concurrency=level,
                duration=seconds,
                seed=level,
                max_tail=MAX_TAIL_S,
                requests_per_participant=per_participant,
            )
            run = FlowRun("otree/sqlite", level, result)
            runs.append(run)
            log(_line(run))
    finally:
        server.stop()
    return runs
