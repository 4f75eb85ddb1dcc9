"""Issue 16, findings 6, 7 and 8: attacks on studio accounts, each of which now fails.

6. A session cookie saved before sign-out (or a password change, or deactivation)
   still opened the studio for up to 31 days.
7. Ten wrong passwords from ten addresses locked the admin's right password out.
8. "Add member" told the owner which e-mails have accounts and added them silently;
   a password of identical characters was accepted; an admin's temporary password
   was permanent; every account, viewers included, could create studies.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from framelab.db.accounts import PasswordReset, StudyMembership, User
from framelab.services import accounts, signin
from tests.security.conftest import table_rows
from tests.studio.conftest import PASSWORD, SLUG, build_app, copy_database, fill_database

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "tangerine lighthouse mosaic"


class Clock:
    """The studio's clock in these tests: time moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """The app's clock (config FRAMELAB_CLOCK, read by framelab.clock.now in its requests)."""
    return Clock()


@pytest.fixture
def app(database_url, tmp_path, studio_template, clock, monkeypatch):
    """The studio's accounts and studies on SQLite and on PostgreSQL."""
    if database_url.startswith("sqlite"):
        url = copy_database(studio_template, tmp_path / "attacks.sqlite")
    else:
        monkeypatch.setattr(
            accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        url = database_url
        fill_database(url)
    # Per-source limits are checked in test_rate_limits.py; here one attacker address
    # is free to send as many attempts as the per-account rules allow.
    app = build_app(url, RATELIMIT_ENABLED=False, FRAMELAB_CLOCK=clock)
    yield app
    app.extensions["framelab.engine"].dispose()


def browser(app, address: str = "198.51.100.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, email: str, password: str = PASSWORD) -> int:
    return client.post("/studio/login", data={"email": email, "password": password}).status_code


def user_row(app, email: str):
    with app.extensions["framelab.engine"].connect() as conn:
        return conn.execute(sa.select(User.__table__).where(User.email == email)).one()


# ---------------------------------------------------------------- finding 6


def saved_session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay(app, cookie: str):
    """A fresh browser holding only a copied session cookie opens the study list."""
    thief = browser(app, "203.0.113.66")
    thief.set_cookie("session", cookie)
    return thief.get("/studio/")


def test_a_cookie_saved_before_sign_out_opens_nothing_afterwards(app):
    owner = browser(app)
    assert sign_in(owner, "owner@example.org") == 302
    cookie = saved_session_cookie(owner)
    assert replay(app, cookie).status_code == 200  # the copy works while signed in...
    assert owner.post("/studio/logout").status_code == 302
    after = replay(app, cookie)  # ...and not after signing out
    assert after.status_code == 302 and after.headers["Location"].startswith("/studio/login")
    assert replay(app, cookie).status_code == 302  # nor ever again
    # Signing in again opens a new session; the old copy stays dead.
    assert sign_in(owner, "owner@example.org") == 302
    assert owner.get("/studio/").status_code == 200
    assert replay(app, cookie).status_code == 302


def test_a_password_change_or_deactivation_ends_every_other_session(app):
    laptop, phone = browser(app), browser(app, "198.51.100.8")
    assert sign_in(laptop, "editor@example.org") == 302
    assert sign_in(phone, "editor@example.org") == 302
    stolen = saved_session_cookie(phone)
    changed = laptop.post(
        "/studio/account",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert laptop.get("/studio/").status_code == 200  # the browser that changed it stays in
    assert phone.get("/studio/").status_code == 302  # every other one is out
    assert replay(app, stolen).status_code == 302

    admin = browser(app)
    assert sign_in(admin, "admin@example.org") == 302
    cookie = saved_session_cookie(laptop)
    editor_id = user_row(app, "editor@example.org").id
    response = admin.post(f"/studio/accounts/{editor_id}", data={"action": "deactivate"})
    assert response.status_code == 302
    assert laptop.get("/studio/").status_code == 302
    assert replay(app, cookie).status_code == 302
    assert sign_in(browser(app), "editor@example.org", NEW_PASSWORD) == 401


def test_a_cookie_of_the_release_before_holds_no_session_version_and_opens_nothing(app):
    # Before s007 the cookie held the bare account id; such a cookie now opens nothing.
    old = browser(app)
    with old.session_transaction() as sess:
        sess["_user_id"] = str(user_row(app, "owner@example.org").id)
    assert old.get("/studio/").status_code == 302


# ---------------------------------------------------------------- finding 7


def test_ten_wrong_passwords_from_ten_addresses_do_not_stop_the_right_password(app, clock):
    admin = browser(app, "192.0.2.200")
    assert sign_in(admin, "admin@example.org") == 302  # the admin's usual browser
    assert admin.post("/studio/logout").status_code == 302
    codes = [
        sign_in(browser(app, f"203.0.113.{n}"), "admin@example.org", "wrong password!")
        for n in range(1, 11)
    ]
    # Five free failures, a sixth that starts a 1-second back-off, then the rest are
    # refused unchecked (and not counted) until the back-off ends.
    assert codes == [401] * 6 + [429] * 4
    assert user_row(app, "admin@example.org").failed_logins == 6
    # The admin's own browser signs in at once with the right password...
    assert sign_in(admin, "admin@example.org") == 302
    assert admin.get("/studio/").status_code == 200
    # ...which resets the count for everyone.
    assert user_row(app, "admin@example.org").failed_logins == 0


def test_a_new_browser_only_waits_the_back_off_and_never_more_than_15_minutes(app, clock):
    delays = []
    attacker = browser(app, "203.0.113.9")
    # A patient attacker: one wrong password each time the back-off ends, for a day.
    while clock.now < T0 + timedelta(days=1):
        code = sign_in(attacker, "owner@example.org", "wrong password!")
        assert code == 401
        until = user_row(app, "owner@example.org").login_delay_until
        if until is not None:
            delay = until.replace(tzinfo=UTC) - clock.now
            delays.append(delay.total_seconds())
            clock.now += delay
    assert delays[:6] == [1, 2, 4, 8, 16, 32]
    assert max(delays) == 900  # 15 minutes at most: a slowdown, never a lock-out
    # Even so, a new browser of the owner waits at most that long, and is told so.
    newcomer = browser(app, "198.51.100.44")
    sign_in(attacker, "owner@example.org", "wrong password!")
    waiting = newcomer.post(
        "/studio/login", data={"email": "owner@example.org", "password": PASSWORD}
    )
    assert waiting.status_code == 429
    text = waiting.get_data(as_text=True)
    assert "paused for 900 more seconds" in text and "signed in from this browser" in text
    clock.advance(seconds=900)
    assert sign_in(newcomer, "owner@example.org") == 302


def test_a_device_mark_is_spent_by_a_wrong_password(app, clock):
    owner = browser(app)
    assert sign_in(owner, "owner@example.org") == 302
    assert owner.get_cookie("framelab_device", path="/studio/login") is not None
    owner.post("/studio/logout")
    for n in range(6):
        sign_in(browser(app, f"203.0.113.{n}"), "owner@example.org", "wrong password!")
    # A wrong password from the marked browser spends its mark (no replayed guessing)...
    assert sign_in(owner, "owner@example.org", "wrong password!") == 401
    assert owner.get_cookie("framelab_device", path="/studio/login") is None
    # ...so it waits like any new browser, then signs in.
    assert sign_in(owner, "owner@example.org") == 429
    clock.advance(minutes=1)
    assert sign_in(owner, "owner@example.org") == 302


# ---------------------------------------------------------------- finding 8


def _masked(page: str, email: str) -> str:
    page = page.replace(email, "EMAIL")
    page = re.sub(r'(name="csrf_token"[^>]*value=")[^"]*"', r'\1"', page)
    return re.sub(r'name="invitation_id" value="\d+"', 'name="invitation_id" value=""', page)


def test_add_member_answers_the_same_for_existing_and_unknown_emails(tmp_path, studio_template):
    pages = {}
    for email in ("stranger@example.org", "nobody-here@example.org"):
        app = build_app(copy_database(studio_template, tmp_path / f"{email}.sqlite"))
        owner = browser(app)
        assert sign_in(owner, "owner@example.org") == 302
        response = owner.post(
            f"/studio/{SLUG}/members",
            data={"email": email, "role": "editor"},
            follow_redirects=True,
        )
        assert response.status_code == 200
        pages[email] = _masked(response.get_data(as_text=True), email)
        # Nobody is added without knowing it: no membership until the person accepts.
        with app.extensions["framelab.engine"].connect() as conn:
            stranger_roles = conn.execute(
                sa.select(StudyMembership.role)
                .join(User, User.id == StudyMembership.user_id)
                .where(User.email == email)
            ).all()
        assert stranger_roles == ([("owner",)] if email.startswith("stranger") else [])
        app.extensions["framelab.engine"].dispose()
    existing, unknown = pages.values()
    assert existing == unknown
    assert "If a studio account exists for that address" in existing


def test_the_invited_account_sees_the_study_with_a_notice_and_chooses(app):
    owner = browser(app)
    sign_in(owner, "owner@example.org")
    owner.post(f"/studio/{SLUG}/members", data={"email": "stranger@example.org", "role": "editor"})
    stranger = browser(app, "198.51.100.9")
    sign_in(stranger, "stranger@example.org")
    assert stranger.get(f"/studio/{SLUG}/").status_code == 404
    page = stranger.get("/studio/").get_data(as_text=True)
    assert "New: you are invited" in page
    assert "owner@example.org</strong> invites you to be <strong>editor" in page
    invitation = re.search(r'name="invitation_id" value="(\d+)"', page).group(1)
    # Another account cannot accept it for them.
    viewer = browser(app)
    sign_in(viewer, "viewer@example.org")
    viewer.post("/studio/invitations", data={"invitation_id": invitation, "answer": "accept"})
    accepted = stranger.post(
        "/studio/invitations", data={"invitation_id": invitation, "answer": "accept"}
    )
    assert accepted.headers["Location"].endswith(f"/studio/{SLUG}/")
    assert stranger.get(f"/studio/{SLUG}/yaml").status_code == 200  # an editor now
    assert viewer.get(f"/studio/{SLUG}/yaml").status_code == 403  # still a viewer


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("x" * 10, "at least 12 characters"),
        ("x" * 12, "fewer than 5 different characters"),
        ("abcabcabcabc", "fewer than 5 different characters"),
        ("abcdefghijklmn", "run of neighbouring keys"),
        ("qwertyuiopasdf", "run of neighbouring keys"),
        ("password1234", "list of common passwords"),
        ("Sunshine2024!!", "list of common passwords"),
    ],
)
def test_trivial_passwords_are_refused_with_a_clear_message(app, password, reason):
    admin = browser(app)
    sign_in(admin, "admin@example.org")
    response = admin.post(
        "/studio/accounts", data={"email": "new@example.org", "password": password}
    )
    assert response.status_code == 422
    assert reason in response.get_data(as_text=True)
    with app.extensions["framelab.engine"].connect() as conn:
        assert conn.scalar(sa.select(User.id).where(User.email == "new@example.org")) is None


def test_an_admin_set_temporary_password_must_be_changed_before_any_studio_page(app):
    admin = browser(app)
    sign_in(admin, "admin@example.org")
    created = admin.post(
        "/studio/accounts",
        data={"email": "new@example.org", "password": "given by the admin 42"},
    )
    assert created.status_code == 302
    newcomer = browser(app, "198.51.100.20")
    assert sign_in(newcomer, "new@example.org", "given by the admin 42") == 302
    for path in ("/studio/", f"/studio/{SLUG}/", "/studio/new", "/studio/accounts"):
        response = newcomer.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/studio/account", path
    page = newcomer.get("/studio/account").get_data(as_text=True)
    assert "Choose your own before using the studio" in page
    same = newcomer.post(
        "/studio/account",
        data={
            "current_password": "given by the admin 42",
            "new_password": "given by the admin 42",
            "repeat": "given by the admin 42",
        },
    )
    assert same.status_code == 422 and "same as the current one" in same.get_data(as_text=True)
    changed = newcomer.post(
        "/studio/account",
        data={
            "current_password": "given by the admin 42",
            "new_password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert newcomer.get("/studio/").status_code == 200
    assert user_row(app, "new@example.org").must_change_password is False


def test_a_viewer_cannot_create_a_study_and_nothing_is_stored(app):
    viewer = browser(app)
    sign_in(viewer, "viewer@example.org")
    before = table_rows(app)
    page = viewer.get("/studio/")
    assert b"/studio/new" not in page.data
    refused = viewer.get("/studio/new")
    assert refused.status_code == 403
    assert "Ask a site admin to allow your account to create studies" in refused.get_data(
        as_text=True
    )
    posted = viewer.post(
        "/studio/new",
        data={
            "tpl-template": "blank",
            "tpl-languages": ["en"],
            "tpl-slug": "viewers-own",
            "tpl-submit": "Create study",
        },
    )
    assert posted.status_code == 403
    assert table_rows(app)["study"] == before["study"]
    # Once an admin grants it, the same account may.
    admin = browser(app)
    sign_in(admin, "admin@example.org")
    viewer_id = user_row(app, "viewer@example.org").id
    admin.post(f"/studio/accounts/{viewer_id}", data={"action": "allow-studies"})
    assert viewer.get("/studio/new").status_code == 200


# ---------------------------------------------------------------- reset links and TOTP


def test_a_reset_link_works_once_within_24_hours_and_is_stored_hashed(app, clock):
    admin = browser(app)
    sign_in(admin, "admin@example.org")
    viewer_id = user_row(app, "viewer@example.org").id
    page = admin.post(f"/studio/accounts/{viewer_id}", data={"action": "reset-link"})
    link = re.search(r"http://localhost(/studio/reset/[\w-]+)", page.get_data(as_text=True))
    path = link.group(1)
    token = path.rsplit("/", 1)[1]
    with app.extensions["framelab.engine"].connect() as conn:
        stored = conn.execute(sa.select(PasswordReset.token_hash)).scalars().all()
    assert token not in " ".join(stored) and len(stored) == 1
    viewer = browser(app, "198.51.100.30")
    assert sign_in(viewer, "viewer@example.org") == 302
    person = browser(app, "198.51.100.31")
    assert person.get(path).status_code == 200  # opening the link (or a preview) spends nothing
    weak = person.post(path, data={"new_password": "x" * 12, "repeat": "x" * 12})
    assert weak.status_code == 422
    done = person.post(path, data={"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert done.status_code == 302
    assert person.get(path).status_code == 404  # used
    assert viewer.get("/studio/").status_code == 302  # the old session ended
    assert sign_in(person, "viewer@example.org", NEW_PASSWORD) == 302
    # A second link expires after 24 hours.
    page = admin.post(f"/studio/accounts/{viewer_id}", data={"action": "reset-link"})
    late = re.search(r"http://localhost(/studio/reset/[\w-]+)", page.get_data(as_text=True))
    clock.advance(hours=24, seconds=1)
    assert person.get(late.group(1)).status_code == 404


def test_two_factor_sign_in_is_enrolled_confirmed_required_and_removed_by_an_admin(app, clock):
    owner = browser(app)
    sign_in(owner, "owner@example.org")
    page = owner.get("/studio/account/two-factor").get_data(as_text=True)
    uri = re.search(r"otpauth://totp/[^<\s]+", page).group(0).replace("&amp;", "&")
    assert "issuer=framelab%20studio" in uri and "data:image/svg+xml" in page
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    totp = pyotp.TOTP(secret)
    wrong = owner.post("/studio/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 422
    code = totp.at(clock.now)
    assert owner.post("/studio/account/two-factor", data={"code": code}).status_code == 302
    owner.post("/studio/logout")
    # The password alone now leads to the code step, not into the studio.
    response = owner.post(
        "/studio/login", data={"email": "owner@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"].startswith("/studio/login/code")
    assert owner.get("/studio/").status_code == 302
    assert owner.post("/studio/login/code", data={"code": code}).status_code == 401  # replayed
    clock.advance(seconds=30)
    assert owner.post("/studio/login/code", data={"code": totp.at(clock.now)}).status_code == 302
    assert owner.get("/studio/").status_code == 200
    # Lost phone: an admin removes the second factor; the password alone works again.
    admin = browser(app)
    sign_in(admin, "admin@example.org")
    owner_id = user_row(app, "owner@example.org").id
    admin.post(f"/studio/accounts/{owner_id}", data={"action": "remove-two-factor"})
    assert owner.get("/studio/").status_code == 302  # signed out by the removal
    assert sign_in(owner, "owner@example.org") == 302
    assert owner.get("/studio/").status_code == 200


def test_the_backoff_schedule_is_exponential_and_capped():
    waits = [signin.backoff_delay(n).total_seconds() for n in range(1, 20)]
    assert waits[:5] == [0] * 5
    assert waits[5:11] == [1, 2, 4, 8, 16, 32]
    assert waits[-1] == 900
