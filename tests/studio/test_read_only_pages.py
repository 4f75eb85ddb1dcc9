"""A studio page that only reads never takes the SQLite writer lock.

On SQLite every write transaction begins IMMEDIATE after queueing on the process's
WriterLock; a read that began one too would make every participant's answer wait for a
studio page. Read-only services say `with reading(session):` (a DEFERRED transaction),
so the pages below must run without a single writer-lock acquire and without one
`BEGIN IMMEDIATE`, even while another thread holds the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from framelab.db.session import sqlite_writer_lock
from tests.studio.conftest import NOW, OTHER, SLUG

READ_ONLY_PAGES = (
    "/studio/",
    f"/studio/{SLUG}/",
    f"/studio/{SLUG}/dashboard",
    f"/studio/{SLUG}/reach",
    f"/studio/{SLUG}/members",
    f"/studio/{SLUG}/review",
    f"/studio/{SLUG}/audit",
    f"/studio/{SLUG}/study.yaml",
    f"/studio/{SLUG}/launch",
    f"/studio/{SLUG}/downloads",
    f"/studio/{SLUG}/frames",
    f"/studio/{SLUG}/plan",
    f"/studio/{SLUG}/languages",
    f"/studio/{SLUG}/power",
    f"/studio/{SLUG}/preview",
    f"/studio/{SLUG}/results/interim",
    "/studio/library",
    f"/studio/{OTHER}/",  # no role on it: a 404 (a viewer gets 403 for the audit), still reads
)


class Watch:
    """Counts writer-lock acquires and the BEGIN statements of an engine."""

    def __init__(self, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.acquires: list[str] = []
        self.begins: list[str] = []
        lock = sqlite_writer_lock(engine)
        acquire = lock.acquire

        def counted(timeout: float) -> bool:
            self.acquires.append(threading.current_thread().name)
            return acquire(timeout)

        monkeypatch.setattr(lock, "acquire", counted)

        def before(_conn, _cursor, statement, *_args) -> None:
            if statement.upper().startswith("BEGIN"):
                self.begins.append(statement.upper())

        event.listen(engine, "before_cursor_execute", before)
        self._remove = lambda: event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def live_app(studio_app):
    """The studio app with torture-ban live (a target, none completed) for the dashboard."""
    from framelab.services.study_versions import set_status
    from framelab.web.database import db_session

    with studio_app.app_context():
        set_status(db_session(), SLUG, "live", now=NOW)
    return studio_app


@pytest.fixture
def watch(live_app, monkeypatch) -> Iterator[Watch]:
    watched = Watch(live_app.extensions["framelab.engine"], monkeypatch)
    yield watched
    watched._remove()


@pytest.mark.parametrize("email", ["owner@example.org", "viewer@example.org"])
def test_read_only_studio_pages_never_take_the_writer_lock(live_app, watch, email):
    from tests.studio.conftest import sign_in

    client = live_app.test_client()
    sign_in(client, live_app, email)
    watch.acquires.clear()
    watch.begins.clear()
    writes = {}
    for page in READ_ONLY_PAGES:
        response = client.get(page)
        assert response.status_code in (200, 403, 404), (page, response.status_code)
        if watch.acquires or set(watch.begins) - {"BEGIN DEFERRED"}:
            writes[page] = (len(watch.acquires), watch.begins.count("BEGIN IMMEDIATE"))
        watch.acquires.clear()
        assert watch.begins, f"{page} read the database"
        watch.begins.clear()
    assert writes == {}  # page -> (writer-lock acquires, BEGIN IMMEDIATE)


def test_read_only_pages_are_served_while_another_thread_holds_the_writer_lock(live_app):
    from tests.studio.conftest import sign_in

    client = live_app.test_client()
    sign_in(client, live_app, "owner@example.org")
    lock = sqlite_writer_lock(live_app.extensions["framelab.engine"])
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        assert lock.acquire(timeout=5)
        held.set()
        release.wait(timeout=60)
        lock.release()

    thread = threading.Thread(target=writer, name="writer")
    thread.start()
    try:
        assert held.wait(timeout=5)
        statuses: dict[str, int] = {}

        def read_pages() -> None:
            for page in READ_ONLY_PAGES:
                statuses[page] = client.get(page).status_code

        reader = threading.Thread(target=read_pages, name="reader")
        reader.start()
        # A page that queued for the lock would wait for the writer (up to 30 s).
        reader.join(timeout=20)
        assert not reader.is_alive(), "a read-only page waited for the writer lock"
        assert set(statuses) == set(READ_ONLY_PAGES)
    finally:
        release.set()
        thread.join(timeout=10)


def test_a_write_on_the_same_app_does_take_the_writer_lock(live_app, watch):
    """The watch sees acquires at all (a pause is a write)."""
    from tests.studio.conftest import sign_in

    client = live_app.test_client()
    sign_in(client, live_app, "owner@example.org")
    watch.acquires.clear()
    response = client.post(f"/studio/{SLUG}/status/pause")
    assert response.status_code in (200, 302)
    assert watch.acquires
    assert "BEGIN IMMEDIATE" in watch.begins


def test_the_watch_catches_a_read_service_switched_back_to_an_immediate_transaction(
    live_app, watch, monkeypatch
):
    """Were `role_on_study` (every study page asks it) to begin IMMEDIATE, the test above fails."""
    from framelab.db.session import writing
    from framelab.services import accounts
    from tests.studio.conftest import sign_in

    client = live_app.test_client()
    sign_in(client, live_app, "viewer@example.org")
    monkeypatch.setattr(accounts, "reading", writing)
    watch.acquires.clear()
    watch.begins.clear()
    assert client.get(f"/studio/{SLUG}/").status_code == 200
    assert watch.acquires
    assert "BEGIN IMMEDIATE" in watch.begins
