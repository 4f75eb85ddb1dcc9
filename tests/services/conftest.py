"""Fixtures for service tests: a fresh schema on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import make_study, session_factory_for

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def example_spec():
    return make_study()


@pytest.fixture
def factory(database_url):
    with session_factory_for(database_url) as made:
        yield made


@pytest.fixture
def session(factory):
    with factory() as s:
        yield s
