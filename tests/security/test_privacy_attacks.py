"""Issue 15's attacks on participants, tried as an attacker would, and shown to fail.

- The panel-id oracle: a stranger who knows someone's Prolific id opens the study link
  with it, on an open and on a closed study. Whether the id took part changes nothing:
  not the status, the redirect, the page (apart from the CSRF token and the cookie) nor
  the number of database statements run, on any page to the end. A panel id never
  resumes a participant nor withdraws one (DECISIONS rule 5).
- A database dump plus a known panel id: without the pseudonym key file no
  construction from the dump (salted hash, bare hash, the secret key) matches a stored
  pseudonym; with the key it does, so the test would catch an unkeyed scheme.
- A repeat panel id is a flagged duplicate, assigned outside the block sequences: the
  assignment log still replays from the seed, and duplicates count towards nothing.
- Withdrawal leaves no panel hash, no stratum and no exact time behind: a dump of every
  table ties no stratum and no exact time to the participant (the assignment log names
  nobody and holds no time); what the log still gives is counted per stratum, for all
  who withdrew together.
- A shared phone: no participant address names the study or the code, finishing or
  withdrawing asks the browser to forget the site, every page can be left at once.
- Rotating the pseudonym key keeps returning ids recognised and survives a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import stat
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import event

from framelab.cli import main as cli
from framelab.db import full_metadata
from framelab.db.direct import Direct
from framelab.db.models import (
    AssignmentLog,
    BlockState,
    DuplicateAssignment,
    Participant,
    Study,
)
from framelab.domain.assignment import arm_sequence, simple_draw
from framelab.services import pseudonyms
from framelab.services.dashboard import dashboard
from framelab.services.export import export_tidy
from framelab.services.participant_store.assignment import DUPLICATE_SEQUENCE
from framelab.services.study_versions import get_study, set_status
from framelab.testing.checks import check_database
from framelab.testing.forms import csrf_token, form_action, page_step
from tests.factories import make_study, valid_answers
from tests.participants import export_id_for
from tests.security.conftest import dump_database
from tests.web.conftest import make_app
from tests.web.walker import Walker

SPEC = make_study()  # blocked by the ideology answer: three strata
KNOWN_ID = "5f0a1b2c3d4e5f6a7b8c9d0e"  # the victim's Prolific id, which the attacker has
OTHER_ID = "60b1c2d3e4f5a6b7c8d9e0f1"
STEPS = ("pre", "message", "post", "intent")


@pytest.fixture
def key_file(tmp_path) -> Path:
    return tmp_path / "instance" / "pseudonym_key"


@pytest.fixture
def panel_app(database_url, clock, key_file) -> Iterator[Flask]:
    """The example study live, with a pseudonym key file of its own (made on first use)."""
    app = make_app(database_url, clock=clock, PSEUDONYM_KEY_FILE=str(key_file))
    yield app
    app.extensions["framelab.engine"].dispose()


def _session_id(panel_id: str) -> str:
    return f"se-{panel_id[:6]}"


def _query(panel_id: str) -> str:
    return f"?PROLIFIC_PID={panel_id}&STUDY_ID=st-1&SESSION_ID={_session_id(panel_id)}"


# ---------------------------------------------------------------- counting statements


class Statements:
    """Every statement the app sends to the database while recording.

    SQLAlchemy's `before_cursor_execute` sees what goes through a Connection or Session;
    the participant hot path runs on the driver's cursor (framelab.db.direct), so its
    statements are counted where they are sent. On SQLite the driver's own trace
    callback counts everything besides (BEGIN and COMMIT included).
    """

    def __init__(self, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
        self.engine = app.extensions["framelab.engine"]
        self.sql: list[str] = []
        self.traced = 0
        self.recording = False
        event.listen(self.engine, "before_cursor_execute", self._sqlalchemy)
        run = Direct._run

        def counted(direct, statement, params, columns=None):
            if self.recording:
                self.sql.append(statement.compiled(direct.dialect, columns).sql)
            return run(direct, statement, params, columns)

        monkeypatch.setattr(Direct, "_run", counted)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.pool, "checkout", self._trace_on)
            event.listen(self.engine.pool, "checkin", self._trace_off)

    def _sqlalchemy(self, _conn, _cursor, statement, *_args) -> None:
        if self.recording:
            self.sql.append(statement)

    def _trace(self, _statement: str) -> None:
        if self.recording:
            self.traced += 1

    def _trace_on(self, dbapi, *_args) -> None:
        dbapi.set_trace_callback(self._trace)

    def _trace_off(self, dbapi, *_args) -> None:
        if dbapi is not None:
            dbapi.set_trace_callback(None)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._sqlalchemy)
        if self.engine.dialect.name == "sqlite":
            event.remove(self.engine.pool, "checkout", self._trace_on)
            event.remove(self.engine.pool, "checkin", self._trace_off)

    def during(self, request):
        """(the response, the number of statements, the SQLite trace count) of one request."""
        self.sql, self.traced, self.recording = [], 0, True
        try:
            response = request()
        finally:
            self.recording = False
        return response, len(self.sql), self.traced


@pytest.fixture
def statements(panel_app, monkeypatch) -> Iterator[Statements]:
    counter = Statements(panel_app, monkeypatch)
    yield counter
    counter.close()


_TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')
_CODE_FIELD = re.compile(r'name="code" value="[^"]*"')
_SHOWN_CODE = re.compile(r'<p class="code participant-code"[^>]*>[^<]*</p>')


def _visible(response, *secrets: str) -> tuple:
    """What a response shows an attacker, without the CSRF token, the cookie's value and
    the participant's own code (and with the panel ids asked about blanked)."""
    body = response.get_data(as_text=True)
    body = _SHOWN_CODE.sub("CODE", _CODE_FIELD.sub("CODE", _TOKEN.sub("TOKEN", body)))
    for secret in secrets:
        body = body.replace(secret, "ID")
    headers = sorted(
        (name, re.sub(r"^([^=]+)=[^;]*", r"\1=VALUE", value) if name == "Set-Cookie" else value)
        for name, value in response.headers.items()
        if name not in ("Date", "Content-Length")
    )
    return response.status_code, response.headers.get("Location"), headers, body


def _walk_observed(app, clock, statements, panel_id) -> list[tuple]:
    """A fresh browser that only knows `panel_id` takes the study: what each request showed.

    Each entry is (request, status, Location, statement count, SQLite trace count, step
    shown, visible response). The message page's frame depends on the arm drawn, which
    is random and no secret, so its body is left out of what must be identical.
    """
    client = app.test_client()
    walker = Walker(client, SPEC, clock)
    seen = []

    def record(name, request, compare_body=True):
        response, count, traced = statements.during(request)
        visible = _visible(response, panel_id, _session_id(panel_id))
        seen.append((name, *visible[:2], count, traced, page_step(response.get_data(True)),
                     visible if compare_body else visible[:3]))  # fmt: skip
        return response

    link = record("link", lambda: client.get(f"/s/{SPEC.slug}{_query(panel_id)}"))
    walker.last = link.get_data(as_text=True)
    form = {"csrf_token": csrf_token(walker.last), "step": "consent", "consent": "yes"}
    record("consent", lambda: client.post(form_action(walker.last), data=form))
    walker.url = "/p"
    for step in STEPS:
        walker.last = record(f"{step} page", walker.page, step != "message").get_data(True)
        clock.advance(20)
        chosen = {"ideology": "4"} if step == "pre" else {}
        answers = valid_answers(SPEC, step, **chosen) if step != "message" else {}
        record(f"{step} answers", lambda a=answers, s=step: walker.post(s, a))
    record("debrief", walker.page)
    return seen


def _warm_up(app, clock) -> None:
    # The first panel arrival of a process checks the key file against the database and
    # reads each version's spec once: process-wide work, done here for both walks alike.
    Walker(app.test_client(), SPEC, clock).complete()
    warm = Walker(app.test_client(), SPEC, clock)
    warm.consent(query=_query("warm-up-id-0000000000"))
    for step in STEPS:
        warm.answer(step, **({"ideology": "4"} if step == "pre" else {}))


def test_a_known_panel_id_tells_nothing_on_an_open_study(panel_app, clock, statements):
    _warm_up(panel_app, clock)
    before = _walk_observed(panel_app, clock, statements, KNOWN_ID)  # the id's first visit
    after = _walk_observed(panel_app, clock, statements, KNOWN_ID)  # it has taken part now
    assert [s[:6] for s in before] == [s[:6] for s in after]
    assert [s[6] for s in before] == [s[6] for s in after]
    # A never-seen id at the same moment is answered like the id that took part.
    never = _walk_observed(panel_app, clock, statements, OTHER_ID)
    assert [s[:6] for s in never] == [s[:6] for s in after]
    assert [s[6] for s in never] == [s[6] for s in after]
    # Every request did touch the database, and the walks went to the end.
    assert all(s[3] > 0 for s in before[1:]) and before[-1][5] is None
    assert "Thank you, your answers are saved" in before[-1][6][3]
    # The second walk is a participant of its own, flagged, never the first one resumed.
    with panel_app.extensions["framelab.db"]() as session:
        people = session.execute(
            sa.select(Participant.duplicate, Participant.status).order_by(Participant.id)
        ).all()
    assert people[-3:] == [(False, "completed"), (True, "completed"), (False, "completed")]


def test_a_known_panel_id_tells_nothing_on_a_closed_study(panel_app, clock, statements):
    _warm_up(panel_app, clock)
    took_part = Walker(panel_app.test_client(), SPEC, clock)
    took_part.consent(query=_query(KNOWN_ID))
    took_part.answer("pre", ideology="2")  # half-way when the study pauses
    # Both strangers opened the link while it was open and send their consent late.
    strangers = {}
    for panel_id in (KNOWN_ID, OTHER_ID):
        client = panel_app.test_client()
        page = client.get(f"/s/{SPEC.slug}{_query(panel_id)}").get_data(as_text=True)
        strangers[panel_id] = (client, page)
    with panel_app.extensions["framelab.db"]() as session:
        set_status(session, SPEC.slug, "paused", now=clock())
    seen = {}
    for panel_id, (client, page) in strangers.items():
        fresh = panel_app.test_client()
        link, link_count, link_traced = statements.during(
            lambda c=fresh, p=panel_id: c.get(f"/s/{SPEC.slug}{_query(p)}")
        )
        form = {"csrf_token": csrf_token(page), "step": "consent", "consent": "yes"}
        late, late_count, late_traced = statements.during(
            lambda c=client, p=page, f=form: c.post(form_action(p), data=f)
        )
        seen[panel_id] = (
            _visible(link, panel_id, _session_id(panel_id)),
            link_count,
            link_traced,
            _visible(late, panel_id, _session_id(panel_id)),
            late_count,
            late_traced,
        )
    assert seen[KNOWN_ID] == seen[OTHER_ID]
    assert seen[KNOWN_ID][0][0] == 400 and "This study is not open" in seen[KNOWN_ID][0][3]
    # The participant who took part is not turned away: their own cookie leads on.
    assert page_step(took_part.page().get_data(as_text=True)) == "message"


def test_a_panel_id_neither_resumes_nor_withdraws_anyone(panel_app, clock):
    victim = Walker(panel_app.test_client(), SPEC, clock)
    victim.consent(query=_query(KNOWN_ID))
    victim.answer("pre")
    attacker = panel_app.test_client()
    # The id is no participant code: not at the resume link, the resume form, or withdrawal.
    assert attacker.get(f"/r/{KNOWN_ID}").status_code == 404
    typed = attacker.post("/r", data={"code": KNOWN_ID})
    assert typed.status_code == 400 and attacker.get_cookie("p", path="/p") is None
    form = attacker.get("/withdraw").get_data(as_text=True)
    refused = attacker.post("/withdraw", data={"csrf_token": csrf_token(form), "code": KNOWN_ID})
    assert refused.status_code == 400 and b"no participation with this code" in refused.data
    # Withdrawing from the participant's own address needs the participant's code too.
    page = attacker.get("/p").get_data(as_text=True)
    assert "Continue the study" in page and page_step(page) is None
    blind = attacker.post("/p/withdraw", data={"confirm": "yes", "csrf_token": "x"})
    assert blind.status_code == 400
    with panel_app.extensions["framelab.db"]() as session:
        row = session.scalars(sa.select(Participant).where(Participant.code == victim.code)).one()
    assert (row.status, row.step) == ("assigned", "message")


# ---------------------------------------------------------------- a dump plus a known id


def test_a_database_dump_confirms_no_panel_id_without_the_key_file(panel_app, clock, key_file):
    for panel_id in (KNOWN_ID, OTHER_ID):
        walker = Walker(panel_app.test_client(), SPEC, clock)
        walker.consent(query=_query(panel_id))
        walker.answer("pre")
    dump = dump_database(panel_app)
    with panel_app.extensions["framelab.db"]() as session:
        salts = list(session.scalars(sa.select(Study.salt)))
        stored = set(session.scalars(sa.select(Participant.panel_hash)))
    assert KNOWN_ID not in dump and len(stored - {None}) == 2
    secret = panel_app.config["SECRET_KEY"].encode()
    dictionary = [KNOWN_ID, OTHER_ID, "someone-who-never-came", "st-1"]
    for panel_id in dictionary:
        guesses = {hashlib.sha256(panel_id.encode()).hexdigest()}
        for salt in salts:
            inner = hashlib.sha256(f"{salt}:{panel_id}".encode()).hexdigest()
            guesses |= {
                inner,
                hmac.new(salt.encode(), panel_id.encode(), hashlib.sha256).hexdigest(),
                hmac.new(secret, inner.encode(), hashlib.sha256).hexdigest(),
                hmac.new(secret, panel_id.encode(), hashlib.sha256).hexdigest(),
            }
        assert not any(guess in dump for guess in guesses), panel_id
    # With the key file the same dictionary finds them: the key is what protects them.
    key = pseudonyms.load_key(key_file)
    found = {p for p in dictionary for s in salts if key.pseudonym(s, p) in stored}
    assert found == {KNOWN_ID, OTHER_ID}
    # The key file is the instance's own: mode 0600, in no table, not the secret key.
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key.chain[0].hex() not in dump and key.chain[0] not in (secret, secret[:32])


# ---------------------------------------------------------------- duplicates


def test_a_repeat_panel_id_is_a_duplicate_outside_the_block_sequence_and_the_log_replays(
    panel_app, clock, database_url
):
    spec = SPEC
    ideology = {"a1": "1", "a2": "4", "a3": "3", "a4": "2", "a5": "5", "a6": "4"}
    firsts = []
    for panel_id, answer in ideology.items():
        walker = Walker(panel_app.test_client(), spec, clock)
        walker.consent(query=_query(f"{panel_id}-0000000000"))
        walker.answer("pre", ideology=answer)
        firsts.append(walker.code)
    # The same people come back from other browsers (and one a third time), with other
    # answers; newcomers keep arriving in between.
    repeats = []
    for panel_id, answer in [*ideology.items(), ("a1", "5")]:
        walker = Walker(panel_app.test_client(), spec, clock)
        walker.consent(query=_query(f"{panel_id}-0000000000"))
        walker.answer("pre", ideology=str(6 - int(answer)))
        repeats.append(walker.code)
        newcomer = Walker(panel_app.test_client(), spec, clock)
        newcomer.consent()
        newcomer.answer("pre", ideology=answer)
    with panel_app.extensions["framelab.db"]() as session:
        figures = dashboard(session, get_study(session, spec.slug))
    with panel_app.extensions["framelab.db"]() as session:
        people = {p.code: p for p in session.scalars(sa.select(Participant))}
        log = session.scalars(sa.select(AssignmentLog).order_by(AssignmentLog.id)).all()
        counters = {b.stratum: b.next_position for b in session.scalars(sa.select(BlockState))}
        outside = session.scalars(
            sa.select(DuplicateAssignment).order_by(DuplicateAssignment.position)
        ).all()
    assert all(people[c].duplicate and people[c].panel_hash is None for c in repeats)
    assert not any(people[c].duplicate for c in firsts)
    assert all(people[c].arm is not None for c in repeats)  # they took the study like anyone
    # The block sequences hold exactly the non-duplicates, in arrival order per stratum,
    # and replay from the seed.
    duplicate_ids = {people[c].id for c in repeats}
    # The log names nobody (s010): per stratum and arm it holds exactly the non-duplicates.
    assert Counter((row.stratum, row.arm) for row in log) == Counter(
        (p.stratum, p.arm) for p in people.values() if not p.duplicate
    )
    by_stratum = defaultdict(list)
    for row in log:
        by_stratum[row.stratum].append(row)
    for stratum, rows in by_stratum.items():
        assert [r.position for r in rows] == list(range(len(rows)))
        assert [r.arm for r in rows] == arm_sequence(spec, stratum, len(rows))
        assert counters[stratum] == len(rows)
    assert len(log) == len(people) - len(repeats)
    # The duplicates' own sequence: positions 0.., each a weighted draw for its position.
    assert [d.position for d in outside] == list(range(len(repeats)))
    assert {d.participant_id for d in outside} == duplicate_ids
    for d in outside:
        assert d.arm == simple_draw(spec, spec.design.seed, DUPLICATE_SEQUENCE, d.position)
    assert check_database(database_url, spec.slug, []).problems() == []
    # Excluded from the analysis data: the export (and so the report) holds no duplicate.
    with panel_app.extensions["framelab.db"]() as session:
        exported = set(export_tidy(session, spec.slug)["participant"])
        ids = {code: export_id_for(session, code) for code in people}
    assert exported == {ids[c] for c in people if c not in repeats}
    # Counted on the dashboard apart, and in none of the real figures.
    assert figures.duplicates_started == len(repeats)
    assert figures.total.started == len(people) - len(repeats)


def test_duplicates_never_reach_the_target(database_url, clock, key_file):
    spec = make_study(target_n=3)
    app = make_app(database_url, clock=clock, studies=(spec,), PSEUDONYM_KEY_FILE=str(key_file))
    try:
        Walker(app.test_client(), spec, clock).complete()  # a real completion
        for _ in range(4):  # one panel id: real the first time, then a duplicate three times
            walker = Walker(app.test_client(), spec, clock)
            walker.consent(query=_query(KNOWN_ID))
            for step in STEPS:
                walker.answer(step)
        with app.extensions["framelab.db"]() as session:
            assert get_study(session, spec.slug).status == "live"  # 2 of 3 real ones
        Walker(app.test_client(), spec, clock).complete()  # the third real one closes it
        with app.extensions["framelab.db"]() as session:
            assert get_study(session, spec.slug).status == "closed"
    finally:
        app.extensions["framelab.engine"].dispose()


# ---------------------------------------------------------------- withdrawal


def test_withdrawal_leaves_no_panel_hash_no_stratum_and_no_exact_time(panel_app, clock, key_file):
    walker = Walker(panel_app.test_client(), SPEC, clock)
    walker.consent(query=_query(KNOWN_ID))
    for step in STEPS:
        clock.advance(37)
        walker.answer(step, **({"ideology": "5"} if step == "pre" else {}))
    code = walker.code
    key = pseudonyms.load_key(key_file)
    with panel_app.extensions["framelab.db"]() as session:
        salt = session.scalar(sa.select(Study.salt))
        before = session.scalars(sa.select(Participant).where(Participant.code == code)).one()
        assert (before.stratum, before.panel_hash) == ("right", key.pseudonym(salt, KNOWN_ID))
    later = panel_app.test_client()
    form = later.get("/withdraw").get_data(as_text=True)
    clock.advance(3 * 3600 + 17)
    done = later.post("/withdraw", data={"csrf_token": csrf_token(form), "code": code})
    assert done.status_code == 200 and done.headers["Clear-Site-Data"]
    dump = dump_database(panel_app)
    for value in (KNOWN_ID, "st-1", "se-5f0a1b"):
        assert key.pseudonym(salt, value) not in dump, value
    with panel_app.extensions["framelab.db"]() as session:
        row = session.scalars(sa.select(Participant).where(Participant.code == code)).one()
        logged = session.scalars(sa.select(AssignmentLog)).one()
    assert (row.panel_hash, row.panel_study_hash, row.panel_session_hash) == (None,) * 3
    assert (row.stratum, row.source, row.duration_seconds) == (None, None, None)
    assert (row.consented_at, row.assigned_at, row.completed_at) == (None, None, None)
    for moment in (row.started_at, row.withdrawn_at):
        assert (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)
    # What the counts per arm and the randomization audit need stays: the slot, in a log
    # that names nobody.
    assert row.status == "withdrawn" and row.arm == logged.arm and logged.stratum == "right"
    assert not {"participant_id", "assigned_at"} & set(AssignmentLog.__table__.columns.keys())
    # Nothing is left to tell the id again: it comes back as a newcomer, not a duplicate.
    again = Walker(panel_app.test_client(), SPEC, clock)
    again.consent(query=_query(KNOWN_ID))
    with panel_app.extensions["framelab.db"]() as session:
        newest = session.scalars(sa.select(Participant).where(Participant.code == again.code))
        assert newest.one().duplicate is False


def _dump_with_columns(app: Flask) -> dict[str, list[dict]]:
    """Every row of every table, as column -> value (what a stolen database file holds)."""
    engine = app.extensions["framelab.engine"]
    with engine.connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in conn.execute(sa.select(table))]
            for table in full_metadata().sorted_tables
        }


def _moments(app: Flask, pid: int) -> set:
    """Every time stored about participant `pid` (their row and every row naming them)."""
    found = set()
    for name, rows in _dump_with_columns(app).items():
        for row in rows:
            if (name == "participant" and row["id"] == pid) or row.get("participant_id") == pid:
                found |= {v for v in row.values() if isinstance(v, datetime)}
    return found


def test_after_withdrawal_a_dump_of_every_table_gives_no_stratum_and_no_exact_time(
    panel_app, clock
):
    """Gap left by the first round: the log kept participant_id and assigned_at (a join
    gave the erased stratum and time back). Each person's steps are seconds apart with
    their own microseconds, so a time stored anywhere would be theirs alone. Two of them
    withdraw: one from the block sequences, and a duplicate (the first panel id again),
    whose own draw stays in `duplicate_assignment`."""
    people = []
    for n, ideology in enumerate(("1", "3", "5", "5", "1")):
        clock.advance(3 * 3600 + n * 611 + 0.000137 * (n + 1))
        walker = Walker(panel_app.test_client(), SPEC, clock)
        walker.consent(query=_query(f"{n % 4:024x}"))  # the fifth repeats the first id
        for step in STEPS:
            clock.advance(41 + n)
            walker.answer(step, **({"ideology": ideology} if step == "pre" else {}))
        people.append(walker.code)
    leaving = {people[2]: "right", people[4]: "left"}  # a real one and the duplicate
    with panel_app.extensions["framelab.db"]() as session:
        rows = session.scalars(sa.select(Participant).where(Participant.code.in_(leaving)))
        found = {p.code: (p.id, p.arm, p.stratum, p.duplicate) for p in rows}
    assert [found[c][2] for c in leaving] == list(leaving.values())
    assert [found[c][3] for c in leaving] == [False, True]
    exact = {c: _moments(panel_app, found[c][0]) for c in leaving}
    assert all(len(moments) >= 5 for moments in exact.values())  # consent, pages, completion
    for code in leaving:
        later = panel_app.test_client()
        form = later.get("/withdraw").get_data(as_text=True)
        clock.advance(5 * 3600 + 23.000911)
        exact[code].add(clock())  # the moment of the withdrawal itself
        done = later.post("/withdraw", data={"csrf_token": csrf_token(form), "code": code})
        assert done.status_code == 200

    dump = _dump_with_columns(panel_app)
    stored = {v for rows in dump.values() for row in rows for v in row.values()}
    for code, (pid, arm, _, duplicate) in found.items():
        # 1. No exact time of theirs is stored anywhere, in any table, under any name.
        assert not exact[code] & stored
        left = _moments(panel_app, pid)
        assert all((t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0) for t in left)
        # 2. No row that names them holds a stratum: their own row lost it, and nothing
        # else references them but a duplicate's own draw (arm, place among duplicates).
        (mine,) = [r for r in dump["participant"] if r["id"] == pid]
        assert mine["stratum"] is None and mine["arm"] == arm
        naming = {n: rs for n, rs in dump.items() for r in rs if r.get("participant_id") == pid}
        assert set(naming) == ({"duplicate_assignment"} if duplicate else set())
        for name in naming:
            assert "stratum" not in dump[name][0]
        # 3. The assignment log cannot be joined to them: no participant column, no time,
        # and no pointer from their row (a pointer cleared on withdrawal would single out
        # the one slot nobody points to).
        assert not any("assignment" in column or "log" in column for column in mine)
    log_columns = set(AssignmentLog.__table__.columns.keys())
    assert not {"participant_id", "assigned_at", "created_at"} & log_columns
    assert not any(isinstance(v, datetime) for r in dump["assignment_log"] for v in r.values())
    assert not any(
        isinstance(v, datetime) for r in dump["duplicate_assignment"] for v in r.values()
    )
    # What remains (docs/privacy.md): the log's counts per stratum, less the strata of
    # those who stayed (duplicates are outside the log), give the strata of all who
    # withdrew from the block sequences, together; with one, theirs (of a row that names
    # nobody and keeps only days).
    logged = Counter(r["stratum"] for r in dump["assignment_log"])
    stayed = Counter(
        r["stratum"] for r in dump["participant"] if r["stratum"] and not r["duplicate"]
    )
    assert logged - stayed == Counter({"right": 1}) and stayed - logged == Counter()
    # And order: row ids follow arrival, and those who stayed keep exact times, so the
    # real participant's arrival lies between their neighbours' (what the page warns of).
    pid = found[people[2]][0]
    before = max((r for r in dump["participant"] if r["id"] < pid), key=lambda r: r["id"])
    after = min((r for r in dump["participant"] if r["id"] > pid), key=lambda r: r["id"])
    assert before["started_at"] < min(exact[people[2]]) < after["started_at"]


# ---------------------------------------------------------------- a shared phone


def test_a_shared_phone_keeps_neither_the_study_nor_the_code_in_its_history(panel_app, clock):
    client = panel_app.test_client()
    walker = Walker(client, SPEC, clock)
    addresses, pages = [], {}
    consent = walker.open_link(_query(KNOWN_ID))
    pages["consent"] = consent.get_data(as_text=True)
    response = walker.consent(query=_query(KNOWN_ID))
    addresses.append(response.headers["Location"])
    code = walker.code
    for step in STEPS:
        pages[step] = walker.page().get_data(as_text=True)
        response = walker.answer(step)
        addresses.append(response.headers["Location"])
    debrief = walker.page()
    pages["debrief"] = debrief.get_data(as_text=True)
    for page in pages.values():
        addresses += re.findall(r'(?:action|href)="([^"]+)"', page)
    participant_addresses = [a for a in addresses if not a.startswith(("http", "/static"))]
    for address in participant_addresses:
        if address.startswith(f"/s/{SPEC.slug}?"):
            continue  # the consent form posts back to the study link it was opened at
        assert SPEC.slug not in address and code not in address, address
    assert set(addresses[:5]) == {"/p"}
    # Set-Cookie: the code travels in a cookie only the participant pages get, no script.
    cookie = client.get_cookie("p", path="/p")
    assert cookie is None  # the debrief told the browser to forget it
    assert debrief.headers["Clear-Site-Data"] == '"cookies", "storage"'
    resumed = panel_app.test_client().get(f"/r/{code}")
    set_cookie = resumed.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/p" in set_cookie
    # Back on the phone after the debrief: the page no longer knows anyone.
    assert "Continue the study" in client.get("/p").get_data(as_text=True)
    # Declining consent also ends with the browser forgetting the site.
    refusing = Walker(panel_app.test_client(), SPEC, clock)
    refusing.consent("no")
    assert refusing.page().headers["Clear-Site-Data"]


def test_a_neutral_page_title_keeps_the_campaigns_name_off_the_phone(database_url, clock):
    neutral = {"en": "Survey", "es": "Encuesta", "fr": "Enquête", "ar": "استبيان"}
    spec = make_study(privacy={"page_title": neutral})
    app = make_app(database_url, clock=clock, studies=(spec,))
    try:
        client = app.test_client()
        walker = Walker(client, spec, clock)
        pages = {"consent": walker.open_link("?lang=es").get_data(as_text=True)}
        walker.consent(query="?lang=es")
        for step in STEPS:
            pages[step] = walker.page().get_data(as_text=True)
            walker.answer(step)
        pages["debrief"] = walker.page().get_data(as_text=True)
        form = {"code": walker.code, "csrf_token": csrf_token(pages["debrief"])}
        pages["withdraw"] = client.post("/p/withdraw", data=form).get_data(as_text=True)
        for where, html in pages.items():
            title = re.search(r"<title>([^<]*)</title>", html).group(1)
            # The withdrawal question is the page's whole title; every other names the study.
            assert title.endswith("Encuesta") or where == "withdraw", (where, title)
            assert '<p class="brand">Encuesta</p>' in html, where
            for lang in spec.languages:  # the campaign's name in no language, anywhere
                assert spec.text(spec.title, lang) not in html, (where, lang)
    finally:
        app.extensions["framelab.engine"].dispose()


def test_every_participant_page_has_a_quick_exit_that_replaces_the_history_entry(panel_app, clock):
    client = panel_app.test_client()
    walker = Walker(client, SPEC, clock)
    seen = {"consent": walker.open_link().get_data(as_text=True)}
    walker.consent()
    for step in STEPS:
        seen[step] = walker.page().get_data(as_text=True)
        walker.answer(step)
    seen["debrief"] = walker.page().get_data(as_text=True)
    form = {"code": walker.code, "csrf_token": csrf_token(seen["debrief"])}
    seen["withdraw confirmation"] = client.post("/p/withdraw", data=form).get_data(True)
    seen["withdrawn"] = client.post("/p/withdraw", data={**form, "confirm": "yes"}).get_data(True)
    other = panel_app.test_client()
    seen["resume"] = other.get("/p").get_data(as_text=True)
    seen["withdraw later"] = other.get("/withdraw").get_data(as_text=True)
    seen["unknown participant"] = other.get("/r/not-a-code-of-anyone").get_data(as_text=True)
    seen["expired form"] = other.post("/p", data={"code": walker.code}).get_data(as_text=True)
    seen["unknown study"] = other.get("/s/no-such-study").get_data(as_text=True)
    exit_link = (
        '<a class="button danger" href="https://www.wikipedia.org/" rel="noreferrer" data-exit>'
    )
    for where, html in seen.items():
        assert exit_link in html and "Leave this page" in html, where
    with other.get("/static/framelab.js") as response:
        script = response.get_data(as_text=True)
    assert "a[data-exit]" in script and "location.replace(a.href)" in script
    # The studio is no participant page: no quick exit there.
    assert "data-exit" not in other.get("/studio/login").get_data(as_text=True)


# ---------------------------------------------------------------- rotating the key


def test_rotating_the_pseudonym_key_keeps_returning_ids_recognised(
    panel_app, clock, key_file, database_url, monkeypatch
):
    first = Walker(panel_app.test_client(), SPEC, clock)
    first.consent(query=_query(KNOWN_ID))
    old = pseudonyms.load_key(key_file)
    engine = panel_app.extensions["framelab.engine"]
    env = {"FRAMELAB_DATABASE_URL": database_url, pseudonyms.KEY_FILE_ENV: str(key_file)}
    result = CliRunner().invoke(cli, ["rotate-pseudonym-key", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-keyed 3 in participant" in result.output
    new = pseudonyms.load_key(key_file)
    assert new.chain[:1] == old.chain and len(new.chain) == 2
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with engine.connect() as conn:
        salt = conn.scalar(sa.select(Study.salt))
        stored = conn.scalar(sa.select(Participant.panel_hash))
    assert stored == new.pseudonym(salt, KNOWN_ID) != old.pseudonym(salt, KNOWN_ID)
    # The running app notices the new key file; the id comes back as a duplicate.
    again = Walker(panel_app.test_client(), SPEC, clock)
    again.consent(query=_query(KNOWN_ID))
    with engine.connect() as conn:
        flags = conn.execute(sa.select(Participant.duplicate).order_by(Participant.id)).all()
    assert flags == [(False,), (True,)]
    # A rotation cut short after the database was re-keyed is finished by running again.
    monkeypatch.setattr(pseudonyms, "_replace", _crash)
    crashed = CliRunner().invoke(cli, ["rotate-pseudonym-key", "--yes"], env=env)
    assert crashed.exit_code != 0 and len(pseudonyms.load_key(key_file).chain) == 2
    monkeypatch.undo()
    finished = CliRunner().invoke(cli, ["rotate-pseudonym-key", "--yes"], env=env)
    assert "finished an interrupted rotation" in finished.output, finished.output
    final = pseudonyms.load_key(key_file)
    assert len(final.chain) == 3
    pseudonyms.verify_database(engine, final, now=clock())
    with engine.connect() as conn:
        hashes = set(conn.scalars(sa.select(Participant.panel_hash)))
    assert hashes == {final.pseudonym(salt, KNOWN_ID), None}
    # A key file that is not this database's is refused, never silently adopted.
    key_file.write_text(key_file.read_text().splitlines()[-1][:-2] + "00\n")
    with pytest.raises(pseudonyms.PseudonymKeyError, match="does not belong"):
        pseudonyms.verify_database(engine, pseudonyms.load_key(key_file), now=clock())


def _crash(*_args, **_kwargs):
    raise OSError("power cut between the database commit and the key file")


def test_the_app_refuses_panel_links_with_a_key_file_that_is_not_the_databases(
    panel_app, clock, key_file
):
    Walker(panel_app.test_client(), SPEC, clock).consent(query=_query(KNOWN_ID))
    key_file.unlink()  # lost in a move: a new key would make every returning id look new
    panel_app.extensions.pop("framelab.pseudonym_key", None)
    response = Walker(panel_app.test_client(), SPEC, clock)
    page = response.open_link(_query(OTHER_ID)).get_data(as_text=True)
    client = response.client
    refused = client.post(
        form_action(page),
        data={"csrf_token": csrf_token(page), "step": "consent", "consent": "yes"},
    )
    assert refused.status_code == 503 and "This study is not open" in refused.get_data(True)
    # Plain links still work: only recognising panel ids needs the key.
    Walker(panel_app.test_client(), SPEC, clock).consent()
