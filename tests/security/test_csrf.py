"""CSRF: every state-changing form of the app refuses a post without a valid token.

The app here has CSRF on (as in production). Each POST rule of the URL map is sent
a plausible form without a token, and with a token of another browser session;
the answer must be the "page has expired" 400 page and no table may change.
A control post with the page's own token shows the same request does change data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from framelab.testing.forms import csrf_token
from tests.factories import make_study, valid_answers
from tests.security.conftest import table_rows
from tests.studio.conftest import RULE_VALUES, SLUG, build_app, copy_database, sign_in
from tests.web.conftest import make_app
from tests.web.reach import reach_posts
from tests.web.walker import Walker

EXPIRED = b"This page has expired"  # the participant's page
STUDIO_EXPIRED = b"The form has expired"  # the staff page says what failed and what to do
# Plausible fields per studio endpoint, so a missing token is the only thing wrong.
STUDIO_FORMS = {
    "studio.new_study": {"slug": "csrf-new", "template": "torture-ban", "title": "New"},
    "studio.edit_frame": {"title_en": "Changed title", "body_en": "Changed body", "save": "1"},
    "studio.check_frame": {"title_en": "Changed title", "body_en": "Changed body"},
    "studio.yaml_editor": {"yaml": "slug: changed\n"},
    "studio.members": {"email": "viewer@example.org", "role": "owner"},
    "studio.texts": {"title_en": "Changed"},
}
# Every studio rule variable has a value (tests.studio.conftest); pilot is a real change.
VALUES = {**RULE_VALUES, "action": "pilot"}


@pytest.fixture
def csrf_studio(tmp_path, studio_template) -> Iterator[Flask]:
    app = build_app(copy_database(studio_template, tmp_path / "csrf.sqlite"), WTF_CSRF_ENABLED=True)
    yield app
    app.extensions["framelab.engine"].dispose()


def studio_post_rules(app: Flask) -> list[tuple[str, str]]:
    with app.test_request_context():
        return [
            (rule.endpoint, rule.build({k: VALUES[k] for k in rule.arguments})[1])
            for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and rule.endpoint.startswith("studio.")
        ]


def test_every_studio_post_without_a_token_is_refused_and_changes_nothing(csrf_studio):
    owner = csrf_studio.test_client()
    sign_in(owner, csrf_studio, "owner@example.org")
    before = table_rows(csrf_studio)
    rules = studio_post_rules(csrf_studio)
    assert {"studio.login", "studio.change_status", "studio.edit_frame"} <= {e for e, _ in rules}
    for endpoint, url in rules:
        response = owner.post(url, data=STUDIO_FORMS.get(endpoint, {"confirm": "yes"}))
        assert response.status_code == 400, (endpoint, response.status_code)
        assert STUDIO_EXPIRED in response.data, endpoint
    assert table_rows(csrf_studio) == before


def test_a_token_from_another_session_is_refused_and_the_own_token_works(csrf_studio):
    owner = csrf_studio.test_client()
    sign_in(owner, csrf_studio, "owner@example.org")
    attacker = csrf_studio.test_client()
    foreign = csrf_token(attacker.get("/studio/login").get_data(as_text=True))
    url = f"/studio/{SLUG}/status/pilot"
    before = table_rows(csrf_studio)
    refused = owner.post(url, data={"csrf_token": foreign})
    assert refused.status_code == 400 and STUDIO_EXPIRED in refused.data
    assert table_rows(csrf_studio) == before
    own = csrf_token(owner.get(f"/studio/{SLUG}/").get_data(as_text=True))
    assert owner.post(url, data={"csrf_token": own}).status_code == 302
    statuses = [row for row in table_rows(csrf_studio)["study"] if SLUG in row]
    assert statuses and "pilot" in statuses[0]


def test_studio_sign_in_without_a_token_is_refused(csrf_studio):
    client = csrf_studio.test_client()
    response = client.post(
        "/studio/login", data={"email": "owner@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 400 and STUDIO_EXPIRED in response.data
    assert client.get(f"/studio/{SLUG}/").status_code == 302  # still signed out


@pytest.fixture
def participant_app(tmp_path, clock) -> Iterator[Flask]:
    app = make_app(f"sqlite:///{tmp_path / 'p.sqlite'}", clock=clock)
    yield app
    app.extensions["framelab.engine"].dispose()


def participant_posts(walker: Walker) -> dict[str, tuple[str, dict[str, str]]]:
    """A complete form for every participant POST rule, lacking only the token."""
    spec, code = walker.spec, walker.code
    answers = {"step": "pre", **valid_answers(spec, "pre")}
    old = f"/s/{spec.slug}/p/{code}"  # the address of earlier releases
    return {
        "participant.consent": (f"/s/{spec.slug}", {"step": "consent", "consent": "yes"}),
        "participant.submit": (walker.url, answers),
        "participant.keep_draft": (walker.url + "/draft", answers),
        "participant.do_withdraw": (walker.url + "/withdraw", {"confirm": "yes"}),
        "participant.old_submit": (old, answers),
        "participant.old_withdraw": (old + "/withdraw", {"confirm": "yes"}),
        "participant.withdraw_later": ("/withdraw", {"code": code}),
        # A follow-up wave's page (issue 21): its token is checked before the link is.
        "participant.submit_wave_page": ("/f/" + "t" * 27, {"wave": "w2", "support": "5"}),
    }


def test_every_participant_post_without_a_valid_token_is_refused(participant_app, clock):
    walker = Walker(participant_app.test_client(), make_study(), clock)
    walker.consent()
    posts = {**participant_posts(walker), **reach_posts(participant_app)}
    with participant_app.test_request_context():
        rules = {
            r.endpoint
            for r in participant_app.url_map.iter_rules()
            if "POST" in r.methods and r.endpoint.startswith("participant.")
        }
    # The resume form changes nothing stored (it sets the browser's cookie): it is checked
    # for where it came from instead, below.
    resume = "participant.resume_with_code"
    assert rules == {*posts, resume}, "a participant POST rule has no CSRF check here"
    other_site = walker.client.post(
        "/r", data={"code": walker.code}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert other_site.status_code == 400 and EXPIRED in other_site.data
    foreign = csrf_token(participant_app.test_client().get("/withdraw").get_data(as_text=True))
    before = table_rows(participant_app)
    for endpoint, (url, form) in posts.items():
        for token in ({}, {"csrf_token": foreign}, {"csrf_token": "forged." + "x" * 40}):
            response = walker.client.post(url, data={**form, **token})
            assert response.status_code == 400, (endpoint, token, response.status_code)
            assert EXPIRED in response.data, endpoint
    assert table_rows(participant_app) == before
    # The same answers with the page's own token are stored.
    walker.page()
    assert walker.post("pre", valid_answers(walker.spec, "pre")).status_code == 302
    assert len(table_rows(participant_app)["response"]) == len(valid_answers(walker.spec, "pre"))


def test_session_cookie_is_samesite_so_other_sites_cannot_post_with_it(participant_app):
    response = participant_app.test_client().get("/s/torture-ban")
    cookie = response.headers["Set-Cookie"]
    assert re.search(r"SameSite=Lax", cookie) and "HttpOnly" in cookie
