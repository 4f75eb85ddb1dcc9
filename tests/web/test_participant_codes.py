"""The participant code a person copies (issue 17): Crockford base32, grouped, any case, guess-limited.

docs/privacy.md ("Guessing a participant code") states the arithmetic these limits and
the code's 100 bits give.
"""

from __future__ import annotations

import re
import secrets

import pytest
import sqlalchemy as sa

from framelab.domain import participant_codes
from framelab.domain.participant_codes import ALPHABET, candidates, canonical, grouped, new_code
from framelab.testing.forms import csrf_token
from tests.factories import make_study
from tests.web.walker import Walker

SPEC = make_study()
ATTACKER = "203.0.113.77"
NEIGHBOUR = "198.51.100.61"
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{20}$")


def confusable(code: str) -> str:
    """How a person might type `code`: lower case, grouped, O for 0, l for 1."""
    return grouped(code).lower().replace("0", "o").replace("1", "l")


def test_a_new_code_is_twenty_crockford_symbols_without_i_l_o_u():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(CODE.match(code) for code in codes)
    assert set("".join(codes)) <= set(ALPHABET) and not set("ILOU") & set("".join(codes))
    assert participant_codes.BITS == 100


def test_a_code_reads_back_in_any_case_grouped_spaced_and_with_confusable_letters():
    code = "0123456789ABCDEFGHJK"
    assert grouped(code) == "0123-4567-89AB-CDEF-GHJK"
    for typed in (
        code,
        code.lower(),
        grouped(code),
        " 0123 4567 89ab cdef ghjk ",
        "o l23" + code[4:],
    ):
        assert canonical(typed) == code, typed
    assert canonical("0123-4567-89AB-CDEF-GHJU") is None  # U is no symbol
    assert canonical(code[:-1]) is None
    # Codes of the earlier format (case-sensitive URL-safe base64) are offered as typed.
    old = secrets.token_urlsafe(18)
    assert old in candidates(old) and grouped(old) == old


def test_the_debrief_shows_the_code_grouped_and_the_code_is_stored_plain(client, clock):
    walker = Walker(client, SPEC, clock)
    debrief = walker.complete()
    code = walker.code
    assert CODE.match(code)
    shown = re.search(r'<p class="code participant-code"[^>]*>([^<]+)</p>', debrief)[1]
    assert shown == grouped(code) and len(shown) == 24 and shown.count("-") == 4


def test_resume_and_withdraw_later_accept_the_code_as_a_person_types_it(
    app_any_db, client_any_db, clock
):
    app = app_any_db
    walker = Walker(client_any_db, SPEC, clock)
    walker.consent()
    code = walker.code
    other = app.test_client()
    response = other.post("/r", data={"code": confusable(code)})
    assert response.status_code == 302
    assert other.get_cookie("p", path="/p").value == code
    assert other.get(f"/r/{grouped(code).lower()}").status_code == 302
    # Withdraw later with the code as typed: the participant's answers are erased.
    later = app.test_client()
    page = later.get("/withdraw").get_data(as_text=True)
    token = csrf_token(page)
    done = later.post("/withdraw", data={"csrf_token": token, "code": confusable(code)})
    assert done.status_code == 200
    with app.extensions["framelab.engine"].connect() as conn:
        step = conn.execute(sa.text("SELECT step FROM participant WHERE code = :c"), {"c": code})
        assert step.scalar_one() == "withdrawn"


def test_a_code_of_the_earlier_format_still_resumes(app_any_db, client_any_db, clock):
    app = app_any_db
    walker = Walker(client_any_db, SPEC, clock)
    walker.consent()
    old = "aB3_" + secrets.token_urlsafe(15)
    with app.extensions["framelab.engine"].begin() as conn:
        conn.execute(
            sa.text("UPDATE participant SET code = :old WHERE code = :new"),
            {"old": old, "new": walker.code},
        )
    other = app.test_client()
    assert other.post("/r", data={"code": old}).status_code == 302
    assert other.get_cookie("p", path="/p").value == old
    assert other.post("/r", data={"code": old.lower()}).status_code == 400


def _guesses(app):
    """Requests naming an unknown code, one per route that accepts a code."""
    fake = new_code()

    def resume_link(client):
        return client.get(f"/r/{fake}")

    def cookie_page(client):
        client.set_cookie("p", fake, path="/p")
        return client.get("/p")

    def cookie_withdraw(client):
        client.set_cookie("p", fake, path="/p")
        return client.get("/p/withdraw")

    def resume_form(client):
        return client.post("/r", data={"code": fake})

    def withdraw_form(client):
        page = client.get("/withdraw").get_data(as_text=True)
        token = csrf_token(page)
        return client.post("/withdraw", data={"csrf_token": token, "code": fake})

    def old_link(client):
        return client.get(f"/s/{SPEC.slug}/p/{fake}")

    return [resume_link, cookie_page, cookie_withdraw, resume_form, withdraw_form, old_link]


@pytest.fixture
def guess_app(tmp_path, clock):
    from tests.web.conftest import make_app

    application = make_app(
        f"sqlite:///{tmp_path / 'guess.sqlite'}",
        clock=clock,
        CODE_GUESS_RATE_LIMIT="6 per minute",
        LOGIN_RATE_LIMIT="100 per minute",
    )
    yield application
    application.extensions["framelab.engine"].dispose()


def test_unknown_codes_from_one_source_are_limited_on_every_route_that_accepts_a_code(
    guess_app, clock
):
    routes = _guesses(guess_app)
    attacker = guess_app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = ATTACKER
    # Six unknown codes, one through each route: each answered as "not found".
    statuses = [route(attacker).status_code for route in routes]
    assert statuses == [404, 200, 404, 400, 400, 404]
    # The seventh guess is refused, whichever route it takes.
    for route in routes:
        assert route(attacker).status_code == 429, route.__name__
    # Even a real code is refused to that source now (the answer would tell a guess)...
    walker = Walker(guess_app.test_client(), SPEC, clock)
    walker.consent()
    assert attacker.get(f"/r/{walker.code}").status_code == 429
    # ...while another source resumes with it normally.
    neighbour = guess_app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = NEIGHBOUR
    assert neighbour.get(f"/r/{walker.code}").status_code == 302


def test_known_codes_cost_nothing_so_many_participants_behind_one_address_go_on(guess_app, clock):
    # Carrier NAT: everyone shares one address; only unknown codes count.
    walkers = []
    for _ in range(4):
        client = guess_app.test_client()
        client.environ_base["REMOTE_ADDR"] = ATTACKER
        walker = Walker(client, SPEC, clock)
        walker.consent()
        walkers.append(walker)
    for _round in range(5):
        for walker in walkers:
            assert walker.client.get("/p").status_code == 200
            assert walker.client.get(f"/r/{walker.code}").status_code == 302


def test_logs_hide_codes_of_the_new_format_bare_or_grouped():
    from framelab.web.logs import scrub

    code = new_code()
    line = scrub(f"withdraw failed for {code}; typed {grouped(code)} at 09:00")
    assert code not in line and grouped(code) not in line
    assert line.count("[token]") == 2
    # Ordinary capitals and numbers stay.
    assert scrub("HTTP 429 ISSUE17 STEP5") == "HTTP 429 ISSUE17 STEP5"
