"""Follow-up waves for participants: the debrief's link, the wave pages and their windows."""

from __future__ import annotations

import pytest

from framelab.db.models import Participant, Response
from framelab.db.waves import WaveLink, WaveResponse, WaveReturn
from framelab.testing.forms import csrf_token
from tests.waves.helpers import DAY, WAVE, complete, follow_up_path, rows, wave_study
from tests.web.conftest import make_app

SPEC = wave_study()


@pytest.fixture
def wave_app(database_url, clock):
    # SQLite always, PostgreSQL too when configured (the follow-up link is written and
    # read on the participant hot path, straight on the driver).
    app = make_app(database_url, clock=clock, studies=(SPEC,))
    yield app
    app.extensions["framelab.engine"].dispose()


def _answers(page: str, **chosen: str) -> dict[str, str]:
    return {"csrf_token": csrf_token(page), "wave": "w2", "support": "6", "join_sms": "1", **chosen}


def test_the_debrief_gives_a_personal_link_and_the_date_the_wave_opens(wave_app, clock):
    client = wave_app.test_client()
    _, debrief = complete(client, SPEC, clock)
    path = follow_up_path(debrief)
    assert path is not None and len(path) >= len("/f/") + 22  # at least 128 bits
    assert "December 2, 2026" in debrief  # completed on 25 November 2026; opens 7 days on
    assert "cannot withdraw you" in debrief
    (link,) = rows(wave_app, WaveLink)
    (person,) = rows(wave_app, Participant)
    assert link.participant_id == person.id and path.endswith(link.token)
    # A second participant gets a link of their own.
    _, other = complete(wave_app.test_client(), SPEC, clock)
    assert follow_up_path(other) not in (None, path)


def test_without_waves_the_debrief_has_no_follow_up(tmp_path, clock):
    from tests.factories import make_study

    spec = make_study()
    app = make_app(f"sqlite:///{tmp_path / 'plain.sqlite'}", clock=clock, studies=(spec,))
    try:
        _, debrief = complete(app.test_client(), spec, clock)
        assert follow_up_path(debrief) is None and "Follow-up" not in debrief
        assert rows(app, WaveLink) == []
    finally:
        app.extensions["framelab.engine"].dispose()


def test_invitation_follow_up_shows_the_date_but_no_link(tmp_path, clock):
    spec = wave_study(follow_up="invitation")
    app = make_app(f"sqlite:///{tmp_path / 'inv.sqlite'}", clock=clock, studies=(spec,))
    try:
        client = app.test_client()
        _, debrief = complete(client, spec, clock)
        assert follow_up_path(debrief) is None
        assert "may invite you to answer a few of these questions again" in debrief
        assert "December 2, 2026" in debrief
        assert len(rows(app, WaveLink)) == 1  # the due list hands the link out
    finally:
        app.extensions["framelab.engine"].dispose()


def test_before_inside_and_after_the_window(wave_app, clock):
    client = wave_app.test_client()
    _, debrief = complete(client, SPEC, clock)
    path = follow_up_path(debrief)
    early = client.get(path).get_data(as_text=True)
    assert "not open yet" in early and "December 2, 2026" in early
    assert 'name="support"' not in early
    clock.advance(7 * DAY + 60)
    page = client.get(path).get_data(as_text=True)
    assert 'name="support"' in page and 'name="join_sms"' in page
    assert 'name="donate"' not in page and "<script>" not in page
    # Invalid: the page again with the answers kept, nothing stored (all or nothing).
    invalid = client.post(path, data=_answers(page, join_sms="7"))
    assert invalid.status_code == 200 and "Please check your answers" in invalid.get_data(True)
    assert rows(wave_app, WaveResponse) == [] and rows(wave_app, WaveReturn) == []
    saved = client.post(path, data=_answers(page))
    assert "your follow-up answers are saved" in saved.get_data(as_text=True)
    (person,) = rows(wave_app, Participant)
    answers = {(r.wave_id, r.item_id): r.value_int for r in rows(wave_app, WaveResponse)}
    assert answers == {("w2", "support"): 6, ("w2", "join_sms"): 1}
    assert all(r.participant_id == person.id for r in rows(wave_app, WaveResponse))
    # Wave 1's answers are untouched: wave answers live beside them.
    post = [r for r in rows(wave_app, Response) if r.item_id == "support" and r.phase == "post"]
    assert len(post) == 1
    # A second post of the same page stores nothing more; the link then says it is done.
    again = client.post(path, data=_answers(page, support="1"))
    assert "nothing more to answer now" in again.get_data(as_text=True)
    assert len(rows(wave_app, WaveResponse)) == 2 and len(rows(wave_app, WaveReturn)) == 1
    assert "nothing more to answer now" in client.get(path).get_data(as_text=True)


def test_after_the_window_the_page_is_closed_and_takes_no_answers(wave_app, clock):
    client = wave_app.test_client()
    _, debrief = complete(client, SPEC, clock)
    path = follow_up_path(debrief)
    clock.advance(7 * DAY + 60)
    page = client.get(path).get_data(as_text=True)
    clock.advance(7 * DAY)
    closed = client.get(path).get_data(as_text=True)
    assert "The follow-up has closed" in closed and 'name="support"' not in closed
    late = client.post(path, data=_answers(page))
    assert "The follow-up has closed" in late.get_data(as_text=True)
    assert rows(wave_app, WaveResponse) == [] and rows(wave_app, WaveReturn) == []


def test_the_wave_page_speaks_the_participants_language(wave_app, clock):
    client = wave_app.test_client()
    _, debrief = complete(client, SPEC, clock, query="?lang=es")
    assert "Preguntas de seguimiento" in debrief and "2 de diciembre de 2026" in debrief
    path = follow_up_path(debrief)
    clock.advance(7 * DAY + 60)
    page = client.get(path).get_data(as_text=True)
    assert "Algunas preguntas de nuevo" in page and 'lang="es"' in page


def test_an_unknown_link_is_not_found(wave_app):
    assert wave_app.test_client().get("/f/not-a-real-follow-up-token-1234").status_code == 404


def test_the_follow_up_link_never_withdraws_and_the_code_erases_the_waves(wave_app, clock):
    client = wave_app.test_client()
    walker, debrief = complete(client, SPEC, clock)
    path = follow_up_path(debrief)
    token = path.rsplit("/", 1)[1]
    clock.advance(7 * DAY + 60)
    page = client.get(path).get_data(as_text=True)
    client.post(path, data=_answers(page))
    # The follow-up token is not a participant code: withdrawing with it finds nobody.
    refused = client.post("/withdraw", data={"code": token})
    assert refused.status_code in (400, 404)
    form = {"code": token, "csrf_token": csrf_token(debrief), "confirm": "yes"}
    assert client.post("/p/withdraw", data=form).status_code in (400, 404)
    (person,) = rows(wave_app, Participant)
    assert person.status == "completed" and len(rows(wave_app, WaveResponse)) == 2
    # Only the participant code withdraws, and then the waves go with wave 1.
    later = client.get("/withdraw")
    client.post(
        "/withdraw", data={"code": walker.code, "csrf_token": csrf_token(later.get_data(True))}
    )
    (person,) = rows(wave_app, Participant)
    assert person.status == "withdrawn"
    assert (
        rows(wave_app, WaveResponse) == rows(wave_app, WaveReturn) == rows(wave_app, WaveLink) == []
    )
    assert client.get(path).status_code == 404


def test_a_panel_id_never_opens_the_follow_up(wave_app, clock):
    query = "?PROLIFIC_PID=5f0a1b2c3d4e5f6a7b8c9d0e&STUDY_ID=st1&SESSION_ID=se1"
    _, debrief = complete(wave_app.test_client(), SPEC, clock, query=query)
    clock.advance(7 * DAY + 60)
    # The panel id as a follow-up token, or as a resume code, opens nothing.
    client = wave_app.test_client()
    assert client.get("/f/5f0a1b2c3d4e5f6a7b8c9d0e").status_code == 404
    assert client.get("/r/5f0a1b2c3d4e5f6a7b8c9d0e").status_code == 404
    # The study link with the same panel id starts a new, flagged participant.
    again = client.get(f"/s/{SPEC.slug}{query}").get_data(as_text=True)
    assert 'name="consent"' in again and 'name="support"' not in again
    assert len(rows(wave_app, WaveLink)) == 1
    # Their own follow-up link (a token, not the panel id) is what opens the wave.
    assert 'name="support"' in client.get(follow_up_path(debrief)).get_data(as_text=True)


def test_a_participant_keeps_the_waves_of_the_version_they_took(wave_app, clock):
    from framelab.services.study_versions import publish_study

    _, first = complete(wave_app.test_client(), SPEC, clock)
    sooner = wave_study(waves=[{**WAVE, "after_days": 3, "items": ["support"]}])
    with wave_app.extensions["framelab.db"]() as session:
        assert publish_study(session, sooner, status="live", replace=True).version == 2
    _, second = complete(wave_app.test_client(), sooner, clock)
    clock.advance(3 * DAY + 60)
    client = wave_app.test_client()
    assert "not open yet" in client.get(follow_up_path(first)).get_data(as_text=True)
    page = client.get(follow_up_path(second)).get_data(as_text=True)
    assert 'name="support"' in page and 'name="join_sms"' not in page


def test_erasing_the_study_erases_the_waves_and_logs_never_show_a_link(wave_app, clock):
    from framelab.services.erasure import campaign_studies, erase_studies
    from framelab.web.logs import scrub

    path = follow_up_path(complete(wave_app.test_client(), SPEC, clock)[1])
    clock.advance(7 * DAY + 60)
    client = wave_app.test_client()
    client.post(path, data=_answers(client.get(path).get_data(as_text=True)))
    assert len(rows(wave_app, WaveResponse)) == 2
    assert scrub(f'"GET {path} HTTP/1.1" 200') == '"GET /f/[code] HTTP/1.1" 200'
    with wave_app.extensions["framelab.db"]() as session:
        studies = campaign_studies(session, SPEC.slug)
        (tombstone,) = erase_studies(session, studies, now=clock(), reason="test")
    assert tombstone.counts["wave_response"] == 2 and tombstone.counts["wave_link"] == 1
    assert rows(wave_app, WaveResponse) == rows(wave_app, WaveReturn) == []
    assert rows(wave_app, WaveLink) == []
    assert client.get(path).status_code == 404
