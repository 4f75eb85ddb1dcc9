"""SQLite's WAL checkpoints off the request path.

In WAL mode SQLite copies its log back into the database file (a checkpoint) once the
log passes 1,000 pages, inside the COMMIT of whichever transaction crossed the mark: that
commit pays for the copy and its fsyncs (4-13 ms measured on the 2-core machine, against
0.02 ms for a plain commit) while it holds framelab's writer lock, so every submit queued
behind it waits too, and the saturated p99 shows it (issue 22). Instead:

- the app's connections checkpoint only as a backstop, at BACKSTOP_PAGES (40 MB of log);
- one thread per process runs a PASSIVE checkpoint (it never waits for readers or
  writers, and takes no write lock) on a connection of its own every EVERY_S seconds,
  so the log is copied back as it grows, beside the requests instead of inside one.

The thread starts with the first connection a process opens (after gunicorn's fork) and
stops when the engine is disposed or dropped.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

EVERY_S = 0.25
BACKSTOP_PAGES = 10_000


class Checkpointer:
    """Checkpoints one SQLite file from a background thread of each process using it."""

    def __init__(self, engine: Engine, path: str) -> None:
        self.path = path
        self._engine = weakref.ref(engine)
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def connected(self, dbapi_connection: Any) -> None:
        """On every new connection of the engine: set the backstop, start this process's thread."""
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._lock:
            if self._pid == pid:
                return
            self._pid = pid
            self._stop = threading.Event()  # a forked child's own; the parent's stays its own
            thread = threading.Thread(
                target=self._run, args=(self._stop,), name="framelab-checkpoint", daemon=True
            )
            thread.start()

    def stop(self) -> None:
        """The engine was disposed: stop the thread (a later connection starts another)."""
        with self._lock:
            self._stop.set()
            self._pid = None

    def _run(self, stop: threading.Event) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not stop.wait(EVERY_S) and self._engine() is not None:
                try:
                    if connection is None:
                        connection = sqlite3.connect(
                            self.path, isolation_level=None, check_same_thread=False, timeout=0
                        )
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    # Busy (another process's checkpoint) or the file went away: next time.
                    if connection is not None:
                        connection.close()
                    connection = None
        finally:
            if connection is not None:
                with contextlib.suppress(sqlite3.Error):
                    connection.close()


def install(engine: Engine, path: str) -> Checkpointer:
    """Checkpoint `engine`'s SQLite file (`path`) off the request path (see the module)."""
    checkpointer = Checkpointer(engine, path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        checkpointer.connected(dbapi_connection)

    event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
    return checkpointer
