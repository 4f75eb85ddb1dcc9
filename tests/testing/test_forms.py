"""The load generator reads and fills forms like a participant: allowed values, honeypot empty."""

from __future__ import annotations

import random

import pytest

from framelab.testing.forms import csrf_token, fill_form, form_action, page_step, parse_page
from framelab.testing.http import _store_cookie
from framelab.testing.loadgen import LoadGenerator

PAGE = """<html><body><h1>Questions</h1>
<form method="get" action="/s/x?lang=es"><button>es</button></form>
<form class="page-form" method="post" action="/s/x/p/abcdefgh" novalidate>
<input type="hidden" name="csrf_token" value="tok123"><input type="hidden" name="step" value="pre">
<div class="hp"><input id="website" name="website" type="text" tabindex="-1"></div>
<fieldset><legend>Support</legend>
<input type="radio" name="support" value="1"><input type="radio" name="support" value="2">
<input type="radio" name="support" value="3"></fieldset>
<input type="range" name="donate" min="10" max="20" value="15">
<select name="age"><option value="">Choose</option><option value="1">18-29</option><option value="2">30+</option></select>
<textarea name="comment"></textarea>
<button type="submit" name="consent" value="yes">Yes</button><button type="submit" name="consent" value="no">No</button>
</form></body></html>"""


def test_attributes_are_read_as_a_browser_would_quoted_or_not_with_entities():
    page = (
        '<main data-step="post"><FORM METHOD=POST action="/s/x/p/c?a=1&amp;b=2">'
        "<input type=radio name=q value=1 required><input type='radio' name='q' value='2'>"
        '<input name="note" value="&quot;hi&quot; &lt;3" data-x=\'a>b\'>'
        '<input type="checkbox" name="ok"></FORM>'
        '<input name="outside" value="not in a form">'
    )
    forms, marks = parse_page(page)
    (form,) = forms
    assert (form.method, form.action, marks["step"]) == ("post", "/s/x/p/c?a=1&b=2", "post")
    assert form.fields["q"].options == ["1", "2"] and form.fields["q"].required
    assert form.fields["note"].value == '"hi" <3'
    assert form.fields["ok"].options == ["on"] and not form.fields["ok"].required
    assert "outside" not in form.fields


def test_page_forms_are_read_with_their_fields_and_options():
    forms, _ = parse_page(PAGE)
    post = [f for f in forms if f.method == "post"]
    assert len(post) == 1
    form = post[0]
    assert form.action == "/s/x/p/abcdefgh"
    assert form.hidden() == {"csrf_token": "tok123", "step": "pre"}
    assert form.fields["support"].options == ["1", "2", "3"]
    assert (form.fields["donate"].minimum, form.fields["donate"].maximum) == (10, 20)
    assert form.fields["age"].options == ["1", "2"]
    # The first submit button of a name is the one a participant presses.
    assert form.fields["consent"].value == "yes"


def test_filled_forms_use_only_allowed_values_and_leave_the_honeypot_empty():
    form = next(f for f in parse_page(PAGE)[0] if f.method == "post")
    for seed in range(50):
        data, answers = fill_form(form, random.Random(seed), ignore=frozenset({"website"}))
        assert data["csrf_token"] == "tok123" and data["step"] == "pre"
        assert data["website"] == ""
        assert data["support"] in {"1", "2", "3"}
        assert 10 <= int(data["donate"]) <= 20
        assert data["age"] in {"1", "2"}
        assert "website" not in answers and "csrf_token" not in answers
        assert answers["support"] == data["support"]


def test_cookies_are_stored_and_deleted_by_set_cookie_headers():
    jar: dict[str, str] = {}
    _store_cookie(jar, "session=abc.def; HttpOnly; Path=/; SameSite=Lax")
    assert jar == {"session": "abc.def"}
    _store_cookie(jar, "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")
    assert jar == {}


def test_load_is_only_generated_against_loopback():
    with pytest.raises(ValueError, match="base_url: load is only generated against loopback"):
        LoadGenerator("http://example.org", "/s/x", concurrency=1, duration=1)
    with pytest.raises(ValueError, match="duration or participants"):
        LoadGenerator("http://127.0.0.1:1", "/s/x", concurrency=1)


def test_a_participant_pages_step_action_and_token_come_from_its_step_form():
    # the language form before it has no step: the page's own form is the one with a step
    assert (page_step(PAGE), form_action(PAGE), csrf_token(PAGE)) == (
        "pre",
        "/s/x/p/abcdefgh",
        "tok123",
    )
    debrief = (
        '<p>Thank you</p><form method="post" action="/withdraw">'
        '<input type="hidden" name="csrf_token" value="t2"></form>'
    )
    assert page_step(debrief) is None and csrf_token(debrief) == "t2"
    with pytest.raises(LookupError, match="page has no form that posts a step"):
        form_action(debrief)
    with pytest.raises(LookupError, match="page has no CSRF token"):
        csrf_token("<p>no form here</p>")
