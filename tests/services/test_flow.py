"""The participant step machine: a full walk, replays, skipping ahead, panels, withdrawal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from framelab.db.models import AssignmentLog, PageVisit, Participant, Response, Study
from framelab.domain.steps import preview_page, steps_for
from framelab.services.enrolment import participant_by_code
from framelab.services.flow import (
    ParticipantNotFound,
    consent_from_link,
    current_page,
    submit_step,
    withdraw,
)
from framelab.services.pseudonyms import TESTING_KEY
from tests.factories import make_study, publish, study_data, valid_answers
from tests.participants import enrol, open_study_link
from tests.services.answers import stored_answers
from tests.services.conftest import NOW

PROLIFIC = {"PROLIFIC_PID": "5f1e2d3c4b5a69788796a5b4", "STUDY_ID": "s1", "SESSION_ID": "x9"}


def _start(session, panel=None, language="en"):
    return enrol(
        session,
        "torture-ban",
        language=language,
        source=None,
        panel=panel,
        now=NOW,
        key=TESTING_KEY,
    )


def _link(session, form):
    """The study link's consent form as the page posts it: (code or None, the result)."""
    return consent_from_link(
        session, "torture-ban", form, language="en", source=None, now=NOW, key=TESTING_KEY
    )


def _walk(session, spec, code, until, *, step_seconds=30, start=NOW, **answers):
    """Submit valid pages from the current step until `until` is the current step."""
    t = start
    while True:
        page = current_page(session, code, now=t)
        if page.step == until:
            return page, t
        t += timedelta(seconds=step_seconds)
        result = submit_step(
            session, code, page.step, valid_answers(spec, page.step, **answers), now=t
        )
        assert result.ok, result.errors


@pytest.fixture
def live(session, example_spec):
    return publish(session, example_spec)


def test_example_study_has_all_six_steps(example_spec):
    assert steps_for(example_spec) == ["consent", "pre", "message", "post", "intent", "debrief"]


def test_full_walk_assigns_on_arrival_at_message_and_completes_with_the_code(
    session, example_spec, live
):
    person = _start(session)
    page = current_page(session, person.code, now=NOW)
    # Enrolled with the consent: the first page they see is the second of six.
    assert (page.step, page.progress, page.arm) == ("pre", (2, 6), None)
    page, t = _walk(session, example_spec, person.code, "message", ideology="4")
    assert page.arm in example_spec.arm_ids and page.progress == (3, 6)
    assert page.frame == example_spec.arm(page.arm).frame
    row = session.get(Participant, person.id)
    assert (row.status, row.stratum, row.arm) == ("assigned", "right", page.arm)
    assert [i.id for i in current_page(session, person.code, now=NOW).items] == []
    page, done_at = _walk(session, example_spec, person.code, "debrief", start=t)
    assert (page.status, page.completion_code) == ("completed", "C7XK2Q")
    assert page.redirect_url.endswith("cc=C7XK2Q")
    row = session.get(Participant, person.id)
    assert row.completed_at == done_at
    # Consent at enrolment (NOW), then four pages of 30 s each.
    assert row.duration_seconds == (done_at - NOW).total_seconds() == 120
    assert row.speeder is False
    intent = stored_answers(session, person.id, "post")
    assert {"support", "join_sms", "donate", "manip_value"} <= set(intent)
    visit = session.query(PageVisit).filter_by(participant_id=person.id, step="message").one()
    assert visit.seconds == 30


def test_double_submit_of_pre_stores_once_and_assigns_once(session, example_spec, live):
    person = _start(session)
    _walk(session, example_spec, person.code, "pre")
    form = valid_answers(example_spec, "pre")
    first = submit_step(session, person.code, "pre", form, now=NOW)
    second = submit_step(
        session, person.code, "pre", valid_answers(example_spec, "pre", support="1"), now=NOW
    )
    assert first.ok and first.step == "message"
    assert (second.ok, second.stale, second.step) == (False, True, "message")
    assert stored_answers(session, person.id, "pre")["support"] == int(form["support"])
    assert session.query(AssignmentLog).count() == 1
    n_pre = len([i for i in example_spec.items if i.in_phase("pre")])
    assert session.query(Response).count() == n_pre


def test_skipping_ahead_by_url_changes_nothing(session, example_spec, live):
    person = _start(session)
    answered = session.query(Response).count()  # the consent
    result = submit_step(session, person.code, "post", valid_answers(example_spec, "post"), now=NOW)
    assert (result.ok, result.stale, result.step) == (False, True, "pre")
    result = submit_step(session, person.code, "debrief", {}, now=NOW)
    assert result.step == "pre"
    assert session.query(Response).count() == answered
    assert session.get(Participant, person.id).step == "pre"


def test_back_button_resubmitting_an_earlier_page_keeps_the_first_answers(
    session, example_spec, live
):
    person = _start(session)
    _walk(session, example_spec, person.code, "post", support="3")
    result = submit_step(
        session, person.code, "pre", valid_answers(example_spec, "pre", support="7"), now=NOW
    )
    assert (result.stale, result.step) == (True, "post")
    assert stored_answers(session, person.id, "pre")["support"] == 3


def test_declining_consent_screens_out_and_nothing_more_is_accepted(session, example_spec, live):
    code, result = _link(session, {"consent": "no"})
    assert (result.ok, result.step) == (True, "screened_out")
    person = participant_by_code(session, code)  # a refusal is kept, so it is counted
    row = session.get(Participant, person.id)
    assert (row.status, row.step, row.arm) == ("screened_out", "screened_out", None)
    assert submit_step(
        session, person.code, "pre", valid_answers(example_spec, "pre"), now=NOW
    ).stale
    assert current_page(session, person.code, now=NOW).step == "screened_out"


def test_consent_without_an_answer_is_an_error_on_the_consent_field(session, live):
    code, result = _link(session, {})
    assert (result.ok, result.step, result.errors["consent"].code) == (False, "consent", "required")
    assert code is None and session.query(Participant).count() == 0


def test_invalid_answers_return_the_page_with_errors_and_the_typed_values(
    session, example_spec, live
):
    person = _start(session)
    _walk(session, example_spec, person.code, "pre")
    form = valid_answers(example_spec, "pre", support="12", age_group="")
    result = submit_step(session, person.code, "pre", form, now=NOW)
    assert (result.ok, result.step) == (False, "pre")
    assert {k: p.code for k, p in result.errors.items()} == {
        "support": "out_of_range",
        "age_group": "required",
    }
    assert result.values["support"] == "12" and result.values["ideology"] == form["ideology"]
    assert session.query(Response).count() == 0
    assert session.get(Participant, person.id).arm is None


def test_same_prolific_id_is_a_new_flagged_duplicate_and_only_keyed_hashes_are_stored(
    session, example_spec, live
):
    # DECISIONS rule 5: a panel id never resumes the earlier record.
    first = _start(session, panel=PROLIFIC)
    _walk(session, example_spec, first.code, "message")
    again = _start(session, panel=dict(PROLIFIC))
    assert again.code != first.code and again.duplicate and not first.duplicate
    assert current_page(session, again.code, now=NOW).step == "pre"  # a fresh start
    assert again.panel_hash is None  # one hash per id: nothing links the two rows
    row = session.get(Participant, first.id)
    assert row.source == again.source == "prolific"
    stored = {row.panel_hash, row.panel_study_hash, row.panel_session_hash}
    assert all(len(h) == 64 for h in stored)
    assert not any(PROLIFIC["PROLIFIC_PID"] in h for h in stored)
    salt = session.get(Study, row.study_id).salt
    assert row.panel_hash == TESTING_KEY.pseudonym(salt, PROLIFIC["PROLIFIC_PID"])
    other = _start(session, panel={"PROLIFIC_PID": "someone-else"})
    assert other.code != first.code and not other.duplicate
    assert session.query(Participant).count() == 3


def test_completing_faster_than_speeder_seconds_sets_the_speeder_flag(session, example_spec, live):
    person = _start(session)
    _walk(session, example_spec, person.code, "debrief", step_seconds=5)
    row = session.get(Participant, person.id)
    assert row.duration_seconds == 20 and row.speeder is True  # consent at enrolment, 4 pages


def test_filled_honeypot_is_flagged_without_stopping_the_participant(session, example_spec, live):
    code, result = _link(session, {"consent": "yes", "website": "http://spam"})
    assert result.ok and result.step == "pre"
    assert participant_by_code(session, code).honeypot is True


def test_time_on_page_counts_from_the_first_showing(session, example_spec, live):
    person = _start(session)
    _walk(session, example_spec, person.code, "message")
    current_page(session, person.code, now=NOW + timedelta(seconds=100))  # a reload later
    submit_step(session, person.code, "message", {}, now=NOW + timedelta(seconds=130))
    visit = session.query(PageVisit).filter_by(participant_id=person.id, step="message").one()
    assert visit.shown_at == NOW + timedelta(seconds=30)  # consent at NOW, pre answered at 30 s
    assert visit.seconds == 100


def test_withdraw_erases_what_derives_from_the_person_and_keeps_the_assignment_log_row(
    session, example_spec, live
):
    person = _start(session, panel=PROLIFIC, language="es")
    _walk(session, example_spec, person.code, "debrief")
    before = session.get(Participant, person.id)
    assert before.stratum and before.panel_hash and before.completed_at
    withdrawn = NOW + timedelta(hours=1, minutes=7, seconds=3)
    assert withdraw(session, person.code, now=withdrawn) == "es"
    assert session.query(Response).filter_by(participant_id=person.id).count() == 0
    assert session.query(PageVisit).filter_by(participant_id=person.id).count() == 0
    row = session.get(Participant, person.id)
    day = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    assert (row.status, row.step, row.withdrawn_at, row.started_at) == (
        "withdrawn",
        "withdrawn",
        day,
        day,
    )
    assert (row.panel_hash, row.panel_study_hash, row.panel_session_hash) == (None, None, None)
    assert (row.stratum, row.source, row.duration_seconds) == (None, None, None)
    assert (row.consented_at, row.assigned_at, row.completed_at) == (None, None, None)
    assert row.language == example_spec.default_language
    assert not (row.attention_failed or row.speeder or row.honeypot)
    # What the counts per arm and the randomization audit need stays.
    assert row.arm is not None
    # Their slot stays in the log, which names nobody and holds no time (s010).
    (slot,) = session.query(AssignmentLog).all()
    assert slot.arm == row.arm and not hasattr(slot, "participant_id")
    assert submit_step(
        session, person.code, "post", valid_answers(example_spec, "post"), now=NOW
    ).stale


def test_unknown_code_raises_participant_not_found(session, live):
    with pytest.raises(ParticipantNotFound):
        current_page(session, "not-a-code", now=NOW)
    with pytest.raises(ParticipantNotFound):
        submit_step(session, "not-a-code", "consent", {"consent": "yes"}, now=NOW)


def test_study_without_pre_items_assigns_at_consent_and_skips_pre(session):
    data = study_data()
    post_items = []
    for item in data["items"]:
        if "post" in (item["phase"] if isinstance(item["phase"], list) else [item["phase"]]):
            post_items.append({**item, "phase": "post"})
    spec = make_study(
        items=post_items,
        scales=[],
        design={"scheme": "complete", "seed": 11},
        analysis={"primary": ["support"], "secondary": ["join_sms"]},
    )
    publish(session, spec)
    assert steps_for(spec) == ["consent", "message", "post", "intent", "debrief"]
    code, result = _link(session, {"consent": "yes"})
    assert result.step == "message"
    assert participant_by_code(session, code).stratum == "all"


def test_preview_page_renders_a_step_without_a_database(example_spec):
    page = preview_page(example_spec, "message", language="ar", arm="care")
    assert page.participant is None and page.frame == example_spec.arm("care").frame
    assert preview_page(example_spec, "pre", language="en").items[0].id == "ideology"
    with pytest.raises(ValueError, match="step: 'thanks' is not a step"):
        preview_page(example_spec, "thanks", language="en")


def test_a_paused_study_turns_every_panel_id_away_alike_and_its_participants_finish(
    session, example_spec, live
):
    from framelab.services.study_versions import StudyClosed, set_status

    first = _start(session, panel=PROLIFIC)
    _walk(session, example_spec, first.code, "post")
    set_status(session, "torture-ban", "paused", now=NOW)
    # A panel id that took part is told the same as one that did not (DECISIONS rule 5):
    # the participant resumes with their own cookie or code, never with the id.
    for panel in (dict(PROLIFIC), {"PROLIFIC_PID": "a-new-person"}):
        with pytest.raises(StudyClosed, match="torture-ban: the study is paused"):
            _start(session, panel=panel)
    assert submit_step(session, first.code, "post", valid_answers(example_spec, "post"), now=NOW).ok


def test_simultaneous_double_submit_applies_once(factory, example_spec):
    import threading

    with factory() as session:
        publish(session, example_spec)
        person = _start(session)
        _walk(session, example_spec, person.code, "pre")
    form = valid_answers(example_spec, "pre")
    results = []
    barrier = threading.Barrier(2)

    def submit() -> None:
        with factory() as own:
            barrier.wait()
            results.append(submit_step(own, person.code, "pre", form, now=NOW))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((r.ok, r.stale, r.step) for r in results) == [
        (False, True, "message"),
        (True, False, "message"),
    ]
    with factory() as session:
        assert session.query(AssignmentLog).count() == 1


def test_the_completion_that_reaches_target_n_closes_the_study_and_in_flight_people_finish(
    session,
):
    from framelab.services.study_versions import StudyClosed, get_study

    spec = make_study(target_n=2)
    publish(session, spec)
    first, second, late = (_start(session) for _ in range(3))
    _walk(session, spec, late.code, "post")  # in flight when the target is reached
    _walk(session, spec, first.code, "debrief")
    assert get_study(session, "torture-ban").status == "live"
    assert open_study_link(session, "torture-ban").status == "live"
    _walk(session, spec, second.code, "debrief")
    assert get_study(session, "torture-ban").status == "closed"
    with pytest.raises(StudyClosed, match="torture-ban: the study is closed"):
        open_study_link(session, "torture-ban")
    with pytest.raises(StudyClosed):
        _start(session)
    # Someone who started before the target was reached may still finish.
    assert _walk(session, spec, late.code, "debrief")[0].step == "debrief"


def test_pilot_completions_do_not_count_towards_target_n(session):
    from framelab.services.study_versions import get_study

    spec = make_study(target_n=1)
    publish(session, spec, status="pilot")
    _walk(session, spec, _start(session).code, "debrief")
    assert get_study(session, "torture-ban").status == "pilot"


def test_on_sqlite_an_invalid_page_is_answered_without_queueing_for_the_write_lock(
    factory, example_spec, database_url
):
    import sqlite3
    import threading

    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer lock is what this is about")
    with factory() as session:
        publish(session, example_spec)
        person = _start(session)
        _walk(session, example_spec, person.code, "pre")
    # Another program holds SQLite's write lock (a long export, a backup, ...).
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    results = []

    def submit() -> None:
        with factory() as own:
            results.append(submit_step(own, person.code, "pre", {"ideology": "99"}, now=NOW))

    worker = threading.Thread(target=submit)
    try:
        worker.start()
        worker.join(5)  # a writer would wait up to the 30 s busy timeout
        assert not worker.is_alive() and results[0].errors and not results[0].ok
    finally:
        other.execute("ROLLBACK")
        other.close()
        worker.join(35)
