"""A live app with one study and its owner signed up, for the studio's browser tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher

from framelab import create_app
from framelab.domain.study import Study
from framelab.services import accounts
from framelab.services.study_versions import get_study
from tests.factories import publish, session_factory_for
from tests.members import give_role
from tests.support.live import serve

EMAIL, PASSWORD = "owner@example.org", "correct horse battery"


@contextlib.contextmanager
def live_study_with_owner(database: Path, spec: Study) -> Iterator[tuple[str, str]]:
    """`spec` live in a new SQLite `database`, EMAIL its owner (a fast password hash for
    the set-up only); the served app's base address and its database URL."""
    url = f"sqlite:///{database}"
    default = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    now = datetime.now(UTC)
    try:
        with session_factory_for(url) as factory, factory() as session:
            accounts.create_user(session, EMAIL, PASSWORD, now=now)
            publish(session, spec, status="live")
            give_role(session, get_study(session, spec.slug).id, EMAIL, "owner", now=now)
    finally:
        accounts._hasher = default
    app = create_app({"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
    with serve(app) as base:
        yield base, url
