"""Rate limits (Flask-Limiter): sign-in attempts and new participants per source."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from framelab.testing.forms import csrf_token
from framelab.web.rate_limits import LIMITER_KEY
from tests.security.conftest import table_rows
from tests.studio.conftest import PASSWORD, build_app, copy_database
from tests.web.conftest import make_app

ATTACKER = "203.0.113.50"
NEIGHBOUR = "198.51.100.60"


@pytest.fixture
def login_app(tmp_path, studio_template) -> Iterator[Flask]:
    app = build_app(
        copy_database(studio_template, tmp_path / "rl.sqlite"), LOGIN_RATE_LIMIT="3 per minute"
    )
    yield app
    app.extensions["framelab.engine"].dispose()


def sign_in(app: Flask, address: str, email: str, password: str) -> int:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/studio/login", data={"email": email, "password": password}).status_code


def test_sign_in_attempts_from_one_source_are_limited_and_others_still_sign_in(login_app):
    codes = [sign_in(login_app, ATTACKER, "owner@example.org", "wrong") for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    # Even the right password is refused while the source is limited...
    assert sign_in(login_app, ATTACKER, "analyst@example.org", PASSWORD) == 429
    # ...and a colleague elsewhere signs in normally.
    assert sign_in(login_app, NEIGHBOUR, "viewer@example.org", PASSWORD) == 302


def test_wrong_passwords_on_one_account_from_many_sources_never_lock_out_the_right_one(login_app):
    # Per account only failures count, with a back-off that spares the owner's own
    # browser (tests/security/test_accounts_attacks.py); no per-account request limit.
    owner = login_app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    assert (
        owner.post(
            "/studio/login", data={"email": "owner@example.org", "password": PASSWORD}
        ).status_code
        == 302
    )
    codes = [sign_in(login_app, f"192.0.2.{n}", "owner@example.org", "wrong") for n in range(1, 6)]
    assert codes == [401] * 5
    assert (
        owner.post(
            "/studio/login", data={"email": "owner@example.org", "password": PASSWORD}
        ).status_code
        == 302
    )
    assert sign_in(login_app, "192.0.2.98", "owner@example.org", PASSWORD) == 302


def test_the_429_page_is_friendly_and_shows_the_login_page_only_by_get(login_app):
    for _ in range(3):
        sign_in(login_app, ATTACKER, "owner@example.org", "wrong")
    client = login_app.test_client()
    client.environ_base["REMOTE_ADDR"] = ATTACKER
    limited = client.post("/studio/login", data={"email": "x@example.org", "password": "x"})
    assert limited.status_code == 429
    assert b"Too many requests" in limited.data and b"Traceback" not in limited.data
    assert client.get("/studio/login").status_code == 200  # reading the form is not limited


@pytest.fixture
def enrol_app(tmp_path, clock) -> Iterator[Flask]:
    app = make_app(
        f"sqlite:///{tmp_path / 'enrol.sqlite'}", clock=clock, ENROL_RATE_LIMIT="4 per minute"
    )
    yield app
    app.extensions["framelab.engine"].dispose()


def enrol(app: Flask, address: str, **query: str) -> int:
    """One new browser from `address` consenting; returns the status of the consent post."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/s/torture-ban", query_string=query)
    if page.status_code != 200:
        return page.status_code
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/s/torture-ban", data={"csrf_token": token, "step": "consent", "consent": "yes"}
    ).status_code


def test_new_participants_per_source_are_limited(enrol_app):
    codes = [enrol(enrol_app, ATTACKER) for _ in range(6)]
    assert codes == [302, 302, 302, 302, 429, 429]
    assert len(table_rows(enrol_app)["participant"]) == 4
    assert enrol(enrol_app, NEIGHBOUR) == 302
    assert len(table_rows(enrol_app)["participant"]) == 5


def test_panel_links_count_as_new_participants(enrol_app):
    codes = [enrol(enrol_app, ATTACKER, PROLIFIC_PID=f"pid{n:04d}") for n in range(6)]
    assert codes.count(429) == 2 and len(table_rows(enrol_app)["participant"]) == 4


def test_a_returning_participant_is_not_counted_as_new(enrol_app):
    client = enrol_app.test_client()
    client.environ_base["REMOTE_ADDR"] = ATTACKER
    page = client.get("/s/torture-ban").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "step": "consent", "consent": "yes"}
    assert client.post("/s/torture-ban", data=form).status_code == 302
    for _ in range(8):
        # The study link again (a reload, a second tab): it is their own page.
        assert client.get("/s/torture-ban").status_code == 302
        assert client.post("/s/torture-ban", data=form).status_code == 302
    assert len(table_rows(enrol_app)["participant"]) == 1


def test_loopback_sources_are_exempt_so_simulations_and_load_tests_run(enrol_app):
    assert [enrol(enrol_app, "127.0.0.1") for _ in range(6)] == [302] * 6


def test_limiter_storage_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMELAB_RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("FRAMELAB_RATELIMIT_ENABLED", "0")
    app = make_app(f"sqlite:///{tmp_path / 'env.sqlite'}", ENROL_RATE_LIMIT="1 per minute")
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["RATELIMIT_ENABLED"] is False
    assert [enrol(app, ATTACKER) for _ in range(3)] == [302] * 3
    app.extensions["framelab.engine"].dispose()


def test_limiter_keys_hold_no_client_address(enrol_app):
    for _ in range(2):
        enrol(enrol_app, ATTACKER)
    storage = enrol_app.extensions[LIMITER_KEY].storage
    keys = " ".join(map(str, getattr(storage, "storage", {}).keys()))
    assert "enrol" in keys  # the counters are there...
    assert ATTACKER not in keys  # ...under a keyed hash of the address, not the address


def test_two_apps_keep_their_own_counters(tmp_path, studio_template, login_app):
    # One module-level limiter (framelab.web.extensions.limiter), a Flask-Limiter per app:
    # a source limited by one app is not limited by another in the same process.
    codes = [sign_in(login_app, ATTACKER, "owner@example.org", "wrong") for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    other = build_app(
        copy_database(studio_template, tmp_path / "other.sqlite"), LOGIN_RATE_LIMIT="3 per minute"
    )
    assert other.extensions[LIMITER_KEY] is not login_app.extensions[LIMITER_KEY]
    assert sign_in(other, ATTACKER, "owner@example.org", "wrong") == 401
    assert sign_in(login_app, ATTACKER, "owner@example.org", "wrong") == 429
    other.extensions["framelab.engine"].dispose()
