"""A page's answers: checked by their items, stored all or nothing, replayed idempotently.

Pages are submitted through the flow (submit_step); the upsert's own properties (a replay
keeps one row and its first time, a change replaces it) are checked on the participant
store's `answer_rows` and `write_page`, which every page's answers go through.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from framelab.db.direct import for_session
from framelab.db.models import Participant, Response
from framelab.domain.steps import check_answers, items_for_step
from framelab.services.errors import ParticipantNotFound
from framelab.services.flow import current_page, submit_step
from framelab.services.participant_store.answers import answer_rows
from framelab.services.participant_store.page_writes import write_page
from tests.factories import publish, valid_answers
from tests.participants import enrol
from tests.services.answers import stored_answers
from tests.services.conftest import NOW


@pytest.fixture
def person(session, example_spec):
    """A participant who consented and is on the pre page."""
    publish(session, example_spec)
    person = enrol(session, "torture-ban", language="en", source=None, panel=None, now=NOW)
    assert current_page(session, person.code, now=NOW).step == "pre"
    return person


def _write(session, spec, person, step, form, *, now=NOW) -> bool:
    """One page's answers through the participant store, as submit_step writes them."""
    items = items_for_step(spec, step)
    check = check_answers(items, form)
    assert check.errors == {}
    pid = person.id  # read before the write: a reload would wait for the write's lock
    with for_session(session, write=True) as db:
        rows, skipped, failed = answer_rows(db, pid, "post", check.values, items=items, now=now)
        # The step the page moves to, as a submit sets it with the answers (one statement).
        write_page(db, pid, {"step": step}, answers=rows, skipped=skipped)
        return failed


def test_valid_page_is_stored_with_the_items_coding(session, example_spec, person):
    items = items_for_step(example_spec, "pre")
    form = valid_answers(example_spec, "pre", ideology="2", support="7", age_group="3")
    assert submit_step(session, person.code, "pre", form, now=NOW).ok
    values = {k: v for k, v in check_answers(items, form).values.items() if v is not None}
    assert values["ideology"] == 2 and values["support"] == 7 and values["age_group"] == 3
    assert stored_answers(session, person.id, "pre") == values
    assert session.query(Response).filter_by(participant_id=person.id).count() == len(items)


def test_one_bad_value_stores_nothing_and_names_every_bad_item(session, example_spec, person):
    form = valid_answers(example_spec, "pre", support="9", ideology="left", age_group="")
    result = submit_step(session, person.code, "pre", form, now=NOW)
    assert not result.ok and result.step == "pre"
    assert {k: v.code for k, v in result.errors.items()} == {
        "support": "out_of_range",
        "ideology": "not_a_number",
        "age_group": "required",
    }
    assert result.errors["support"].message == "support: expected 1..7, got 9"
    assert result.values["support"] == "9"  # the page shows the answers as typed
    assert session.query(Response).count() == 0
    assert current_page(session, person.code, now=NOW).step == "pre"


def test_replaying_the_same_answers_keeps_one_row_each_and_the_first_timestamp(
    session, example_spec, person
):
    items = items_for_step(example_spec, "post")
    form = valid_answers(example_spec, "post")
    _write(session, example_spec, person, "post", form)
    _write(session, example_spec, person, "post", form, now=NOW + timedelta(minutes=5))
    rows = session.query(Response).filter_by(participant_id=person.id).all()
    assert len(rows) == len(items)
    assert {r.answered_at for r in rows} == {NOW}


def test_a_changed_answer_replaces_the_stored_value(session, example_spec, person):
    _write(session, example_spec, person, "post", valid_answers(example_spec, "post", support="2"))
    later = NOW + timedelta(minutes=1)
    form = valid_answers(example_spec, "post", support="6")
    _write(session, example_spec, person, "post", form, now=later)
    row = session.query(Response).filter_by(participant_id=person.id, item_id="support").one()
    assert (row.value_int, row.answered_at) == (6, later)


def test_optional_text_left_empty_is_not_stored_and_text_is_kept_verbatim(
    session, example_spec, person
):
    _write(session, example_spec, person, "post", valid_answers(example_spec, "post", comment=""))
    assert "comment" not in stored_answers(session, person.id, "post")
    form = valid_answers(example_spec, "post", comment="Ni una excepción.")
    _write(session, example_spec, person, "post", form)
    assert stored_answers(session, person.id, "post")["comment"] == "Ni una excepción."


def test_wrong_attention_check_answer_is_stored_and_flags_the_participant(
    session, example_spec, person
):
    items = items_for_step(example_spec, "pre")
    check = next(i for i in items if i.role == "attention_check")
    wrong = next(v for v in check.allowed_values() if v != check.correct)
    form = valid_answers(example_spec, "pre", **{check.id: wrong})
    assert submit_step(session, person.code, "pre", form, now=NOW).ok
    assert stored_answers(session, person.id, "pre")[check.id] == wrong
    assert session.get(Participant, person.id).attention_failed is True


def test_unknown_participant_raises_participant_not_found(session, example_spec):
    publish(session, example_spec)
    form = valid_answers(example_spec, "post")
    with pytest.raises(ParticipantNotFound, match="participant: no participant with this code"):
        submit_step(session, "no-such-code-999", "post", form, now=NOW)


def test_replayed_comment_stays_unchanged_when_text_is_encrypted_at_rest(
    session, example_spec, person, monkeypatch
):
    from framelab.crypto import TEXT_KEY_ENV, generate_text_key

    monkeypatch.setenv(TEXT_KEY_ENV, generate_text_key())
    form = valid_answers(example_spec, "post", comment="Never, for anyone.")
    _write(session, example_spec, person, "post", form)
    _write(session, example_spec, person, "post", form, now=NOW + timedelta(minutes=5))
    row = session.query(Response).filter_by(participant_id=person.id, item_id="comment").one()
    assert row.answered_at == NOW and row.value_text.startswith("fl1:")
    assert stored_answers(session, person.id, "post")["comment"] == "Never, for anyone."
