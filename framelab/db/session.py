"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite: WAL journal, foreign keys on, a busy timeout and synchronous=NORMAL on
every connection, and the WAL's checkpoints run by a thread of each process instead of
inside a commit (framelab.db.checkpoint). The pysqlite driver's own transaction handling is switched off
(`isolation_level=None`) and framelab emits BEGIN itself, by default
`BEGIN IMMEDIATE`: a write transaction that first reads (enrol, assign, record)
would otherwise hit SQLITE_BUSY_SNAPSHOT in WAL mode, which no busy timeout can
wait out. Read-only work may ask for a deferred transaction with
`session.connection(execution_options={"sqlite_begin": "DEFERRED"})`. Writers queue on a
`WriterLock` (threads, then processes) before BEGIN, instead of SQLite's sleeping busy
handler. The participant pages' statements bypass the Session (framelab.db.direct) but
keep these rules.

PostgreSQL: a modest pool (the app runs several workers) whose connections are pinged
before use only when they sat idle for PING_AFTER_IDLE_S: under load a ping per request
was a fifth of a page's round trips, and a busy connection is known to be alive.

Sessions never autocommit; services own the transaction and say which kind it is:
`with reading(session):` for work that only reads (on SQLite a DEFERRED transaction that
never takes the writer lock; always ended when the block ends) and `with writing(session):`
for work that writes (BEGIN IMMEDIATE on SQLite; committed when the block ends, rolled back
if it raises). Blocks nest: an inner block joins the outer one, and a write inside a read is
a programming error. `expire_on_commit` is off so objects returned by a service stay
readable after its commit.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: writers of one process still queue on a thread lock
    fcntl = None  # type: ignore[assignment]

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from framelab.db import checkpoint

SQLITE_BUSY_TIMEOUT_MS = 30_000
PING_AFTER_IDLE_S = 10.0
_IDLE_SINCE = "framelab_idle_since"
SQLITE_BEGIN_MODES = ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")
_HOLDS_WRITER = "framelab_holds_writer_lock"


def is_sqlite(bind: Engine | sa.Connection | Session) -> bool:
    """True when the engine/connection/session talks to SQLite."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return bind.dialect.name == "sqlite"


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so we can choose BEGIN's mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    # SQLite's busy handler polls with sleeps of up to 100 ms, so writers queueing for
    # the write lock would mostly sleep: they queue on a WriterLock first.
    database = engine.url.database
    if database not in (None, "", ":memory:"):
        checkpoint.install(engine, database)  # WAL checkpoints beside requests, not in one
    writer = WriterLock(None if database in (None, "", ":memory:") else database + "-writer.lock")
    _WRITER_LOCKS[engine] = writer

    def _release(conn: sa.Connection) -> None:
        if conn.info.pop(_HOLDS_WRITER, False):
            # Ended in another thread than it began in: the lock was that thread's.
            with contextlib.suppress(RuntimeError):
                writer.release()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = str(conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")).upper()
        if mode not in SQLITE_BEGIN_MODES:
            raise ValueError(
                f"sqlite_begin: {mode!r} is not a mode (expected one of: {', '.join(SQLITE_BEGIN_MODES)})"
            )
        if mode != "DEFERRED" and writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            conn.info[_HOLDS_WRITER] = True
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(conn)
            raise

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


class WriterLock:
    """Where SQLite writers of one database file queue, handed over without sleeping.

    SQLite's busy handler retries a locked database after sleeps of 1, 2, 5, 10 ... 100 ms;
    with several writers most of a write's time went to those sleeps. Threads of one
    process queue on a re-entrant lock; one writer per process then takes an exclusive
    `flock` of `path` (next to the database file), retrying every 0.2 ms while another
    process holds it (the kernel releases it if its holder dies). The SQLite lock itself
    is still taken by BEGIN IMMEDIATE; this only shortens the wait for it.
    Where `flock` is missing (Windows) or for an in-memory database, only threads queue.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path if fcntl is not None else None
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid: int | None = None

    def _file(self) -> int:
        # One open file per process: a descriptor inherited across fork() would be the
        # same open file in parent and child, and flock would not keep them apart.
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            return False
        self._depth += 1
        if self._depth > 1 or self.path is None:
            return True
        try:
            locked = self._lock_file(deadline)
        except OSError:  # no lock file (read-only folder): SQLite's own lock still decides
            self.path = None
            return True
        if not locked:
            self._depth -= 1
            self._threads.release()
        return locked

    def _lock_file(self, deadline: float) -> bool:
        # While another process writes, retry often; give up at the deadline like SQLite's
        # busy timeout would (a writer may be stuck behind a connection of its own).
        fd = self._file()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.0002)

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self.path is not None and self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()


def sqlite_writer_lock(engine: Engine) -> WriterLock:
    """The in-process lock a SQLite writer of `engine` holds from BEGIN to COMMIT/ROLLBACK."""
    return _WRITER_LOCKS[engine]


def _create_private_database_file(database: str) -> None:
    """Create a missing SQLite file (and its folder) for this user only: folder 0700, file 0600.

    SQLite would create the file with the process's umask (often 0644: readable by every
    account on the machine) and gives its -wal and -shm files the same mode as the
    database, so creating it empty here first keeps all three private.
    """
    from pathlib import Path

    from framelab.config import make_private_folder

    path = Path(database).expanduser()
    make_private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with framelab's SQLite pragmas or PostgreSQL pool settings."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("check_same_thread", False)
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        if sa_url.database not in (None, "", ":memory:"):
            _create_private_database_file(sa_url.database)
        engine = sa.create_engine(sa_url, connect_args=connect_args, **kwargs)
        _install_sqlite_hooks(engine)
        return engine
    ping_idle = "pool_pre_ping" not in kwargs
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_recycle", 1800)
    engine = sa.create_engine(sa_url, **kwargs)
    if ping_idle:
        _install_idle_ping(engine)
    return engine


def _install_idle_ping(engine: Engine) -> None:
    """Ping a pooled connection on checkout only if it sat idle (a restarted database)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            ok = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            if not engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise
            ok = False
        if not ok:
            # The pool discards this connection and checks out (or opens) another.
            raise sa.exc.DisconnectionError("idle connection no longer answers")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to `engine`; sessions do not expire objects on commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


_UNIT = "framelab_unit"


class UnitOfWorkError(RuntimeError):
    """A service asked for a transaction the session cannot give (a write inside a read)."""


def _end_stray_transaction(session: Session) -> None:
    # A transaction nobody declared (autobegun by a query outside any block). Ending a
    # clean one is safe; one holding unflushed or flushed changes is a bug to surface.
    if not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted:
        raise UnitOfWorkError("a transaction with changes was left open outside writing()")
    session.rollback()


@contextlib.contextmanager
def reading(session: Session) -> Iterator[Session]:
    """A read-only unit of work on `session`.

    On SQLite the transaction begins DEFERRED, so it never queues for the writer lock and
    never blocks a writer; it always ends (rolls back) when the block ends, so nothing can
    forget to end it. Inside another `reading` or `writing` block it joins that block.
    """
    if session.info.get(_UNIT):
        yield session
        return
    _end_stray_transaction(session)
    session.info[_UNIT] = "read"
    try:
        if is_sqlite(session):
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        yield session
    finally:
        session.info.pop(_UNIT, None)
        session.rollback()


@contextlib.contextmanager
def writing(session: Session) -> Iterator[Session]:
    """A unit of work that writes: committed when the block ends, rolled back if it raises.

    On SQLite it begins IMMEDIATE (after queueing on the writer lock), so a write that first
    reads cannot fail on a stale snapshot. Inside another `writing` block it joins that
    block (the outer one commits); inside a `reading` block it raises UnitOfWorkError.
    """
    unit = session.info.get(_UNIT)
    if unit == "write":
        yield session
        return
    if unit == "read":
        raise UnitOfWorkError("writing() inside reading(): declare the outer block as writing()")
    _end_stray_transaction(session)
    session.info[_UNIT] = "write"
    try:
        session.connection()
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_UNIT, None)
