"""Hostile input that used to reach a 500 (issue 16, finding 5), on SQLite and PostgreSQL.

- A Host header with a label over 63 characters: the request has no URL adapter, and
  the 400 page's template called url_for: a 500 on every route, anonymously.
- A NUL in an address or a free-text answer: PostgreSQL text cannot hold it (DataError,
  a 500, anonymously); lone surrogates cannot be encoded for any database. One check
  before every view refuses them with 400 (the address) or 422 (a form), and a
  participant loses nothing else: earlier answers stay, the same page takes a clean answer.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask

from framelab.db.models import Participant, Response
from framelab.services import accounts
from framelab.services.study_versions import get_study
from framelab.testing.forms import csrf_token
from framelab.web.input_checks import unstorable_character
from tests.factories import make_study, valid_answers
from tests.studio.conftest import RULE_VALUES, SLUG, build_app, fill_database, sign_in
from tests.web.conftest import make_app
from tests.web.walker import Walker

SPEC = make_study()
PARTICIPANT_400 = "Something was wrong with that request"
PARTICIPANT_SAVED = "Your earlier answers are saved."
STAFF_400 = "The request could not be used"
VALUES = {**RULE_VALUES, "code": "not-a-code", "filename": "framelab.css"}


def _count(app: Flask, model) -> int:
    engine = app.extensions["framelab.engine"]
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def studio_any_db(database_url, monkeypatch) -> Iterator[Flask]:
    """The studio fixture's database (accounts for every role) on SQLite and PostgreSQL."""
    # Cheap argon2 parameters for the fixture accounts, as tests/studio/conftest does.
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    fill_database(database_url)
    app = build_app(database_url)
    yield app
    app.extensions["framelab.engine"].dispose()


@pytest.fixture
def live_app(database_url, clock) -> Iterator[Flask]:
    """The participant pages with the example study live, on SQLite and PostgreSQL."""
    app = make_app(database_url, clock=clock)
    yield app
    app.extensions["framelab.engine"].dispose()


def every_route(app: Flask) -> list[tuple[str, str]]:
    """(method, url) of every rule of the app, built with harmless values."""
    out = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            # An argument a later route adds gets a plain value: the Host check comes first.
            try:
                url = rule.build({k: VALUES.get(k, "x") for k in rule.arguments})[1]
            except ValueError:  # a number converter
                url = rule.build({k: VALUES.get(k, 1) for k in rule.arguments})[1]
            out += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


# ---------------------------------------------------------------- Host header


@pytest.mark.parametrize(
    "host",
    ["a" * 64 + ".example.org", "x" * 300, "a..b", "."],
    ids=["label-of-64", "label-of-300", "empty-label", "only-a-dot"],
)
def test_an_unusable_host_header_gets_a_400_page_on_every_route_anonymously(studio_any_db, host):
    client = studio_any_db.test_client()
    routes = [*every_route(studio_any_db), ("GET", "/no-such-page"), ("GET", "/studio/nope")]
    for method, url in routes:
        response = client.open(url, method=method, headers={"Host": host})
        assert response.status_code == 400, (method, url, response.status_code)
        page = response.get_data(as_text=True)
        expected = STAFF_400 if url.startswith("/studio") else PARTICIPANT_400
        assert expected in page, (method, url)
        assert "<a href" not in page  # no adapter: the page links nowhere


def test_a_host_label_of_63_characters_is_still_served(studio_any_db):
    client = studio_any_db.test_client()
    response = client.get("/withdraw", headers={"Host": "a" * 63 + ".example.org"})
    assert response.status_code == 200


# ---------------------------------------------------------------- NUL in addresses


NUL_ADDRESSES = [
    f"/s/{SLUG}%00",
    "/s/%00",
    f"/s/{SLUG}?PROLIFIC_PID=ab%00c",
    f"/s/{SLUG}?src=%00",
    f"/s/{SLUG}?lang=es%00",
    f"/s/{SLUG}/p/%00abc",
    f"/s/{SLUG}/p/abc/%00",
    "/withdraw?code=%00",
    "/withdraw?%00=1",
]
STUDIO_NUL_ADDRESSES = [
    f"/studio/{SLUG}%00/",
    "/studio/%00",
    "/studio/login?next=/studio/%00",
    f"/studio/{SLUG}/power?effect=0.2%00",
]


def test_a_nul_in_a_participant_address_is_a_400_that_stores_nothing(studio_any_db):
    client = studio_any_db.test_client()
    before = _count(studio_any_db, Participant)
    for url in NUL_ADDRESSES:
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)
        page = response.get_data(as_text=True)
        assert PARTICIPANT_400 in page and PARTICIPANT_SAVED in page, url
    assert _count(studio_any_db, Participant) == before


def test_a_nul_in_a_studio_address_is_a_400_staff_page(studio_any_db):
    for email in (None, "owner@example.org"):
        client = studio_any_db.test_client()
        if email:
            sign_in(client, studio_any_db, email)
        for url in STUDIO_NUL_ADDRESSES:
            response = client.get(url)
            assert response.status_code == 400, (email, url, response.status_code)
            page = response.get_data(as_text=True)
            assert STAFF_400 in page, url
            assert "U+0000 (a NUL character), which cannot be stored" in page, url
            assert "Nothing was changed by this request" in page


# ---------------------------------------------------------------- NUL in forms


def test_a_nul_in_a_free_text_answer_is_refused_and_loses_nothing_else(live_app, clock):
    walker = Walker(live_app.test_client(), SPEC, clock)
    walker.consent()
    for step in ("pre", "message"):
        assert walker.answer(step).status_code == 302
    stored = _count(live_app, Response)
    walker.page()
    walker.wait(20)
    answers = valid_answers(SPEC, "post")
    refused = walker.post("post", {**answers, "comment": "fine\x00then"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert PARTICIPANT_400 in page and PARTICIPANT_SAVED in page
    assert _count(live_app, Response) == stored  # the earlier answers, nothing else
    # The same page takes the answer without the NUL, and the walk goes on.
    walker.page()
    assert walker.post("post", {**answers, "comment": "fine then"}).status_code == 302
    engine = live_app.extensions["framelab.engine"]
    with engine.connect() as conn:
        texts = conn.scalars(
            sa.select(Response.value_text).where(Response.item_id == "comment")
        ).all()
    assert [t for t in texts if t is not None] == ["fine then"]
    assert _count(live_app, Response) > stored


def test_a_nul_in_a_participant_form_is_a_422_before_anything_reads_it(studio_any_db):
    client = studio_any_db.test_client()
    before = _count(studio_any_db, Participant)
    for url, form in (
        (f"/s/{SLUG}", {"consent": "yes\x00"}),
        (f"/s/{SLUG}", {"consent\x00": "yes"}),
        ("/withdraw", {"code": "ABC\x00DEF"}),
    ):
        response = client.post(url, data=form)
        assert response.status_code == 422, (url, form)
        assert PARTICIPANT_400 in response.get_data(as_text=True)
    assert _count(studio_any_db, Participant) == before


def test_a_nul_in_the_studio_sign_in_form_is_a_422_staff_page(studio_any_db):
    client = studio_any_db.test_client()
    response = client.post(
        "/studio/login", data={"email": "owner@example.org\x00", "password": "x" * 12}
    )
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "The form field 'email' contains U+0000" in page


def test_a_nul_in_a_studio_form_field_is_named_and_the_study_is_unchanged(studio_any_db):
    from framelab.web.database import EXTENSION_KEY

    client = studio_any_db.test_client()
    sign_in(client, studio_any_db, "owner@example.org")
    with studio_any_db.extensions[EXTENSION_KEY]() as session:
        before = get_study(session, SLUG).spec.content_hash()
    response = client.post(
        f"/studio/{SLUG}/texts", data={"title_en": "New\x00title", "save": "Save"}
    )
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "The form field 'title_en' contains U+0000" in page
    with studio_any_db.extensions[EXTENSION_KEY]() as session:
        assert get_study(session, SLUG).spec.content_hash() == before


def test_a_nul_escaped_in_the_study_text_is_refused_with_its_place(studio_any_db):
    client = studio_any_db.test_client()
    sign_in(client, studio_any_db, "owner@example.org")
    text = SPEC.to_yaml().replace(f"slug: {SLUG}", 'slug: "torture\\0ban"', 1)
    response = client.post(f"/studio/{SLUG}/yaml", data={"yaml": text, "submit": "Save"})
    assert response.status_code == 422
    assert "U+0000 (a NUL character), which cannot be stored; remove it" in response.get_data(
        as_text=True
    )


# ---------------------------------------------------------------- invalid code points


def test_unstorable_characters_are_nul_and_lone_surrogates_only():
    assert unstorable_character("a\x00b") == "U+0000"
    assert unstorable_character("\ud800") == "U+D800"
    assert unstorable_character("x\udfff") == "U+DFFF"
    for fine in ("", "plain", "ça va \u200f العربية", "\ufffd", "\U0001f600", "\x01\x7f"):
        assert unstorable_character(fine) is None, fine


def test_invalid_utf8_in_addresses_and_answers_never_reaches_the_database_as_a_surrogate(
    live_app, clock
):
    client = live_app.test_client()
    # UTF-8 for a surrogate and a stray continuation byte: decoded with replacement or kept
    # percent-quoted, never as a lone surrogate.
    for url in (f"/s/{SLUG}%ED%A0%80", f"/s/{SLUG}?src=%ED%A0%80", "/withdraw?code=%80"):
        assert client.get(url).status_code < 500, url
    walker = Walker(client, SPEC, clock)
    walker.consent()
    for step in ("pre", "message"):
        assert walker.answer(step).status_code == 302
    walker.page()
    walker.wait(20)
    answers = {**valid_answers(SPEC, "post"), "comment": "%ED%A0%80 and %80"}
    body = "&".join(f"{k}={v}" for k, v in answers.items())
    body += f"&step=post&csrf_token={csrf_token(walker.last)}"
    response = client.post(
        walker.url, data=body.encode(), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 302
    engine = live_app.extensions["framelab.engine"]
    with engine.connect() as conn:
        (text,) = conn.scalars(
            sa.select(Response.value_text).where(Response.item_id == "comment")
        ).all()
    assert unstorable_character(text) is None and text
