"""PostgreSQL connections are pinged only after sitting idle, and a dead one is replaced."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from framelab.db import session as db_session
from framelab.db.session import make_engine

pytestmark = pytest.mark.skipif(
    not os.environ.get("FRAMELAB_TEST_DATABASE_URL"),
    reason="needs FRAMELAB_TEST_DATABASE_URL (PostgreSQL)",
)


@pytest.fixture
def engine():
    engine = make_engine(os.environ["FRAMELAB_TEST_DATABASE_URL"], pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT pg_backend_pid()"))


def _terminate(pid: int) -> None:
    killer = sa.create_engine(os.environ["FRAMELAB_TEST_DATABASE_URL"])
    with killer.begin() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


def test_busy_connection_is_reused_without_a_ping(engine):
    first = _backend_pid(engine)
    assert _backend_pid(engine) == first


def test_connection_killed_while_idle_is_replaced_on_checkout(engine, monkeypatch):
    first = _backend_pid(engine)
    _terminate(first)
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_S", 0.0)
    second = _backend_pid(engine)  # no error: the ping found the dead connection
    assert second != first
