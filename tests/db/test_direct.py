"""framelab.db.direct: Core statements on the driver's cursor, with SQLAlchemy's types and errors."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from framelab.db.direct import (
    DirectRows,
    DirectStatement,
    direct_read,
    direct_write,
    for_session,
    insert_values,
    row_params,
)
from framelab.db.models import UTCDateTime
from framelab.db.session import WriterLock, make_engine, make_session_factory

metadata = sa.MetaData()
things = sa.Table(
    "thing",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(20), nullable=False, unique=True),
    sa.Column("flag", sa.Boolean, nullable=False),
    sa.Column("at", UTCDateTime()),  # framelab's TypeDecorator: aware UTC on both databases
)
INSERT = DirectStatement(insert_values(things, "name", "flag", "at"))
BY_NAME = DirectStatement(
    sa.select(things.c.name, things.c.flag, things.c.at).where(
        things.c.name == sa.bindparam("name")
    )
)
ALL = DirectStatement(sa.select(things.c.name).order_by(things.c.name))
UPDATE = DirectStatement(things.update().where(things.c.name == sa.bindparam("_name")))
MANY = DirectRows(
    lambda n: sa.insert(things).values(row_params(n, {"name": sa.String(), "flag": sa.Boolean()}))
)
T = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_values_round_trip_with_sqlalchemy_types(engine):
    with direct_write(engine) as db:
        db.execute(INSERT, {"name": "a", "flag": True, "at": T})
        db.insert_rows(MANY, [{"name": "b", "flag": False}, {"name": "c", "flag": True}])
        db.update(UPDATE, {"flag": False, "at": T + timedelta(hours=1)}, _name="a")
    with direct_read(engine) as db:
        row = db.one_or_none(BY_NAME, {"name": "a"})
        assert (row.name, row.flag, row.at) == ("a", False, T + timedelta(hours=1))
        assert row.at.tzinfo is not None and type(row.flag) is bool
        assert [r.name for r in db.all(ALL, {})] == ["a", "b", "c"]
        assert db.one_or_none(BY_NAME, {"name": "nobody"}) is None


def test_an_error_rolls_back_the_whole_transaction_and_is_sqlalchemys(engine):
    with pytest.raises(sa.exc.IntegrityError), direct_write(engine) as db:
        db.execute(INSERT, {"name": "x", "flag": True, "at": None})
        db.execute(INSERT, {"name": "x", "flag": False, "at": None})  # unique name
    with direct_read(engine) as db:
        assert db.all(ALL, {}) == []
    # The pooled connection is usable again afterwards.
    with direct_write(engine) as db:
        db.execute(INSERT, {"name": "y", "flag": True, "at": None})
    with direct_read(engine) as db:
        assert [r.name for r in db.all(ALL, {})] == ["y"]


def test_for_session_joins_a_session_in_a_transaction_and_commits_it(engine):
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(sa.insert(things).values(name="in-session", flag=True))
        with for_session(session, write=True) as db:
            db.execute(INSERT, {"name": "direct", "flag": False, "at": None})
        assert not session.in_transaction()  # committed, as a service does
        session.execute(sa.insert(things).values(name="rolled-back", flag=True))
        with pytest.raises(RuntimeError), for_session(session, write=True) as db:
            db.scalar(BY_NAME, {"name": "direct"})
            raise RuntimeError("an error inside the block")
        assert not session.in_transaction()  # rolled back: nothing of it was kept
    with direct_read(engine) as db:
        assert [r.name for r in db.all(ALL, {})] == ["direct", "in-session"]


def _hold(path: str, ready, release) -> None:
    lock = WriterLock(path)
    assert lock.acquire(timeout=5)
    ready.set()
    release.wait(10)
    lock.release()


def test_writer_lock_queues_writers_of_other_processes(tmp_path):
    path = str(tmp_path / "db.sqlite-writer.lock")
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(path, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        mine = WriterLock(path)
        began = time.monotonic()
        assert mine.acquire(timeout=0.3) is False  # the other process holds it
        assert time.monotonic() - began >= 0.25
        release.set()
        assert mine.acquire(timeout=10) is True  # handed over once released
        assert mine.acquire(timeout=0.1) is True  # re-entrant in one thread
        mine.release()
        mine.release()
    finally:
        release.set()
        holder.join(10)
