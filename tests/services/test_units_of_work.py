"""reading() and writing(): the units of work every service declares (framelab.db.session).

A read ends when its block ends and, on SQLite, begins DEFERRED (never queueing for the
writer lock); a write commits when its block ends and rolls back if it raises; blocks
nest (the outer one decides) and a write inside a read is refused. The services' own
reads are held to it by tests/studio/test_read_only_pages.py.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from framelab.db.accounts import User
from framelab.db.session import (
    UnitOfWorkError,
    is_sqlite,
    reading,
    sqlite_writer_lock,
    writing,
)
from framelab.services import accounts, invitations
from framelab.services.study_versions import get_study
from tests.factories import publish
from tests.services.conftest import NOW

PASSWORD = "correct horse battery"


@pytest.fixture
def begins(session):
    """The BEGIN statements the session's engine sends (SQLite only names a mode)."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args) -> None:
        if statement.upper().startswith("BEGIN"):
            seen.append(statement.upper())

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    yield seen
    event.remove(engine, "before_cursor_execute", before)


def _users(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(User))


def _user(email: str) -> User:
    return User(
        email=email,
        password_hash="x",
        is_admin=False,
        is_active=True,
        can_create_studies=False,
        must_change_password=False,
        session_version=0,
        failed_logins=0,
        created_at=NOW,
    )


def test_a_read_ends_with_its_block(session):
    with reading(session):
        _users(session)
        assert session.in_transaction()
    assert not session.in_transaction()


def test_a_read_that_raises_still_ends(session):
    with pytest.raises(ZeroDivisionError), reading(session):
        _users(session)
        1 / 0  # noqa: B018
    assert not session.in_transaction()


def test_a_write_commits_when_its_block_ends(session, factory):
    with writing(session):
        session.add(_user("a@example.org"))
    assert not session.in_transaction()
    with factory() as other, reading(other):
        assert _users(other) == 1


def test_a_write_that_raises_is_rolled_back(session):
    with pytest.raises(RuntimeError, match="half way"), writing(session):
        session.add(_user("a@example.org"))
        session.flush()
        raise RuntimeError("half way")
    assert not session.in_transaction()
    with reading(session):
        assert _users(session) == 0


def test_an_inner_block_joins_the_outer_one_and_the_outer_one_commits(session, factory):
    with writing(session):
        session.add(_user("a@example.org"))
        with writing(session):
            session.add(_user("b@example.org"))
        with reading(session):  # a read inside a write sees the write's rows
            assert _users(session) == 2
        assert session.in_transaction()  # the inner blocks ended nothing
        with factory() as other, reading(other):
            assert _users(other) == 0  # not committed yet
    with factory() as other, reading(other):
        assert _users(other) == 2


def test_an_error_in_an_inner_block_rolls_back_the_whole_unit(session):
    with pytest.raises(RuntimeError), writing(session):
        session.add(_user("a@example.org"))
        with writing(session):
            session.add(_user("b@example.org"))
            raise RuntimeError("inner")
    with reading(session):
        assert _users(session) == 0


def test_a_write_inside_a_read_is_refused(session):
    with reading(session), pytest.raises(UnitOfWorkError, match="inside reading"), writing(session):
        pass  # pragma: no cover
    assert not session.in_transaction()


def test_a_clean_stray_transaction_is_ended_and_a_dirty_one_refused(session):
    _users(session)  # autobegun by a query outside any block
    with reading(session):
        assert _users(session) == 0
    session.add(_user("a@example.org"))
    with pytest.raises(UnitOfWorkError, match="left open outside writing"), writing(session):
        pass  # pragma: no cover
    session.rollback()


def test_on_sqlite_a_read_begins_deferred_and_a_write_immediate(session, begins):
    if not is_sqlite(session):
        pytest.skip("BEGIN modes and the writer lock are SQLite's")
    lock = sqlite_writer_lock(session.get_bind())
    acquires = []
    acquire = lock.acquire

    def counted(timeout: float) -> bool:
        acquires.append(timeout)
        return acquire(timeout)

    lock.acquire = counted
    try:
        with reading(session):
            _users(session)
        assert (begins, acquires) == (["BEGIN DEFERRED"], [])
        with writing(session):
            session.add(_user("a@example.org"))
        assert begins == ["BEGIN DEFERRED", "BEGIN IMMEDIATE"]
        assert len(acquires) == 1
    finally:
        del lock.acquire


def test_read_services_begin_deferred_and_write_services_immediate(session, begins):
    if not is_sqlite(session):
        pytest.skip("BEGIN modes are SQLite's")
    slug = publish(session, status="draft").slug
    account = accounts.create_user(session, "owner@example.org", PASSWORD, now=NOW)
    begins.clear()
    loaded = get_study(session, slug)
    accounts.role_on_study(session, account, loaded.id)
    accounts.list_accounts(session)
    accounts.studies_for(session, account)
    assert set(begins) == {"BEGIN DEFERRED"}
    assert not session.in_transaction()
    begins.clear()
    invitations.invite(session, loaded.id, account.email, "editor", invited_by="o", now=NOW)
    assert begins == ["BEGIN IMMEDIATE"]
    assert not session.in_transaction()


def test_a_refused_write_service_leaves_no_transaction_open(session):
    account = accounts.create_user(session, "nobody@example.org", "correct horse battery", now=NOW)
    with pytest.raises(accounts.AccountError, match="invitation: not found"):
        invitations.accept(session, account, 1, now=NOW)
    assert not session.in_transaction()
