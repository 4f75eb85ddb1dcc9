"""Statements of docs/privacy.md that no other test checked (tests/security/test_privacy_doc.py
maps every statement of the page to the test that proves it)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from limits import parse_many

from framelab.cli import main
from framelab.config import (
    DEFAULT_CODE_GUESS_LIMIT,
    DEFAULT_ENROL_LIMIT,
    DEFAULT_LOGIN_LIMIT,
)
from framelab.db import models as m
from framelab.services.export import export_id
from framelab.testing.forms import csrf_token, form_action
from tests.factories import make_study, publish, session_for
from tests.security.conftest import table_rows
from tests.security.test_privacy_exports_logs import T0, _count, _walk
from tests.web.conftest import make_app
from tests.web.walker import Walker

SPEC = make_study()
PANEL_QUERY = "?PROLIFIC_PID=5f0a1b2c3d4e5f6a7b8c9d0e&STUDY_ID=st-1&SESSION_ID=se-1"


def test_a_dump_holds_each_pages_exact_times(app, clock):
    """ "What a database dump reveals": the exact time each page was shown and submitted."""
    clock.advance(0.123457)  # a moment off the second, as real clocks are
    walker = Walker(app.test_client(), SPEC, clock)
    walker.consent()
    shown = clock()
    walker.answer("pre")
    visits = table_rows(app)["page_visit"]
    times = {value for row in visits for value in row if isinstance(value, datetime)}
    assert shown in times and shown.microsecond != 0


def test_opening_a_panel_link_enrols_nobody_so_a_link_preview_spends_nothing(app, clock):
    for _ in range(3):  # a chat app's preview, the person's own click, a reload
        assert app.test_client().get(f"/s/{SPEC.slug}{PANEL_QUERY}").status_code == 200
    assert table_rows(app)["participant"] == []
    Walker(app.test_client(), SPEC, clock).consent(query=PANEL_QUERY)
    assert len(table_rows(app)["participant"]) == 1


def test_the_participant_cookie_lasts_until_the_browser_closes(app, clock):
    walker = Walker(app.test_client(), SPEC, clock)
    walker.consent()
    resumed = app.test_client().get(f"/r/{walker.code}")
    (cookie,) = [c for c in resumed.headers.getlist("Set-Cookie") if c.startswith("p=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/p" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie  # a session cookie


def test_participant_pages_load_nothing_from_other_hosts(app, clock):
    """ "No third-party scripts, fonts or trackers": every resource a page loads is the
    server's own (/static/...), and the policy lets the browser load nothing else."""
    walker = Walker(app.test_client(), SPEC, clock)
    pages = [walker.open_link()]
    walker.consent()
    for step in ("pre", "message", "post", "intent"):
        pages.append(walker.page())
        walker.answer(step)
    pages.append(walker.page())
    for response in pages:
        html = response.get_data(as_text=True)
        loaded = re.findall(
            r"<(?:script|img|iframe|source|link)\b[^>]*(?:src|href)=\"([^\"]+)\"", html
        )
        assert loaded and all(url.startswith("/static/") for url in loaded), loaded
        assert "@import" not in html and "url(http" not in html
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert not re.search(r"https?://", policy), policy


def test_rate_limit_counts_last_at_most_an_hour_by_default():
    """Limits count under a keyed hash of the address, for the limit's window only."""
    windows = [
        item.get_expiry()
        for limit in (DEFAULT_LOGIN_LIMIT, DEFAULT_ENROL_LIMIT, DEFAULT_CODE_GUESS_LIMIT)
        for item in parse_many(limit)
    ]
    assert windows and max(windows) == 3600


def test_a_key_file_that_is_not_the_databases_is_logged_with_the_reason(tmp_path, clock, caplog):
    key_file = tmp_path / "instance" / "pseudonym_key"
    app = make_app(
        f"sqlite:///{tmp_path / 'k.sqlite'}", clock=clock, PSEUDONYM_KEY_FILE=str(key_file)
    )
    try:
        Walker(app.test_client(), SPEC, clock).consent(query=PANEL_QUERY)
        key_file.unlink()
        app.extensions.pop("framelab.pseudonym_key", None)
        caplog.set_level(logging.ERROR)
        walker = Walker(app.test_client(), SPEC, clock)
        page = walker.open_link(PANEL_QUERY.replace("5f0a", "6a1b")).get_data(as_text=True)
        refused = walker.client.post(
            form_action(page),
            data={"csrf_token": csrf_token(page), "step": "consent", "consent": "yes"},
        )
        assert refused.status_code == 503
        assert any("the pseudonym key cannot be used" in r.getMessage() for r in caplog.records)
    finally:
        app.extensions["framelab.engine"].dispose()


def test_export_ids_are_keyed_by_the_study_so_they_differ_between_studies(tmp_path):
    url = f"sqlite:///{tmp_path / 'ids.sqlite'}"
    with session_for(url) as session:
        for slug in ("first-study", "second-study"):
            publish(session, make_study(slug=slug), now=T0)
        salts = session.scalars(sa.select(m.Study.salt)).all()
    assert len(set(salts)) == 2
    code = "Hk3x9-same-code-in-both"
    assert export_id(salts[0], code) != export_id(salts[1], code)
    assert code not in export_id(salts[0], code)


def test_purge_expired_dry_run_lists_what_it_would_erase_and_erases_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'dry.sqlite'}"
    short = make_study(slug="short-study", privacy={"retention_days": 30})
    with session_for(url) as session:
        from framelab.services.study_versions import set_status

        publish(session, short, now=T0)
        _walk(session, short, start=T0 + timedelta(hours=1))
        set_status(session, short.slug, "closed", now=T0 + timedelta(days=1))
    when = (T0 + timedelta(days=40)).isoformat()
    dry = CliRunner().invoke(
        main, ["purge-expired", "--dry-run", "--now", when, "--database-url", url]
    )
    assert dry.exit_code == 0, dry.output
    assert "short-study: retention of 30 days has run out (dry run)" in dry.output
    assert _count(url, "participant") == 1


def test_a_changed_export_file_is_reported_and_kept_and_an_unchanged_one_deleted(tmp_path):
    from framelab.services.erasure import RecordedExport, delete_recorded_file, export_record

    kept, deleted = tmp_path / "edited.csv", tmp_path / "as-written.csv"
    for path in (kept, deleted):
        path.write_text("participant,arm\np_1,care\n")
    records = []
    for path in (kept, deleted):
        match = re.match(
            r"^wrote (.+) \((.*)\) sha256=([0-9a-f]{64})$", export_record(path, "tidy")
        )
        records.append(RecordedExport(Path(match[1]), match[2], match[3]))
    kept.write_text("participant,arm\np_1,care\nmy own notes\n")
    assert delete_recorded_file(records[0]) == "changed since it was written: kept"
    assert delete_recorded_file(records[1]) == "deleted"
    assert kept.exists() and not deleted.exists()


def test_erase_study_lists_the_downloads_made_from_the_studio(tmp_path):
    from framelab.services import audit

    url = f"sqlite:///{tmp_path / 'downloads.sqlite'}"
    with session_for(url) as session:
        publish(session, SPEC, now=T0)
        study_id = session.scalar(sa.select(m.Study.id))
        with audit.acting_as(audit.Actor(None, "owner@example.org")):
            audit.record(session, study_id, "exported", now=T0, detail="tidy.csv (studio)")
        session.commit()
    erased = CliRunner().invoke(
        main, ["erase-study", SPEC.slug, "--confirm", SPEC.slug, "--database-url", url]
    )
    assert erased.exit_code == 0, erased.output
    assert "downloaded from the studio" in erased.output
    assert "owner@example.org: tidy.csv (studio)" in erased.output


def test_every_csv_line_ends_in_crlf_so_a_carriage_return_stays_in_its_cell(tmp_path):
    import pandas as pd

    from framelab.services.export_files import csv_bytes

    frame = pd.DataFrame({"participant": ["p_1", "p_2"], "post_comment": ["a\rb", "plain"]})
    data = csv_bytes(frame, SPEC)
    assert data.count(b"\r\n") == 3 and data.endswith(b"\r\n")
    assert b'"a\rb"' in data  # the lone carriage return is inside its quoted cell


def test_participant_data_has_no_column_for_a_name_contact_address_or_device():
    """ "No names, e-mail addresses or phone numbers" (and no address or user agent):
    no table about participants has a column for one."""
    from framelab.db import full_metadata

    about_people = [
        t for t in full_metadata().sorted_tables
        if t.name == "participant" or "participant_id" in t.columns
    ]  # fmt: skip
    assert {"participant", "response", "page_visit"} <= {t.name for t in about_people}
    forbidden = re.compile(r"name|mail|phone|contact|address|\bip\b|ip_|agent|referr")
    for table in about_people:
        assert not [c.name for c in table.columns if forbidden.search(c.name)], table.name


def test_the_pseudonym_key_file_is_made_on_first_use_with_32_random_bytes_mode_0600(tmp_path):
    import stat

    from framelab.services.pseudonyms import load_key, load_or_create_key

    path = tmp_path / "instance" / "pseudonym_key"
    made = load_or_create_key(path)
    other = load_or_create_key(tmp_path / "elsewhere" / "pseudonym_key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [len(k) for k in made.chain] == [32] and made.chain != other.chain
    assert load_key(path).chain == made.chain  # the same key on the next start
