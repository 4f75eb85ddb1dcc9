"""Channel links `/c/<code>` and invitation links `/i/<token>` through the Flask client (issue 21)."""

from __future__ import annotations

import sqlalchemy as sa

from framelab.db.models import Participant
from framelab.db.reach import ChannelLink, Recipient
from framelab.testing.forms import csrf_token, form_action, page_step
from tests.factories import make_study
from tests.web.reach import channel_code, invitation_links
from tests.web.walker import Walker

SPEC = make_study()


class LinkWalker(Walker):
    """A participant who arrives through `link` (a channel or invitation address)."""

    def __init__(self, client, link: str, clock=None) -> None:
        super().__init__(client, SPEC, clock)
        self.link = link

    def open_link(self, query: str = "") -> object:
        response = self.client.get(self.link + query)
        self.last = response.get_data(as_text=True)
        return response


def _session(app):
    return app.extensions["framelab.db"]()


def _people(app) -> list[Participant]:
    with _session(app) as session:
        return list(session.scalars(sa.select(Participant).order_by(Participant.id)))


def test_a_channel_link_sets_the_source_and_ignores_src(app, client, clock):
    code = channel_code(app)
    walker = LinkWalker(client, f"/c/{code}", clock)
    walker.consent(query="?src=forged")
    # The same browser opening the link again is led back to its page.
    again = client.get(f"/c/{code}")
    assert again.status_code == 302 and again.headers["Location"].endswith("/p")
    (person,) = _people(app)
    with _session(app) as session:
        link = session.scalar(sa.select(ChannelLink))
    assert (person.source, person.channel_id) == ("sms", link.id)
    assert link.opened >= 1


def test_opening_a_channel_link_counts_but_enrols_nobody(app, client):
    code = channel_code(app, "poster", "Poster in the library")
    page = client.get(f"/c/{code.upper()}")
    assert page.status_code == 200 and page_step(page.get_data(as_text=True)) == "consent"
    assert form_action(page.get_data(as_text=True)).startswith(f"/c/{code}")
    client.get(f"/c/{code}")
    assert _people(app) == []
    with _session(app) as session:
        assert session.scalar(sa.select(ChannelLink.opened)) == 2
    for bad in ("/c/nope0000", "/c/" + "x" * 40, "/c/%00", "/c/ab"):
        assert client.get(bad).status_code in (400, 404)
        assert client.post(bad, data={"consent": "yes"}).status_code in (400, 404)


def test_an_invitation_preview_does_not_enrol_and_a_second_visit_resumes(app, client, clock):
    links = invitation_links(app, "member-1", "member-2")
    link = links["member-1"]
    # A chat app's link preview: a GET from another client, with no cookie.
    preview = app.test_client().get(link)
    assert preview.status_code == 200 and page_step(preview.get_data(as_text=True)) == "consent"
    assert _people(app) == []
    walker = LinkWalker(client, link, clock)
    walker.consent()
    walker.answer("pre")
    (person,) = _people(app)
    assert person.source == "invitation" and person.step == "message"
    # The same link on another phone: back to the same participant's page, not a new one.
    other = app.test_client()
    again = other.get(link)
    assert again.status_code == 302 and again.headers["Location"].endswith("/p")
    assert page_step(other.get("/p").get_data(as_text=True)) == "message"
    assert len(_people(app)) == 1


def test_two_consents_on_one_invitation_make_one_participant(app, clock):
    link = invitation_links(app, "member-1")["member-1"]
    first, second = app.test_client(), app.test_client()
    pages = [c.get(link).get_data(as_text=True) for c in (first, second)]
    for client, page in zip((first, second), pages, strict=True):
        response = client.post(
            form_action(page),
            data={"csrf_token": csrf_token(page), "step": "consent", "consent": "yes"},
        )
        assert response.status_code == 302
    (person,) = _people(app)
    assert first.get_cookie("p", path="/p").value == person.code
    assert second.get_cookie("p", path="/p").value == person.code


def test_the_token_never_withdraws(app, client, clock):
    link = invitation_links(app, "member-1")["member-1"]
    walker = LinkWalker(client, link, clock)
    walker.consent()
    token = link.removeprefix("/i/")
    stranger = app.test_client()
    later = csrf_token(stranger.get("/withdraw").get_data(as_text=True))
    tried = [
        stranger.post("/p/withdraw", data={"code": token, "confirm": "yes"}),
        stranger.post("/withdraw", data={"code": token, "csrf_token": later}),
        stranger.get(f"/r/{token}"),
        stranger.post(f"/s/{SPEC.slug}/p/{token}/withdraw", data={"confirm": "yes"}),
        stranger.post(f"{link}/withdraw", data={"confirm": "yes"}),
    ]
    assert [r.status_code < 500 for r in tried] == [True] * len(tried)
    assert "We found no participation with this code" in tried[1].get_data(as_text=True)
    (person,) = _people(app)
    assert person.status != "withdrawn"
    # The participant's own code withdraws; the link then takes nobody in again.
    page = client.get("/p").get_data(as_text=True)
    form = {"code": person.code, "csrf_token": csrf_token(page), "confirm": "yes"}
    assert client.post("/p/withdraw", data=form).status_code == 200
    (person,) = _people(app)
    assert person.status == "withdrawn"
    with _session(app) as session:
        recipient = session.scalar(sa.select(Recipient))
    assert (recipient.participant_id, recipient.withdrawn) == (None, True)
    assert app.test_client().get(link).status_code == 400
    assert len(_people(app)) == 1


def test_hostile_invitation_addresses_never_fail(app, client):
    invitation_links(app, "member-1")
    for token in ("A" * 22, "A" * 64, "../../etc", "%F0%9F%92%A9" * 5, "'; DROP TABLE x;--" * 2):
        for method in ("GET", "POST"):
            response = client.open(f"/i/{token}", method=method, data={"consent": "yes"})
            assert response.status_code in (400, 404), (token, method, response.status_code)
    assert _people(app) == []


def test_an_invitation_consent_without_an_answer_shows_the_page_again(app, client):
    link = invitation_links(app, "member-1")["member-1"]
    page = client.get(link).get_data(as_text=True)
    response = client.post(form_action(page), data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200
    assert page_step(response.get_data(as_text=True)) == "consent"
    assert _people(app) == []
