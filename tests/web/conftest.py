"""Shared app/client fixtures for web tests (participant, studio, security).

make_app(database_url, clock=None, **config) -> Flask   # schema created, example study live
app, client            # SQLite in tmp_path, CSRF on (tests use real tokens), virtual clock
app_any_db, client_any_db   # the same on SQLite and (when configured) PostgreSQL
clock                  # VirtualClock the app reads `now` from; .advance(seconds)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from framelab import create_app
from framelab.simulate import VirtualClock
from tests.factories import make_study, publish, session_factory_for

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> VirtualClock:
    """The app's clock: time only moves when a test advances it."""
    return VirtualClock(START)


def make_app(
    database_url: str,
    *,
    clock: VirtualClock | None = None,
    studies: tuple[Any, ...] | None = None,
    status: str = "live",
    **config: Any,
) -> Flask:
    """An app on `database_url` with the schema created and the example study published."""
    with session_factory_for(database_url) as factory, factory() as session:
        for spec in studies or (make_study(),):
            publish(session, spec, status=status)
    settings = {"TESTING": True, "DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True}
    if clock is not None:
        settings["FRAMELAB_CLOCK"] = clock
    settings.update(config)
    return create_app(settings)


def _dispose(app: Flask) -> None:
    app.extensions["framelab.engine"].dispose()


@pytest.fixture
def app(tmp_path, clock) -> Iterator[Flask]:
    """The app on a fresh SQLite file with the example study live."""
    application = make_app(f"sqlite:///{tmp_path / 'web.sqlite'}", clock=clock)
    yield application
    _dispose(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_any_db(database_url, clock) -> Iterator[Flask]:
    """The app on each configured database (SQLite, and PostgreSQL when available)."""
    application = make_app(database_url, clock=clock)
    yield application
    _dispose(application)


@pytest.fixture
def client_any_db(app_any_db):
    return app_any_db.test_client()
