"""The screener and quotas on the participant hot path: turned away before assignment (issue 21)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from framelab.db.models import AssignmentLog, BlockState, Participant, Response
from framelab.db.quotas import QuotaFill
from framelab.services.flow import current_page, submit_step
from tests.factories import publish, small_study, valid_answers
from tests.participants import enrol
from tests.services.conftest import NOW

SCREENER = {"items": ["ideology"], "screen_out": {"item": "ideology", "in": [3]}}
PANEL = {
    "name": "prolific",
    "outcomes": {
        "completed": {"code": "C1"},
        "screened_out": {
            "code": "C2",
            "redirect": "https://app.prolific.com/submissions/complete?cc=C2",
        },
        "over_quota": {"code": "C3"},
        "consent_refused": {"code": "C4"},
    },
}


def _spec(quota=None):
    return small_study(screener=SCREENER, panel=PANEL, quota=quota or {"ideology": {"right": 1000}})


def _walk(session, spec, code, *, ideology, until="debrief", **flags):
    """Submit every page from the current one until `until` or a terminal page."""
    t = NOW
    while True:
        page = current_page(session, code, now=t)
        if page.step == until or page.step in ("ineligible", "over_quota"):
            return page
        t += timedelta(seconds=30)
        form = valid_answers(
            spec, page.step, **({"ideology": ideology} if page.step in ("screener", "pre") else {})
        )
        form.update(flags)
        result = submit_step(session, code, page.step, form, now=t)
        assert result.ok, result.errors


def _count(session, model, **where):
    return session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def test_a_screened_out_participant_is_never_assigned_and_keeps_no_answer(session):
    spec = _spec()
    publish(session, spec)
    person = enrol(session, spec.slug, now=NOW)
    assert current_page(session, person.code, now=NOW).step == "screener"
    page = _walk(session, spec, person.code, ideology=3)
    assert (page.step, page.outcome, page.completion_code) == ("ineligible", "screened_out", "C2")
    assert page.redirect_url.endswith("cc=C2")
    row = session.get(Participant, person.id)
    session.refresh(row)
    assert (row.status, row.step, row.arm, row.stratum) == (
        "screened_out",
        "ineligible",
        None,
        None,
    )
    assert _count(session, AssignmentLog) == 0 and _count(session, BlockState) == 0
    assert _count(session, Response, participant_id=person.id) == 0
    # Nothing more is accepted from them.
    late = submit_step(session, person.code, "pre", valid_answers(spec, "pre"), now=NOW)
    assert late.stale and late.step == "ineligible"


def test_an_eligible_participant_goes_on_and_completes_with_the_completed_code(session):
    spec = _spec()
    publish(session, spec)
    person = enrol(session, spec.slug, now=NOW)
    page = _walk(session, spec, person.code, ideology=1)
    assert (page.step, page.outcome, page.completion_code) == ("debrief", "completed", "C1")
    assert _count(session, AssignmentLog) == 1


def test_a_full_quota_cell_turns_newcomers_away_and_others_go_on(session):
    spec = _spec(quota={"ideology": {"left": 2}})
    loaded = publish(session, spec)
    for _ in range(2):
        done = _walk(session, spec, enrol(session, spec.slug, now=NOW).code, ideology=1)
        assert done.step == "debrief"
    fill = session.scalars(sa.select(QuotaFill)).all()
    assert [(f.study_id, f.variable, f.cell, f.completed) for f in fill] == [
        (loaded.id, "ideology", "left", 2)
    ]
    logged = _count(session, AssignmentLog)
    late = enrol(session, spec.slug, now=NOW)
    page = _walk(session, spec, late.code, ideology=2)
    assert (page.step, page.outcome, page.completion_code) == ("over_quota", "over_quota", "C3")
    row = session.get(Participant, late.id)
    session.refresh(row)
    assert (row.status, row.arm) == ("screened_out", None)
    assert _count(session, AssignmentLog) == logged
    assert _count(session, Response, participant_id=late.id) == 0
    # Another cell (right) still takes people.
    assert (
        _walk(session, spec, enrol(session, spec.slug, now=NOW).code, ideology=5).step == "debrief"
    )


def test_pilot_rehearsal_and_in_progress_participants_do_not_fill_a_cell(session):
    spec = _spec(quota={"ideology": {"left": 1}})
    publish(session, spec)
    bot = enrol(session, spec.slug, now=NOW, rehearsal=True)
    assert _walk(session, spec, bot.code, ideology=1).step == "debrief"
    first = enrol(session, spec.slug, now=NOW)
    second = enrol(session, spec.slug, now=NOW)
    # Both pass the quota while the cell has no completion; both may finish.
    assert _walk(session, spec, first.code, ideology=1, until="message").step == "message"
    assert _walk(session, spec, second.code, ideology=1, until="message").step == "message"
    assert _walk(session, spec, first.code, ideology=1).step == "debrief"
    assert _walk(session, spec, second.code, ideology=1).step == "debrief"
    assert session.scalar(sa.select(QuotaFill.completed)) == 2
    third = enrol(session, spec.slug, now=NOW)
    assert _walk(session, spec, third.code, ideology=2).step == "over_quota"


def test_a_quota_on_a_pre_item_is_checked_on_the_pre_page(session):
    spec = small_study(
        panel=PANEL | {"outcomes": {"over_quota": {"code": "C3"}}}, quota={"attn": {2: 1}}
    )
    publish(session, spec)
    assert (
        _walk(session, spec, enrol(session, spec.slug, now=NOW).code, ideology=1).step == "debrief"
    )
    late = enrol(session, spec.slug, now=NOW)
    page = _walk(session, spec, late.code, ideology=1)
    assert (page.step, page.completion_code) == ("over_quota", "C3")


def test_a_refused_consent_gets_its_panel_code(session):
    spec = _spec()
    publish(session, spec)
    from framelab.services.flow import consent_from_link

    code, result = consent_from_link(
        session, spec.slug, {"consent": "no"}, language="en", source=None, now=NOW
    )
    assert result.step == "screened_out"
    page = current_page(session, code, now=NOW)
    assert (page.outcome, page.completion_code) == ("consent_refused", "C4")


def _statements(monkeypatch) -> list[str]:
    """The SQL of every hot-path statement run from now on (framelab.db.direct)."""
    from framelab.db.direct import DirectStatement

    seen: list[str] = []
    compiled = DirectStatement.compiled

    def recording(self, dialect, columns=None):
        found = compiled(self, dialect, columns)
        seen.append(found.sql)
        return found

    monkeypatch.setattr(DirectStatement, "compiled", recording)
    return seen


def test_a_study_without_screener_or_quota_runs_no_statement_of_theirs(session, monkeypatch):
    plain = small_study()
    publish(session, plain)
    seen = _statements(monkeypatch)
    person = enrol(session, plain.slug, now=NOW)
    assert _walk(session, plain, person.code, ideology=1).step == "debrief"
    assert seen and not [sql for sql in seen if "quota_fill" in sql]
    # The same walk in a study with a quota reads and fills its cell.
    quoted = small_study(slug="quoted-study", quota={"ideology": {"left": 5}})
    publish(session, quoted)
    seen.clear()
    assert _walk(session, quoted, enrol(session, quoted.slug, now=NOW).code, ideology=1).step == (
        "debrief"
    )
    assert len([sql for sql in seen if "quota_fill" in sql]) == 2  # checked once, filled once


def test_the_dashboard_counts_those_turned_away_and_shows_each_cell(session):
    from framelab.services.dashboard import dashboard
    from framelab.services.flow import consent_from_link

    spec = _spec(quota={"ideology": {"left": 1, "right": 5}})
    loaded = publish(session, spec)
    _walk(session, spec, enrol(session, spec.slug, now=NOW).code, ideology=1)
    _walk(session, spec, enrol(session, spec.slug, now=NOW).code, ideology=2)  # over quota
    _walk(session, spec, enrol(session, spec.slug, now=NOW).code, ideology=3)  # screened out
    consent_from_link(session, spec.slug, {"consent": "no"}, language="en", source=None, now=NOW)
    bot = enrol(session, spec.slug, now=NOW, rehearsal=True)
    _walk(session, spec, bot.code, ideology=3)  # a rehearsal row: never counted here
    screening = dashboard(session, loaded).screening
    counts = (screening.consent_refused, screening.screened_out, screening.over_quota)
    assert counts == (1, 1, 1)
    cells = [(q.variable, q.cell, q.limit, q.completed.text, q.full) for q in screening.quotas]
    # One completion is below the minimum cell size (10): hidden, with the other cell.
    assert cells == [
        ("ideology", "left", 1, "hidden", True),
        ("ideology", "right", 5, "hidden", False),
    ]


def test_a_quota_check_waits_for_a_completion_in_flight_and_then_sees_it(factory, database_url):
    """The check takes the cell's row as a completion does (PostgreSQL: a row lock; SQLite:
    the one writer lock): a newcomer checked while the completion that fills the cell is
    still uncommitted waits for it and is then turned away, never let in on a stale count."""
    import threading

    spec = _spec(quota={"ideology": {"left": 1}})
    with factory() as session:
        loaded = publish(session, spec)
        late = enrol(session, spec.slug, now=NOW)
        # The late one's screener form is ready; the cell's row exists (checked once).
        assert (
            _walk(
                session, spec, enrol(session, spec.slug, now=NOW).code, ideology=1, until="message"
            ).step
            == "message"
        )
        late_code = late.code
    engine = factory.kw["bind"]
    holder = engine.connect()
    in_flight = holder.begin()
    # A completion in flight: the cell's count raised and not yet committed.
    holder.execute(
        sa.update(QuotaFill)
        .where(QuotaFill.study_id == loaded.id, QuotaFill.cell == "left")
        .values(completed=QuotaFill.completed + 1)
    )
    outcome: list[str] = []

    def newcomer() -> None:
        with factory() as session:
            form = valid_answers(spec, "screener", ideology="2")
            outcome.append(submit_step(session, late_code, "screener", form, now=NOW).step)

    thread = threading.Thread(target=newcomer)
    thread.start()
    thread.join(timeout=1.0)
    waited = thread.is_alive()
    in_flight.commit()
    holder.close()
    thread.join(timeout=30)
    assert waited, "the quota check did not wait for the completion in flight"
    assert outcome == ["over_quota"]
