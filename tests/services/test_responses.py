"""record_answers: validation through the items, all-or-nothing storage, idempotent replay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from framelab.db.models import Participant, Response
from framelab.services.enrolment import start_participant
from framelab.services.errors import ParticipantNotFound
from framelab.services.flow import items_for_step
from framelab.services.responses import AnswerError, record_answers, stored_answers
from tests.factories import publish, valid_answers
from tests.services.conftest import NOW


@pytest.fixture
def person(session, example_spec):
    publish(session, example_spec)
    return start_participant(
        session, "torture-ban", language="en", source=None, panel=None, now=NOW
    )


def test_valid_page_is_stored_with_the_items_coding(session, example_spec, person):
    items = items_for_step(example_spec, "pre")
    form = valid_answers(example_spec, "pre", ideology="2", support="7", age_group="3")
    values = record_answers(session, person.id, "pre", form, items=items, now=NOW)
    assert values["ideology"] == 2 and values["support"] == 7 and values["age_group"] == 3
    assert stored_answers(session, person.id, "pre") == values
    assert session.query(Response).filter_by(participant_id=person.id).count() == len(items)


def test_one_bad_value_stores_nothing_and_names_every_bad_item(session, example_spec, person):
    items = items_for_step(example_spec, "pre")
    form = valid_answers(example_spec, "pre", support="9", ideology="left", age_group="")
    with pytest.raises(AnswerError) as caught:
        record_answers(session, person.id, "pre", form, items=items, now=NOW)
    errors = caught.value.errors
    assert {k: v.code for k, v in errors.items()} == {
        "support": "out_of_range",
        "ideology": "not_a_number",
        "age_group": "required",
    }
    assert "support: expected 1..7, got 9" in str(caught.value)
    assert session.query(Response).count() == 0


def test_replaying_the_same_answers_keeps_one_row_each_and_the_first_timestamp(
    session, example_spec, person
):
    items = items_for_step(example_spec, "post")
    form = valid_answers(example_spec, "post")
    record_answers(session, person.id, "post", form, items=items, now=NOW)
    record_answers(session, person.id, "post", form, items=items, now=NOW + timedelta(minutes=5))
    rows = session.query(Response).filter_by(participant_id=person.id).all()
    assert len(rows) == len(items)
    assert {r.answered_at for r in rows} == {NOW}


def test_a_changed_answer_replaces_the_stored_value(session, example_spec, person):
    items = items_for_step(example_spec, "post")
    record_answers(
        session,
        person.id,
        "post",
        valid_answers(example_spec, "post", support="2"),
        items=items,
        now=NOW,
    )
    later = NOW + timedelta(minutes=1)
    record_answers(
        session,
        person.id,
        "post",
        valid_answers(example_spec, "post", support="6"),
        items=items,
        now=later,
    )
    row = session.query(Response).filter_by(participant_id=person.id, item_id="support").one()
    assert (row.value_int, row.answered_at) == (6, later)


def test_optional_text_left_empty_is_not_stored_and_text_is_kept_verbatim(
    session, example_spec, person
):
    items = items_for_step(example_spec, "post")
    record_answers(
        session,
        person.id,
        "post",
        valid_answers(example_spec, "post", comment=""),
        items=items,
        now=NOW,
    )
    assert "comment" not in stored_answers(session, person.id, "post")
    record_answers(
        session,
        person.id,
        "post",
        valid_answers(example_spec, "post", comment="Ni una excepción."),
        items=items,
        now=NOW,
    )
    assert stored_answers(session, person.id, "post")["comment"] == "Ni una excepción."


def test_wrong_attention_check_answer_is_stored_and_flags_the_participant(
    session, example_spec, person
):
    items = items_for_step(example_spec, "pre")
    check = next(i for i in items if i.role == "attention_check")
    wrong = next(v for v in check.allowed_values() if v != check.correct)
    record_answers(
        session,
        person.id,
        "pre",
        valid_answers(example_spec, "pre", **{check.id: wrong}),
        items=items,
        now=NOW,
    )
    assert stored_answers(session, person.id, "pre")[check.id] == wrong
    assert session.get(Participant, person.id).attention_failed is True


def test_unknown_participant_raises_participant_not_found(session, example_spec):
    publish(session, example_spec)
    items = items_for_step(example_spec, "post")
    with pytest.raises(ParticipantNotFound, match="participant: no participant with id 999"):
        record_answers(
            session, 999, "post", valid_answers(example_spec, "post"), items=items, now=NOW
        )


def test_replayed_comment_stays_unchanged_when_text_is_encrypted_at_rest(
    session, example_spec, person, monkeypatch
):
    from framelab.crypto import TEXT_KEY_ENV, generate_text_key

    monkeypatch.setenv(TEXT_KEY_ENV, generate_text_key())
    items = items_for_step(example_spec, "post")
    form = valid_answers(example_spec, "post", comment="Never, for anyone.")
    record_answers(session, person.id, "post", form, items=items, now=NOW)
    record_answers(session, person.id, "post", form, items=items, now=NOW + timedelta(minutes=5))
    row = session.query(Response).filter_by(participant_id=person.id, item_id="comment").one()
    assert row.answered_at == NOW and row.value_text.startswith("fl1:")
    assert stored_answers(session, person.id, "post")["comment"] == "Never, for anyone."
