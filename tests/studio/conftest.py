"""Studio fixtures: an app with the studio blueprint, accounts for every role, signed-in clients.

studio_app            # SQLite app; torture-ban (draft) with owner/editor/analyst/viewer,
                      # other-study owned by `stranger`; CSRF off unless a test turns it on;
                      # the owner, editor, stranger and admin may create studies
client_for(email)     # a test client signed in as that account (None: anonymous)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from framelab import create_app
from framelab.services import accounts
from tests.factories import make_study, publish, session_factory_for
from tests.members import give_role

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
SLUG = "torture-ban"
OTHER = "other-study"
# Values for the studio URL rules' variables, for tests that enumerate the URL map;
# `action=pause` keeps an allowed POST harmless on a draft study.
RULE_VALUES = {
    "slug": SLUG,
    "arm_id": "care",
    "lang": "es",
    "step": "message",
    "action": "pause",
    "fmt": "csv",
    "item_id": "support",
    "scale_id": "care_values",
    "user_id": 1,
    "token": "no-such-reset-token",
}
# Accounts a site admin allowed to create studies (the others may not).
CREATORS = ("owner@example.org", "editor@example.org", "stranger@example.org")
# email -> role on torture-ban (None: no role)
PEOPLE = {
    "owner@example.org": "owner",
    "editor@example.org": "editor",
    "analyst@example.org": "analyst",
    "viewer@example.org": "viewer",
    "stranger@example.org": None,
}


def fill_database(database_url: str, *, status: str = "draft") -> None:
    """The example study, other-study, and one account per role."""
    with session_factory_for(database_url) as factory, factory() as session:
        publish(session, make_study(), status=status)
        publish(session, make_study(slug=OTHER), status="draft")
        ids = {}
        for email in PEOPLE:
            ids[email] = accounts.create_user(
                session, email, PASSWORD, can_create_studies=email in CREATORS, now=NOW
            ).id
        study_ids = {s.slug: s.id for s in accounts.studies_for(session, _admin(session))}
        for email, role in PEOPLE.items():
            if role:
                give_role(session, study_ids[SLUG], email, role, now=NOW)
        give_role(session, study_ids[OTHER], "stranger@example.org", "owner", now=NOW)


def build_app(database_url: str, **config: object) -> Flask:
    """The app with the studio blueprint on an already filled database."""
    settings = {"TESTING": True, "DATABASE_URL": database_url, "WTF_CSRF_ENABLED": False}
    settings.update(config)
    app = create_app(settings)
    if "studio" not in app.blueprints:
        from framelab.web.studio import bp

        app.register_blueprint(bp)
    return app


def _admin(session) -> accounts.Account:
    return accounts.create_user(session, "admin@example.org", PASSWORD, is_admin=True, now=NOW)


@pytest.fixture(scope="session")
def studio_template(tmp_path_factory) -> Path:
    """A filled SQLite file, made once: argon2 hashing is deliberately slow."""
    path = tmp_path_factory.mktemp("studio-template") / "studio.sqlite"
    # Cheap argon2 parameters for the fixture accounts only: verification reads the
    # parameters from each hash, so signing in stays real but fast.
    default = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        fill_database(f"sqlite:///{path}")
    finally:
        accounts._hasher = default
    return path


def copy_database(template: Path, target: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{template}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{target}{suffix}")
    return f"sqlite:///{target}"


@pytest.fixture
def studio_app(tmp_path, studio_template) -> Iterator[Flask]:
    app = build_app(copy_database(studio_template, tmp_path / "studio.sqlite"))
    yield app
    app.extensions["framelab.engine"].dispose()


def sign_in(client: FlaskClient, app: Flask, email: str) -> None:
    """Put the account in the client's Flask-Login session (the login form has its own test).

    The cookie names the account and its current session version, as a sign-in does.
    """
    from sqlalchemy import select

    from framelab.db.accounts import User
    from framelab.web.database import db_session

    with app.app_context():
        user_id, version = (
            db_session()
            .execute(select(User.id, User.session_version).where(User.email == email))
            .one()
        )
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user_id}:{version}"
        sess["_fresh"] = True


@pytest.fixture
def client_for(studio_app) -> Callable[[str | None], FlaskClient]:
    def make(email: str | None) -> FlaskClient:
        client = studio_app.test_client()
        if email is not None:
            sign_in(client, studio_app, email)
        return client

    return make
