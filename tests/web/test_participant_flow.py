"""The participant flow through the Flask client: every page of the example study."""

from __future__ import annotations

import sqlalchemy as sa

from framelab.db.models import AssignmentLog, PageVisit, Participant, Response
from framelab.domain.steps import items_for_step
from framelab.testing.forms import page_step
from tests.factories import make_study, valid_answers
from tests.web.walker import Walker

SPEC = make_study()
PRE_IDS = [item.id for item in items_for_step(SPEC, "pre")]


def rows(app, model, **where):
    factory = app.extensions["framelab.db"]
    with factory() as session:
        query = sa.select(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return list(session.scalars(query))


def participant(app, code: str) -> Participant:
    (found,) = rows(app, Participant, code=code)
    return found


def code_of(walker: Walker) -> str:
    return walker.code


def test_full_walk_stores_every_answer_assigns_once_and_shows_completion(app_any_db, clock):
    walker = Walker(app_any_db.test_client(), SPEC, clock)
    walker.consent()
    code = code_of(walker)
    seen_steps = []
    for step in ("pre", "message", "post", "intent"):
        walker.page()
        seen_steps.append(page_step(walker.last))
        index = ("consent", "pre", "message", "post", "intent", "debrief").index(step) + 1
        assert f"Step {index} of 6" in walker.last
        if step == "message":
            arm = participant(app_any_db, code).arm
            title = SPEC.text(SPEC.arm(arm).frame.title, "en")
            assert title in walker.last
            walker.wait(42)
            assert walker.post("message").status_code == 302
            continue
        walker.wait(10)
        response = walker.post(step, valid_answers(SPEC, step))
        assert response.status_code == 302
    assert seen_steps == ["pre", "message", "post", "intent"]
    debrief = walker.page().get_data(as_text=True)
    assert "C7XK2Q" in debrief
    assert 'href="https://app.prolific.com/submissions/complete?cc=C7XK2Q"' in debrief

    found = participant(app_any_db, code)
    assert (found.status, found.step) == ("completed", "debrief")
    answered = {(r.item_id, r.phase) for r in rows(app_any_db, Response, participant_id=found.id)}
    expected = {(i, "pre") for i in PRE_IDS} | {
        (item.id, "post") for step in ("post", "intent") for item in items_for_step(SPEC, step)
    }
    assert answered == expected
    logged = rows(app_any_db, AssignmentLog)
    assert [(r.stratum, r.arm) for r in logged] == [(found.stratum, found.arm)]
    message = [
        v for v in rows(app_any_db, PageVisit, participant_id=found.id) if v.step == "message"
    ]
    assert message[0].seconds == 42


def test_declining_consent_ends_politely_and_is_recorded_as_screened_out(app, client, clock):
    walker = Walker(client, SPEC, clock)
    walker.consent("no")
    page = walker.page().get_data(as_text=True)
    assert "You chose not to take part" in page
    assert page_step(page) is None  # no form left to fill
    found = participant(app, code_of(walker))
    assert (found.status, found.arm) == ("screened_out", None)
    assert rows(app, Response) == []


def test_reload_and_coming_back_with_the_link_resume_the_same_page(app, client, clock):
    walker = Walker(client, SPEC, clock)
    walker.consent()
    walker.answer("pre")
    first = walker.page().get_data(as_text=True)
    again = walker.page().get_data(as_text=True)
    assert page_step(first) == page_step(again) == "message"
    # The participant's pages are at one neutral address: no study, no code.
    assert walker.url == "/p"
    # The study link with the cookie goes back to the participant's own page.
    back = client.get(f"/s/{SPEC.slug}")
    assert back.status_code == 302 and back.headers["Location"] == walker.url
    # The resume link (with the participant code) works in a fresh browser, and so does
    # the address of earlier releases that people may have kept.
    for link in (f"/r/{code_of(walker)}", f"/s/{SPEC.slug}/p/{code_of(walker)}"):
        other = app.test_client()
        resumed = other.get(link)
        assert resumed.status_code == 302 and resumed.headers["Location"] == "/p"
        assert page_step(other.get("/p").get_data(as_text=True)) == "message"
    # A fresh browser at /p without the cookie is asked for the code, and gets its page.
    stranger = app.test_client()
    asked = stranger.get("/p").get_data(as_text=True)
    assert "Continue the study" in asked and page_step(asked) is None
    typed = stranger.post("/r", data={"code": code_of(walker)})
    assert typed.status_code == 302 and typed.headers["Location"] == "/p"
    assert page_step(stranger.get("/p").get_data(as_text=True)) == "message"
    wrong = app.test_client().post("/r", data={"code": "not-a-code-of-anyone"})
    assert wrong.status_code == 400 and "We found no participation" in wrong.get_data(True)
    assert len(rows(app, Participant)) == 1


def test_double_submit_stores_answers_once_and_assigns_once(app, client, clock):
    walker = Walker(client, SPEC, clock)
    walker.consent()
    walker.page()
    answers = valid_answers(SPEC, "pre")
    assert walker.post("pre", answers).status_code == 302
    assert walker.post("pre", {**answers, "support": "1"}).status_code == 302
    found = participant(app, code_of(walker))
    stored = {r.item_id: r.value_int for r in rows(app, Response, participant_id=found.id)}
    assert stored["support"] == int(answers["support"])
    assert len(stored) == len(PRE_IDS)
    assert len(rows(app, AssignmentLog)) == 1
    assert found.step == "message"


def test_skipping_ahead_by_url_or_by_form_changes_nothing(app, client, clock):
    walker = Walker(client, SPEC, clock)
    walker.consent()
    walker.page()
    skip = walker.post("post", valid_answers(SPEC, "post"))
    assert skip.status_code == 302 and skip.headers["Location"] == walker.url
    by_url = client.get(walker.url + "/debrief")
    assert by_url.status_code == 302 and by_url.headers["Location"] == walker.url
    assert page_step(walker.page().get_data(as_text=True)) == "pre"
    found = participant(app, code_of(walker))
    assert (found.step, found.arm) == ("pre", None)
    assert rows(app, Response) == []


def test_back_button_resubmitting_an_earlier_page_keeps_the_first_answers(app, client, clock):
    walker = Walker(client, SPEC, clock)
    walker.consent()
    walker.answer("pre", support="2")
    walker.answer("message")
    old_pre_form = {**valid_answers(SPEC, "pre"), "support": "7"}
    assert walker.post("pre", old_pre_form).status_code == 302
    found = participant(app, code_of(walker))
    support = [r for r in rows(app, Response, participant_id=found.id) if r.item_id == "support"]
    assert [(r.phase, r.value_int) for r in support] == [("pre", 2)]
    assert found.step == "post"
    # Going back to the study link never makes a second participant.
    client.get(f"/s/{SPEC.slug}")
    assert len(rows(app, Participant)) == 1


def test_returning_prolific_id_starts_afresh_as_a_flagged_duplicate(app, clock):
    # DECISIONS rule 5: a panel id never resumes; a repeat one is a participant of its own.
    query = "?PROLIFIC_PID=5f0a1b2c3d4e5f6a7b8c9d0e&STUDY_ID=st1&SESSION_ID=se1"
    first = Walker(app.test_client(), SPEC, clock)
    link = first.open_link(query)
    assert link.status_code == 200 and page_step(first.last) == "consent"
    assert rows(app, Participant) == []  # the link's GET enrols nobody
    first.consent(query=query)
    first.answer("pre")
    second = Walker(app.test_client(), SPEC, clock)  # another browser, no cookie
    response = second.open_link(query)
    assert response.status_code == 200 and page_step(second.last) == "consent"
    second.consent(query=query)
    assert second.code != first.code
    assert page_step(second.page().get_data(as_text=True)) == "pre"
    original, again = participant(app, first.code), participant(app, second.code)
    assert (original.step, original.duplicate, again.duplicate) == ("message", False, True)
    assert original.source == again.source == "prolific"
    assert original.panel_hash and "5f0a1b2c3d4e5f6a7b8c9d0e" not in original.panel_hash
    assert again.panel_hash is None  # one hash per id: the duplicate is never linked to it


def test_src_parameter_records_the_channel(app, client, clock):
    walker = Walker(client, SPEC, clock)
    walker.consent(query="?src=sms")
    assert participant(app, code_of(walker)).source == "sms"
