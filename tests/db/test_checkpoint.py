"""SQLite's WAL checkpoints run beside requests, not inside a commit (framelab.db.checkpoint)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import sqlalchemy as sa

from framelab.db import checkpoint
from framelab.db.session import make_engine


def _threads() -> int:
    return sum(t.name == "framelab-checkpoint" and t.is_alive() for t in threading.enumerate())


def test_commits_leave_checkpoints_to_the_thread_which_copies_the_log_back(tmp_path):
    path = tmp_path / "db.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (
                checkpoint.BACKSTOP_PAGES
            )
            conn.exec_driver_sql("CREATE TABLE t (x TEXT)")
        assert _threads() >= 1
        # Some 1,500 pages of log: past SQLite's own 1,000-page mark, below the backstop,
        # so no commit copies it back; the database file itself grows only when the
        # thread's checkpoints copy the pages into it.
        for _ in range(30):
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (:x)"), [{"x": "y" * 4000}] * 50)
        written = os.path.getsize(f"{path}-wal")
        assert written > 1000 * 4096
        deadline = time.monotonic() + 10
        with sqlite3.connect(path) as reader:  # a reader does not stop a PASSIVE checkpoint
            reader.execute("SELECT count(*) FROM t").fetchone()
            while os.path.getsize(path) < 1000 * 4096 and time.monotonic() < deadline:
                time.sleep(checkpoint.EVERY_S)
        assert os.path.getsize(path) >= 1000 * 4096, (os.path.getsize(path), written)
    finally:
        before = _threads()
        engine.dispose()
    time.sleep(3 * checkpoint.EVERY_S)
    assert _threads() < before


def test_memory_databases_have_no_checkpoint_thread():
    before = _threads()
    engine = make_engine("sqlite://")
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert _threads() == before
    engine.dispose()
