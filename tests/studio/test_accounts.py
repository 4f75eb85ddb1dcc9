"""Accounts: argon2 hashes, authentication, roles and permissions, the create-user CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
from tests.members import give_role

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
    give_role(session, first, "ana@example.org", "analyst", now=NOW)
    assert accounts.role_on_study(session, ana, first) == "analyst"
    assert accounts.role_on_study(session, ana, second) is None
    assert accounts.role_on_study(session, admin, second) == "owner"
    give_role(session, first, "ana@example.org", "editor", now=NOW)
    assert accounts.role_on_study(session, ana, first) == "editor"
    assert session.scalar(sa.select(sa.func.count()).select_from(StudyMembership)) == 1
    assert [r.slug for r in accounts.studies_for(session, ana)] == ["first-study"]
    assert [r.slug for r in accounts.studies_for(session, admin)] == ["second-study", "first-study"]


def test_last_owner_cannot_be_removed(sqlite_session):
    session = sqlite_session
    ana = accounts.create_user(session, "ana@example.org", "correct horse battery", now=NOW)
    study = _study(session, "first-study")
    give_role(session, study, "ana@example.org", "owner", now=NOW)
    with pytest.raises(accounts.AccountError, match="at least one owner"):
        accounts.revoke_role(session, study, ana.id)
    with pytest.raises(accounts.AccountError, match=r"^role: 'boss' is not a role"):
        give_role(session, study, "ana@example.org", "boss", now=NOW)


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


# ---------------------------------------------------------------- account security (s007)

STRONG = "tangerine lighthouse mosaic"


def test_the_shipped_common_password_list_is_loaded_and_documented():
    from framelab.services.passwords import COMMON_PASSWORDS, common_passwords

    listed = common_passwords()
    assert len(listed) == 19640 and {"password", "123456", "qwerty123456"} <= listed
    notice = (COMMON_PASSWORDS.parent / "NOTICE.txt").read_text()
    assert "Django 5.2.19" in notice and "Royce Williams" in notice and "BSD" in notice


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("aaaaaaaaaa", "password: must be at least 12 characters long (this one has 10)"),
        ("aaaaaaaaaaaa", "password: uses fewer than 5 different characters"),
        ("987654321098", "password: is a run of neighbouring keys or letters"),
        ("mnbvcxzlkjhg", "password: is a run of neighbouring keys or letters"),
        ("iloveyou2026!", "password: is on the list of common passwords"),
        ("Q1W2E3R4T5Y6", "password: is on the list of common passwords"),
        ("ana.lopez rocks 77", "password: must not contain the name of your e-mail address"),
    ],
)
def test_the_password_policy_refuses_with_the_reason(sqlite_session, password, message):
    with pytest.raises(accounts.AccountError) as refused:
        accounts.create_user(sqlite_session, "ana.lopez@example.org", password, now=NOW)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize("password", ["correct horse battery", STRONG, "Brise-de-mer 1984 ok"])
def test_the_password_policy_accepts_long_uncommon_passwords(password):
    from framelab.services.passwords import password_problem

    assert password_problem(password, email="ana@example.org") is None


def test_failures_alone_count_and_a_known_browser_skips_the_back_off(sqlite_session):
    session = sqlite_session
    ana = accounts.create_user(session, "ana@example.org", STRONG, now=NOW)
    for _ in range(3):
        assert signin.authenticate(session, "ana@example.org", "wrong", now=NOW).outcome == (
            "refused"
        )
    assert signin.authenticate(session, "ana@example.org", STRONG, now=NOW).outcome == "signed_in"
    assert session.scalar(sa.select(User.failed_logins)) == 0  # successes count nothing
    for _ in range(6):
        signin.authenticate(session, "ana@example.org", "wrong", now=NOW)
    waiting = signin.authenticate(session, "ana@example.org", STRONG, now=NOW)
    assert (waiting.outcome, waiting.wait_seconds) == ("wait", 1)
    # Refused unchecked while waiting: the count does not grow.
    assert session.scalar(sa.select(User.failed_logins)) == 6
    mine = signin.authenticate(session, "ana@example.org", STRONG, now=NOW, device_of=ana.id)
    assert mine.outcome == "signed_in"
    other = accounts.create_user(session, "bo@example.org", STRONG, now=NOW)
    for _ in range(6):
        signin.authenticate(session, "ana@example.org", "wrong", now=NOW)
    # Another account's device mark does not help.
    assert (
        signin.authenticate(session, "ana@example.org", STRONG, now=NOW, device_of=other.id).outcome
        == "wait"
    )


def test_reset_links_are_single_use_expire_and_replace_each_other(sqlite_session):
    session = sqlite_session
    ana = accounts.create_user(session, "ana@example.org", STRONG, now=NOW)
    first = signin.issue_reset_link(session, ana.id, issued_by="root@example.org", now=NOW)
    second = signin.issue_reset_link(session, ana.id, issued_by="root@example.org", now=NOW)
    assert signin.reset_link_account(session, first, now=NOW) is None  # replaced
    assert signin.reset_link_account(session, second, now=NOW).email == "ana@example.org"
    later = NOW + signin.RESET_LINK_LIFETIME
    assert signin.reset_link_account(session, second, now=later) is None  # expired
    with pytest.raises(accounts.AccountError, match=r"^new_password: must be at least 12"):
        signin.use_reset_link(session, second, "short", now=NOW)
    changed = signin.use_reset_link(session, second, "a brand new passphrase", now=NOW)
    assert changed.session_version == ana.session_version + 1
    with pytest.raises(accounts.AccountError, match=r"^token: this reset link is not valid"):
        signin.use_reset_link(session, second, "yet another passphrase", now=NOW)
    result = signin.authenticate(session, "ana@example.org", "a brand new passphrase", now=NOW)
    assert result.outcome == "signed_in"


def test_change_password_checks_the_current_one_and_ends_other_sessions(sqlite_session):
    session = sqlite_session
    ana = accounts.create_user(session, "ana@example.org", STRONG, temporary=True, now=NOW)
    assert ana.must_change_password
    with pytest.raises(accounts.AccountError, match=r"^current_password: is not your current"):
        signin.change_password(session, ana.id, "not it at all", "a brand new passphrase", now=NOW)
    with pytest.raises(accounts.AccountError, match=r"^new_password: uses fewer than 5"):
        signin.change_password(session, ana.id, STRONG, "x" * 14, now=NOW)
    changed = signin.change_password(session, ana.id, STRONG, "a brand new passphrase", now=NOW)
    assert not changed.must_change_password
    assert not signin.session_is_current(changed, ana.session_version)
    assert signin.session_is_current(changed, changed.session_version)


def test_deactivation_ends_sessions_and_an_admin_cannot_deactivate_themselves(sqlite_session):
    session = sqlite_session
    root = accounts.create_user(session, "root@example.org", STRONG, is_admin=True, now=NOW)
    ana = accounts.create_user(session, "ana@example.org", STRONG, now=NOW)
    with pytest.raises(accounts.AccountError, match="cannot deactivate your own account"):
        accounts.set_active(session, root.id, False, actor_id=root.id)
    off = accounts.set_active(session, ana.id, False, actor_id=root.id)
    assert not off.is_active and off.session_version == ana.session_version + 1
    assert accounts.get_account(session, ana.id) is None
    assert signin.authenticate(session, "ana@example.org", STRONG, now=NOW) == signin.REFUSED


def test_invitations_are_the_same_for_unknown_addresses_and_start_on_acceptance(session):
    from framelab.services import invitations

    ana = accounts.create_user(session, "ana@example.org", STRONG, now=NOW)
    bo = accounts.create_user(session, "bo@example.org", STRONG, now=NOW)
    study = _study(session, "first-study")
    give_role(session, study, "bo@example.org", "viewer", now=NOW)
    invite = invitations.invite
    assert invite(session, study, "Ana@example.org", "editor", invited_by="o", now=NOW) == "invited"
    assert invite(session, study, "ghost@example.org", "editor", invited_by="o", now=NOW) == (
        "invited"
    )
    # A current member (already listed on the member page) gets the new role at once.
    assert invite(session, study, "bo@example.org", "analyst", invited_by="o", now=NOW) == "changed"
    assert accounts.role_on_study(session, bo, study) == "analyst"
    pending = invitations.pending_for_study(session, study, now=NOW)
    assert [(i.email, i.role) for i in pending] == [
        ("ana@example.org", "editor"),
        ("ghost@example.org", "editor"),
    ]
    assert accounts.role_on_study(session, ana, study) is None
    mine = invitations.pending_for(session, ana, now=NOW)
    assert [(i.slug, i.role, i.invited_by) for i in mine] == [("first-study", "editor", "o")]
    with pytest.raises(accounts.AccountError, match=r"^invitation: not found"):
        invitations.accept(session, bo, mine[0].id, now=NOW)
    expired = NOW + invitations.INVITATION_LIFETIME
    assert invitations.pending_for(session, ana, now=expired) == []
    assert invitations.accept(session, ana, mine[0].id, now=NOW) == "first-study"
    assert accounts.role_on_study(session, ana, study) == "editor"
    assert [i.email for i in invitations.pending_for_study(session, study, now=NOW)] == [
        "ghost@example.org"
    ]
    ghost = invitations.pending_for_study(session, study, now=NOW)[0]
    invitations.withdraw(session, study, ghost.id)
    assert invitations.pending_for_study(session, study, now=NOW) == []


def test_totp_codes_match_one_step_either_side_and_enable_needs_a_right_code(sqlite_session):
    import pyotp

    from framelab.services import two_factor

    secret = two_factor.new_secret()
    totp = pyotp.TOTP(secret)
    step = int(NOW.timestamp()) // 30
    assert two_factor.matching_step(secret, totp.at(NOW), NOW) == step
    assert two_factor.matching_step(secret, totp.at(NOW.timestamp() - 30), NOW) == step - 1
    assert two_factor.matching_step(secret, totp.at(NOW.timestamp() + 90), NOW) is None
    assert two_factor.matching_step(secret, "12345", NOW) is None
    assert two_factor.matching_step(secret, "١٢٣٤٥٦", NOW) is None  # non-ASCII digits
    ana = accounts.create_user(sqlite_session, "ana@example.org", STRONG, now=NOW)
    with pytest.raises(accounts.AccountError, match=r"^code: does not match"):
        two_factor.enable(sqlite_session, ana.id, secret, "000000", now=NOW)
    on = two_factor.enable(sqlite_session, ana.id, secret, totp.at(NOW), now=NOW)
    assert on.two_factor and on.session_version == ana.session_version + 1
    stored = sqlite_session.scalar(sa.select(User.totp_secret))
    assert stored == secret
    result = signin.authenticate(sqlite_session, "ana@example.org", STRONG, now=NOW)
    assert result.outcome == "code_needed"
    replay = signin.verify_code(sqlite_session, ana.id, on.session_version, totp.at(NOW), now=NOW)
    assert replay == signin.REFUSED  # the confirming code was spent
    later = NOW + timedelta(seconds=30)
    done = signin.verify_code(sqlite_session, ana.id, on.session_version, totp.at(later), now=later)
    assert done.outcome == "signed_in"


def test_reset_password_cli_prints_a_working_link_and_can_remove_two_factor(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    upgrade(url)
    monkeypatch.setenv("FRAMELAB_DATABASE_URL", url)
    runner = CliRunner()
    weak = runner.invoke(main, ["create-user", "a@example.org", "--password-stdin"], input="x" * 12)
    assert weak.exit_code != 0 and "password: uses fewer than 5 different" in weak.output
    made = runner.invoke(
        main,
        ["create-user", "ana@example.org", "--password-stdin", "--temporary"],
        input=STRONG + "\n",
    )
    assert made.exit_code == 0, made.output
    missing = runner.invoke(main, ["reset-password", "nobody@example.org"])
    assert missing.exit_code != 0 and "no account for 'nobody@example.org'" in missing.output
    result = runner.invoke(
        main,
        [
            "reset-password",
            "ana@example.org",
            "--base-url",
            "https://s.example.org/",
            "--remove-two-factor",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "removed the second factor of ana@example.org" in result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("https://s.example.org/studio/reset/")
    token = link.rsplit("/", 1)[1]
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        account = signin.use_reset_link(s, token, "a brand new passphrase", now=datetime.now(UTC))
        assert account.email == "ana@example.org" and not account.must_change_password
    engine.dispose()
