"""The participant hot path's statements, run straight on the driver's cursor.

A participant page costs one or a few small statements. Through a Session or a Core
`Connection` each one costs about 30-60 microseconds of SQLAlchemy bookkeeping (execution
context, events, result objects) around 5 microseconds of SQLite; on a two-core server that
bookkeeping was most of a page. Here a statement is still written once in SQLAlchemy Core
(so it is dialect-neutral and checked against the models), compiled once per dialect and
set of columns, and then run on the pooled DBAPI connection with SQLAlchemy's own type
processors for its parameters and results (UTC datetimes, booleans).

Transactions keep framelab's rules (framelab.db.session): on SQLite a writer first queues
on the engine's in-process writer lock and then takes `BEGIN IMMEDIATE`; a reader runs
its one statement in autocommit. On PostgreSQL a reader runs in autocommit and a writer
in one transaction. Driver errors are raised as SQLAlchemy's exception classes (an
`IntegrityError` is an `sqlalchemy.exc.IntegrityError`), and a connection that was lost
is invalidated in the pool.

Participant hot path only; everything else uses the Session. Its one user is
framelab.services.participant_store (a test checks that no other module imports this
one). Only what the hot path needs is supported: no column defaults (give every value),
no expanding IN parameters.
"""

from __future__ import annotations

import contextlib
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from framelab.db.session import SQLITE_BUSY_TIMEOUT_MS, sqlite_writer_lock

__all__ = [
    "Direct",
    "DirectRows",
    "DirectStatement",
    "direct_read",
    "direct_write",
    "for_session",
    "in_session",
    "insert_values",
    "row_params",
]


def insert_values(table: sa.Table, *names: str) -> sa.Insert:
    """INSERT of the named columns, each from the parameter of the same name."""
    return sa.insert(table).values({n: sa.bindparam(n, type_=table.c[n].type) for n in names})


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # parameter order for positional drivers, else None
    binds: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]  # name, processor, default
    row: type | None  # namedtuple of the result columns
    results: tuple[Callable[[Any], Any] | None, ...]


class DirectStatement:
    """A Core statement compiled once per dialect (and per SET columns for an UPDATE)."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...] | None], _Compiled] = {}

    def compiled(self, dialect: sa.Dialect, columns: tuple[str, ...] | None = None) -> _Compiled:
        key = (dialect.name, columns)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect, columns)
        return found

    def _compile(self, dialect: sa.Dialect, columns: tuple[str, ...] | None) -> _Compiled:
        kw = {"column_keys": list(columns)} if columns is not None else {}
        compiled = self.statement.compile(dialect=dialect, **kw)
        binds = []
        for name, bind in compiled.binds.items():
            if bind.expanding:
                raise ValueError(f"{name}: expanding parameters are not supported here")
            default = bind.value if bind.callable is None else bind.callable()
            binds.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect), default))
        positional = compiled.positiontup if dialect.positional else None
        row = None
        results: tuple = ()
        exported = getattr(self.statement, "exported_columns", None)
        if isinstance(self.statement, sa.Select) or (
            exported is not None and getattr(self.statement, "_returning", ())
        ):
            keys = [c.key for c in exported]
            row = namedtuple("Row", keys, rename=True)
            results = tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in exported
            )
        return _Compiled(
            str(compiled), tuple(positional) if positional else None, tuple(binds), row, results
        )


class DirectRows:
    """An INSERT of several rows as one statement (one execution for the database).

    `build(n)` returns the statement for `n` rows, whose parameters are named
    `<name>_<i>` (see `row_params`); it is compiled once per dialect and row count.
    """

    def __init__(self, build: Callable[[int], sa.Executable]) -> None:
        self.build = build
        self._statements: dict[int, DirectStatement] = {}

    def for_rows(self, n: int) -> DirectStatement:
        found = self._statements.get(n)
        if found is None:
            found = self._statements[n] = DirectStatement(self.build(n))
        return found


def row_params(n: int, types: Mapping[str, sa.types.TypeEngine]) -> list[dict[str, Any]]:
    """For `DirectRows` builders: `n` rows of bind parameters `<name>_<i>` of these types."""
    return [
        {name: sa.bindparam(f"{name}_{i}", type_=type_) for name, type_ in types.items()}
        for i in range(n)
    ]


class Direct:
    """A DBAPI connection in a transaction (or in autocommit), running DirectStatements."""

    def __init__(self, dbapi_connection: Any, dialect: sa.Dialect) -> None:
        self.dbapi = dbapi_connection
        self.dialect = dialect

    @property
    def name(self) -> str:
        return self.dialect.name

    def _params(self, compiled: _Compiled, given: Mapping[str, Any]) -> Any:
        values = {}
        for name, process, default in compiled.binds:
            value = given.get(name, default)
            values[name] = process(value) if process is not None and value is not None else value
        if compiled.names is not None:
            return tuple(values[name] for name in compiled.names)
        return values

    def _row(self, compiled: _Compiled, raw: Sequence[Any]) -> Any:
        values = [
            process(value) if process is not None else value
            for process, value in zip(compiled.results, raw, strict=True)
        ]
        return compiled.row(*values)

    def _run(self, statement: DirectStatement, params: Mapping[str, Any], columns=None):
        compiled = statement.compiled(self.dialect, columns)
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(compiled.sql, self._params(compiled, params))
            raw = cursor.fetchall() if compiled.row is not None else None
        except self.dialect.loaded_dbapi.Error as error:
            raise _wrapped(compiled.sql, params, error, self.dialect) from error
        finally:
            cursor.close()
        return compiled, raw

    def all(self, statement: DirectStatement, params: Mapping[str, Any]) -> list[Any]:
        compiled, raw = self._run(statement, params)
        return [self._row(compiled, r) for r in raw or ()]

    def one_or_none(self, statement: DirectStatement, params: Mapping[str, Any]) -> Any:
        rows = self.all(statement, params)
        if len(rows) > 1:
            raise sa.exc.MultipleResultsFound("more than one row where at most one was expected")
        return rows[0] if rows else None

    def scalar(self, statement: DirectStatement, params: Mapping[str, Any]) -> Any:
        row = self.one_or_none(statement, params)
        return None if row is None else row[0]

    def execute(self, statement: DirectStatement, params: Mapping[str, Any]) -> None:
        self._run(statement, params)

    def update(self, statement: DirectStatement, values: Mapping[str, Any], **where: Any) -> None:
        """An UPDATE whose SET columns are the keys of `values` (WHERE parameters by name)."""
        self._run(statement, {**values, **where}, columns=tuple(values))

    def insert_rows(self, statement: DirectRows, rows: Sequence[Mapping[str, Any]]) -> None:
        """All `rows` in one statement, an INSERT or another `DirectRows` (parameters by name)."""
        if rows:
            flat = {f"{k}_{i}": v for i, row in enumerate(rows) for k, v in row.items()}
            self._run(statement.for_rows(len(rows)), flat)


def _wrapped(sql: str, params: Any, error: Exception, dialect: sa.Dialect) -> Exception:
    return sa.exc.DBAPIError.instance(
        sql, params, error, dialect.loaded_dbapi.Error, dialect=dialect
    )


@contextlib.contextmanager
def _pooled(engine: Engine) -> Iterator[Any]:
    fairy = engine.raw_connection()
    try:
        yield fairy
    except BaseException as error:
        dbapi_error = engine.dialect.loaded_dbapi.Error
        orig = getattr(error, "orig", error)
        if isinstance(orig, dbapi_error) and engine.dialect.is_disconnect(
            orig, fairy.dbapi_connection, None
        ):
            fairy.invalidate(orig)
        raise
    finally:
        fairy.close()  # back to the pool (which rolls back anything left open)


@contextlib.contextmanager
def direct_read(engine: Engine) -> Iterator[Direct]:
    """A connection for reads only, in autocommit: each statement sees committed data."""
    with _pooled(engine) as fairy:
        dbapi = fairy.driver_connection
        if engine.dialect.name == "postgresql":
            dbapi.autocommit = True
            try:
                yield Direct(dbapi, engine.dialect)
            finally:
                with contextlib.suppress(Exception):
                    dbapi.autocommit = False
        else:
            yield Direct(dbapi, engine.dialect)


@contextlib.contextmanager
def direct_write(engine: Engine) -> Iterator[Direct]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    with _pooled(engine) as fairy:
        dbapi = fairy.driver_connection
        if engine.dialect.name != "sqlite":
            with _postgres_transaction(dbapi, engine.dialect) as db:
                yield db
            return
        writer = sqlite_writer_lock(engine)
        held = writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            with _spelled_out(dbapi, engine.dialect, "BEGIN IMMEDIATE") as db:
                yield db
        finally:
            if held:
                writer.release()


@contextlib.contextmanager
def _spelled_out(dbapi: Any, dialect: sa.Dialect, begin: str) -> Iterator[Direct]:
    """A transaction sent as statements: `begin`, the work, COMMIT (ROLLBACK on any error)."""
    try:
        dbapi.execute(begin)
    except dialect.loaded_dbapi.Error as error:
        raise _wrapped(begin, (), error, dialect) from error
    try:
        yield Direct(dbapi, dialect)
        dbapi.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            dbapi.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def _postgres_transaction(dbapi: Any, dialect: sa.Dialect) -> Iterator[Direct]:
    """BEGIN ... COMMIT in psycopg's pipeline mode: two round trips for a page's write.

    The connection is put in autocommit and the transaction is written out, so BEGIN
    travels with the first statement instead of on its own. Pipeline mode sends each
    statement without waiting for its answer until a result is fetched: the lookup's
    fetch is one round trip (BEGIN, SELECT ... FOR UPDATE), the writes and the COMMIT a
    second. An error anywhere rolls the transaction back.
    """
    pipeline = getattr(dbapi, "pipeline", None)
    if pipeline is None:  # another driver: its own transaction handling
        try:
            yield Direct(dbapi, dialect)
            dbapi.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                dbapi.rollback()
            raise
        return
    dbapi.autocommit = True
    try:
        with pipeline(), _spelled_out(dbapi, dialect, "BEGIN") as db:
            yield db
    except dialect.loaded_dbapi.Error as error:
        # In pipeline mode a statement's error can surface only at the COMMIT or when the
        # pipeline closes: raise it as SQLAlchemy's class, like every other error here.
        raise _wrapped("COMMIT", (), error, dialect) from error
    finally:
        with contextlib.suppress(Exception):
            dbapi.autocommit = False


def in_session(session: Session) -> Direct:
    """The session's own connection and transaction (begun if need be), for mixed work."""
    connection = session.connection()
    return Direct(connection.connection.driver_connection, connection.dialect)


@contextlib.contextmanager
def for_session(session: Session, *, write: bool) -> Iterator[Direct]:
    """Direct work for a service called with `session`: on its own connection, or the session's.

    A web request's session has not begun (the usual case): the work runs on a pooled
    connection of its own (`direct_read`, or one `direct_write` transaction). A session
    already in a transaction (a script, a test) would hold SQLite's write lock against a
    second connection, so the work joins that transaction and commits it when the block
    ends, as every service commits before returning; an error rolls it back.
    """
    if not session.in_transaction():
        engine = session.get_bind()
        with direct_write(engine) if write else direct_read(engine) as db:
            yield db
        return
    try:
        yield in_session(session)
    except BaseException:
        session.rollback()
        raise
    session.commit()
