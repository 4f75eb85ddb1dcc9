"""Accounts: argon2 hashes, authentication, roles and permissions, the create-user CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from click.testing import CliRunner

from framelab.cli import main
from framelab.db.accounts import StudyMembership, User
from framelab.db.migrate import upgrade
from framelab.db.models import Study
from framelab.db.session import make_engine, make_session_factory
from framelab.services import accounts, signin

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    """Cheap argon2 parameters (same algorithm); the default parameters have their own test."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def _session(url):
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


@pytest.fixture
def session(database_url):
    """On SQLite and PostgreSQL: for tests of constraints and queries."""
    yield from _session(database_url)


@pytest.fixture
def sqlite_session(tmp_path):
    yield from _session(f"sqlite:///{tmp_path / 'accounts.sqlite'}")


def _study(session, slug: str) -> int:
    study = Study(slug=slug, title=slug, status="draft", created_at=NOW, updated_at=NOW)
    session.add(study)
    session.commit()
    return study.id


def test_passwords_are_stored_only_as_argon2id_hashes(sqlite_session, monkeypatch):
    session = sqlite_session
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher())  # the production parameters
    account = accounts.create_user(session, " Ana@Example.org ", "correct horse battery", now=NOW)
    assert account.email == "ana@example.org"
    stored = session.scalar(sa.select(User.password_hash).where(User.id == account.id))
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse" not in stored


def test_authenticate_accepts_the_right_password_only(sqlite_session):
    session = sqlite_session
    accounts.create_user(session, "ana@example.org", "correct horse battery", now=NOW)
    right = signin.authenticate(session, "ANA@example.org", "correct horse battery", now=NOW)
    assert right.outcome == "signed_in" and right.account.email == "ana@example.org"
    for email, password in [
        ("ana@example.org", "wrong password!!"),
        ("nobody@example.org", "whatever12345"),
        ("not an email", "whatever12345"),
    ]:
        assert signin.authenticate(session, email, password, now=NOW) == signin.REFUSED
    last = session.scalar(sa.select(User.last_login_at))
    assert last == NOW


def test_duplicate_email_short_password_and_bad_email_are_refused_with_the_field_named(session):
    accounts.create_user(session, "ana@example.org", "correct horse battery", now=NOW)
    with pytest.raises(accounts.AccountError, match=r"^email: an account for 'ana@example.org'"):
        accounts.create_user(session, "Ana@example.org", "another password", now=NOW)
    with pytest.raises(accounts.AccountError, match=r"^password: must be at least 12"):
        accounts.create_user(session, "bo@example.org", "short", now=NOW)
    with pytest.raises(accounts.AccountError, match=r"^email: 'bo' is not an email address"):
        accounts.create_user(session, "bo", "long enough password", now=NOW)


def test_roles_are_per_study_and_admins_own_everything(session):
    ana = accounts.create_user(session, "ana@example.org", "correct horse battery", now=NOW)
    admin = accounts.create_user(
        session, "root@example.org", "correct horse battery", is_admin=True, now=NOW
    )
    first, second = _study(session, "first-study"), _study(session, "second-study")
    accounts.grant_role(session, first, "ana@example.org", "analyst", now=NOW)
    assert accounts.role_on_study(session, ana, first) == "analyst"
    assert accounts.role_on_study(session, ana, second) is None
    assert accounts.role_on_study(session, admin, second) == "owner"
    accounts.grant_role(session, first, "ana@example.org", "editor", now=NOW)
    assert accounts.role_on_study(session, ana, first) == "editor"
    assert session.scalar(sa.select(sa.func.count()).select_from(StudyMembership)) == 1
    assert [r.slug for r in accounts.studies_for(session, ana)] == ["first-study"]
    assert [r.slug for r in accounts.studies_for(session, admin)] == ["second-study", "first-study"]


def test_last_owner_cannot_be_removed(sqlite_session):
    session = sqlite_session
    ana = accounts.create_user(session, "ana@example.org", "correct horse battery", now=NOW)
    study = _study(session, "first-study")
    accounts.grant_role(session, study, "ana@example.org", "owner", now=NOW)
    with pytest.raises(accounts.AccountError, match="at least one owner"):
        accounts.revoke_role(session, study, ana.id)
    with pytest.raises(accounts.AccountError, match=r"^role: 'boss' is not a role"):
        accounts.grant_role(session, study, "ana@example.org", "boss", now=NOW)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("owner", {"view", "edit", "translate", "plan", "results", "manage"}),
        ("reviewer", {"view", "review"}),
        ("editor", {"view", "edit", "translate"}),
        ("analyst", {"view", "plan", "results"}),
        ("translator", {"view", "translate"}),
        ("viewer", {"view"}),
        (None, set()),
    ],
)
def test_each_role_has_exactly_its_permissions(role, allowed):
    granted = {p for p in accounts.PERMISSIONS if accounts.role_allows(role, p)}
    assert granted == allowed


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(ValueError, match="permission: 'delete' is unknown"):
        accounts.role_allows("owner", "delete")


def test_create_user_cli_makes_an_admin_from_stdin(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    upgrade(url)
    monkeypatch.setenv("FRAMELAB_DATABASE_URL", url)
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["create-user", "root@example.org", "--password-stdin", "--admin"],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    assert "created admin account root@example.org" in result.output
    again = runner.invoke(
        main, ["create-user", "root@example.org", "--password-stdin"], input="another password\n"
    )
    assert again.exit_code != 0
    assert "email: an account for 'root@example.org' already exists" in again.output
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        assert signin.authenticate(
            s, "root@example.org", "correct horse battery", now=NOW
        ).account.is_admin
    engine.dispose()
