"""What participants see: invalid answers, languages, error pages, withdrawal, flags, weight."""

from __future__ import annotations

import re

import pytest

from framelab.db.models import Participant, Response
from framelab.domain.steps import preview_page
from framelab.testing.forms import csrf_token, page_step
from framelab.web.participant import page_from_state, render_page
from tests.factories import make_study, valid_answers
from tests.web.conftest import make_app
from tests.web.test_participant_flow import code_of, participant, rows
from tests.web.walker import Walker

SPEC = make_study()
MAX_PAGE_BYTES = 30 * 1024


def at_step(client, clock, step: str) -> Walker:
    walker = Walker(client, SPEC, clock)
    walker.consent()
    for earlier in ("pre", "message", "post", "intent"):
        if earlier == step:
            break
        walker.answer(earlier)
    walker.page()
    assert page_step(walker.last) == step
    return walker


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"support": "9"}, "Please choose one of the answers."),
        ({"support": "strongly"}, "Please choose one of the answers."),
        ({"support": ""}, "Please answer this question."),
    ],
    ids=["out_of_range", "wrong_type", "missing_required"],
)
def test_invalid_pre_answer_shows_the_page_again_with_message_and_answers_kept(
    app, client, clock, bad, message
):
    walker = at_step(client, clock, "pre")
    answers = {**valid_answers(SPEC, "pre", ideology="4", age_group="2"), **bad}
    response = walker.post("pre", answers)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page_step(page) == "pre"
    assert 'role="alert"' in page and 'href="#q-support-1"' in page
    assert f'<p class="field-error" id="err-support">{message}</p>' in page
    assert re.search(r'name="support" value="\d"[^>]*aria-describedby="err-support"', page)
    # The other answers are still selected.
    assert re.search(r'id="q-ideology-4" name="ideology" value="4" checked', page)
    assert re.search(r'id="q-age_group-2" name="age_group" value="2" checked', page)
    assert rows(app, Response) == []
    assert participant(app, code_of(walker)).step == "pre"


def test_invalid_slider_and_overlong_text_are_explained_and_kept(app, client, clock):
    walker = at_step(client, clock, "post")
    long_comment = "x" * (SPEC.item("comment").text_max_length + 1)
    response = walker.post("post", valid_answers(SPEC, "post", comment=long_comment))
    page = response.get_data(as_text=True)
    assert f"Please shorten your answer to at most {len(long_comment) - 1} characters." in page
    assert f">{long_comment}</textarea>" in page
    walker.post("post", valid_answers(SPEC, "post"))
    walker.page()
    page = walker.post("intent", valid_answers(SPEC, "intent", donate="150")).get_data(as_text=True)
    assert "Please give a whole number from 0 to 100." in page
    assert (
        'name="join_sms" value="1" checked' in page or 'name="join_sms" value="0" checked' in page
    )


def test_lang_parameter_renders_arabic_right_to_left_with_translated_interface(client):
    page = client.get(f"/s/{SPEC.slug}?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "قبل أن تبدأ" in page  # "Before you start" from the Arabic catalog
    assert SPEC.text(SPEC.title, "ar") in page
    # The choice is remembered for the next page without the parameter.
    assert '<html lang="ar" dir="rtl">' in client.get(f"/s/{SPEC.slug}").get_data(as_text=True)


def test_switching_language_mid_study_changes_the_participant_language(app, client, clock):
    walker = at_step(client, clock, "pre")
    switched = client.get(walker.url + "?lang=es")
    assert switched.status_code == 302 and switched.headers["Location"] == walker.url
    page = walker.page().get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in page and "Algunas preguntas sobre usted" in page
    assert participant(app, code_of(walker)).language == "es"


def test_browser_language_is_used_when_no_choice_was_made(client):
    page = client.get(f"/s/{SPEC.slug}", headers={"Accept-Language": "fr-CH, fr;q=0.9"})
    assert '<html lang="fr" dir="ltr">' in page.get_data(as_text=True)


def test_unknown_study_is_a_friendly_404_in_the_chosen_language(client):
    response = client.get("/s/no-such-study?lang=fr")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Étude introuvable" in page
    assert "Traceback" not in page


def test_closed_study_is_a_friendly_400(tmp_path, clock):
    app = make_app(f"sqlite:///{tmp_path / 'c.sqlite'}", clock=clock, status="draft")
    response = app.test_client().get(f"/s/{SPEC.slug}?lang=es")
    assert response.status_code == 400
    assert "Este estudio no está abierto" in response.get_data(as_text=True)
    app.extensions["framelab.engine"].dispose()


def test_unknown_page_and_unknown_participant_are_404(client):
    assert client.get("/nothing-here").status_code == 404
    response = client.get(f"/s/{SPEC.slug}/p/not-a-real-code")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_a_friendly_400_and_stores_nothing(app, client, clock):
    walker = at_step(client, clock, "pre")
    response = client.post(walker.url, data={"step": "pre", **valid_answers(SPEC, "pre")})
    assert response.status_code == 400
    assert "This page has expired" in response.get_data(as_text=True)
    assert rows(app, Response) == []


def test_server_error_page_is_friendly_without_traceback(app, client, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*_args, **_kwargs):
        raise RuntimeError("database exploded at /secret/path")

    monkeypatch.setattr("framelab.web.participant.views_link.arrive", broken)
    response = client.get(f"/s/{SPEC.slug}?lang=ar")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "عذرًا، حدث خطأ من جانبنا" in page
    assert "exploded" not in page and "Traceback" not in page


def test_withdrawal_from_the_debrief_asks_first_then_erases_answers(app, client, clock):
    walker = Walker(client, SPEC, clock)
    debrief = walker.complete()
    code = code_of(walker)
    # The debrief's withdraw button is a form carrying the code: the browser was told to
    # forget the participant when the debrief was shown, so a link to /p would not do.
    assert client.get_cookie("p", path="/p") is None
    form = {"code": code, "csrf_token": csrf_token(debrief)}
    confirm = client.post("/p/withdraw", data=form)
    assert confirm.status_code == 200
    assert "Withdraw from the study?" in confirm.get_data(as_text=True)
    assert participant(app, code).status == "completed"  # no confirm=yes: nothing happens
    forged = client.post("/p/withdraw", data={**form, "csrf_token": "x", "confirm": "yes"})
    assert forged.status_code == 400 and participant(app, code).status == "completed"
    response = client.post("/p/withdraw", data={**form, "confirm": "yes"})
    assert response.status_code == 200
    assert "Your answers have been erased" in response.get_data(as_text=True)
    assert response.headers["Clear-Site-Data"] == '"cookies", "storage"'
    assert participant(app, code).status == "withdrawn"
    assert rows(app, Response) == []


def test_honeypot_and_failed_attention_check_are_flagged_not_rejected(app, client, clock):
    walker = at_step(client, clock, "pre")
    answers = valid_answers(SPEC, "pre", attn_instructed="5")
    response = walker.post("pre", answers, website="http://spam.example")
    assert response.status_code == 302
    found = participant(app, code_of(walker))
    assert (found.honeypot, found.attention_failed, found.step) == (True, True, "message")


def test_fast_completion_is_flagged_as_speeder_and_a_slow_one_is_not(app, clock):
    fast = Walker(app.test_client(), SPEC, None)
    fast.complete()
    slow = Walker(app.test_client(), SPEC, clock)
    slow.complete()  # 20 virtual seconds per page
    assert participant(app, code_of(fast)).speeder is True
    assert participant(app, code_of(slow)).speeder is False


def test_no_ip_address_or_user_agent_reaches_the_database(app, clock):
    client = app.test_client()
    client.environ_base.update(
        {"REMOTE_ADDR": "203.0.113.77", "HTTP_USER_AGENT": "FramelabProbe/9.9 (Test; UA)"}
    )
    Walker(client, SPEC, clock).complete()
    engine = app.extensions["framelab.engine"]
    with engine.connect() as conn:
        dump = "\n".join(
            str(tuple(row))
            for table in ("participant", "response", "page_visit", "assignment_log", "study")
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
        )
    assert "torture-ban" in dump  # the dump did read the tables
    assert "203.0.113.77" not in dump and "FramelabProbe" not in dump


def test_every_page_with_its_stylesheet_weighs_at_most_30_kb(app, client, clock, artifacts_dir):
    # The stylesheet and the small progressive script are the only other files a page loads.
    css = 0
    for asset in ("framelab.css", "framelab.js"):
        with client.get(f"/static/{asset}") as response:
            css += len(response.data)
    weights = {}
    walker = Walker(client, SPEC, clock)
    for lang in SPEC.languages:
        weights[f"consent/{lang}"] = len(client.get(f"/s/{SPEC.slug}?lang={lang}").data) + css
    walker.consent()
    for step in ("pre", "message", "post", "intent"):
        for lang in SPEC.languages:
            client.get(walker.url + f"?lang={lang}")
            weights[f"{step}/{lang}"] = len(walker.page().data) + css
        walker.answer(step)
    weights["debrief/en"] = len(walker.page().data) + css
    (artifacts_dir / "page-weights.txt").write_text(
        "\n".join(f"{k}: {v} bytes" for k, v in sorted(weights.items())), encoding="utf-8"
    )
    heaviest = max(weights, key=weights.get)
    assert weights[heaviest] <= MAX_PAGE_BYTES, (heaviest, weights[heaviest])


def test_preview_renders_the_participant_page_posting_nowhere(app):
    state = preview_page(SPEC, "message", language="fr", arm="care")
    with app.test_request_context("/studio/preview"):
        html = render_page(page_from_state(state), preview=True)
    assert SPEC.text(SPEC.arm("care").frame.title, "fr") in html
    assert "csrf_token" not in html and 'method="post"' not in html
    assert 'type="button"' in html and 'type="submit"' not in html
    assert '<html lang="fr" dir="ltr">' in html
    assert rows(app, Participant) == []


def test_one_participants_answers_and_errors_never_show_on_anothers_page(app, clock):
    first = at_step(app.test_client(), clock, "pre")
    first.post("pre", {**valid_answers(SPEC, "pre", ideology="5"), "support": "99"})
    assert " checked" in first.last and "err-support" in first.last
    second = at_step(app.test_client(), clock, "pre")
    assert " checked" not in second.last and "field-error" not in second.last
    arabic = at_step(app.test_client(), clock, "pre")
    arabic.client.get(arabic.url + "?lang=ar")
    page = arabic.page().get_data(as_text=True)
    assert SPEC.text(SPEC.item("support").text, "ar") in page
    assert SPEC.text(SPEC.item("support").text, "en") not in page


def test_participant_pages_keep_no_session_even_when_asked_for_a_language(client, clock):
    # Found by the participant fuzzer: ?lang= on a participant's address (here an unknown
    # code, so the 404 page) tried to remember the language in the session.
    response = client.get(f"/s/{SPEC.slug}/p/not-a-real-code?lang=es")
    assert response.status_code == 404
    assert 'lang="es"' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    walker = at_step(client, clock, "pre")
    page = client.get(walker.url)
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
