"""The "due for wave 2" lists: invited participants by their invitation link, panel
participants matched by keyed hash from an uploaded list (no raw id is stored)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from framelab.db.models import Participant
from framelab.db.waves import WaveLink
from framelab.services import accounts, recipient_lists
from framelab.services.pseudonyms import TESTING_KEY
from framelab.services.study_versions import get_study
from framelab.services.wave_due import due_counts, due_csv, due_invited, due_panel
from framelab.testing.forms import csrf_token, form_action
from tests.members import give_role
from tests.waves.helpers import DAY, complete, follow_up_path, wave_study
from tests.web.conftest import START, make_app
from tests.web.walker import Walker

SPEC = wave_study()
PANEL = "?PROLIFIC_PID={pid}&STUDY_ID=st1&SESSION_ID=se1"
OWNER = "owner@example.org"


@pytest.fixture
def due_app(tmp_path, clock):
    app = make_app(f"sqlite:///{tmp_path / 'due.sqlite'}", clock=clock, studies=(SPEC,))
    app.config["db_file"] = tmp_path / "due.sqlite"
    yield app
    app.extensions["framelab.engine"].dispose()


def _session(app):
    return app.extensions["framelab.db"]()


def _invite(app, *contacts: str) -> dict[str, str]:
    with _session(app) as session:
        upload = recipient_lists.upload_recipient_list(
            session,
            get_study(session, SPEC.slug).id,
            ("id\n" + "\n".join(contacts) + "\n").encode(),
            name="Members",
            column="",
            key=TESTING_KEY,
            link_for=lambda token: f"http://localhost/i/{token}",
            now=START,
        )
    rows = [line.split(",") for line in upload.csv.decode().splitlines()[1:]]
    return {contact: link.removeprefix("http://localhost") for contact, link in rows}


def _invited(app, link: str, clock) -> str:
    """A participant through an invitation link to the debrief; returns the debrief."""
    client = app.test_client()
    walker = Walker(client, SPEC, clock)
    page = client.get(link).get_data(as_text=True)
    response = client.post(
        form_action(page),
        data={"csrf_token": csrf_token(page), "step": "consent", "consent": "yes"},
    )
    walker.url = response.headers["Location"]
    for step in ("pre", "message", "post", "intent"):
        assert walker.answer(step).status_code == 302
    walker.page()
    return walker.last


def _tokens(app) -> dict[int, str]:
    with _session(app) as session:
        return dict(session.execute(sa.select(WaveLink.participant_id, WaveLink.token)).all())


def _answer_wave(app, path: str) -> None:
    client = app.test_client()
    page = client.get(path).get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "wave": "w2", "support": "5", "join_sms": "0"}
    assert "saved" in client.post(path, data=form).get_data(as_text=True)


def test_due_lists_once_the_window_opens(due_app, clock):
    # (Panel ids first: the first pseudonym the app stores records its key's check.)
    _, panel_a = complete(due_app.test_client(), SPEC, clock, PANEL.format(pid="pidAAA111"))
    _, panel_b = complete(due_app.test_client(), SPEC, clock, PANEL.format(pid="pidBBB222"))
    links = _invite(due_app, "member-1", "member-2")
    invited = _invited(due_app, links["member-1"], clock)
    complete(due_app.test_client(), SPEC, clock)  # open link, no panel id
    with _session(due_app) as session:
        assert due_counts(session, SPEC.slug, now=clock()) == {}
        assert due_panel(session, SPEC.slug, ["pidAAA111"], key=TESTING_KEY, now=clock()) == []
    clock.advance(7 * DAY + 60)
    _answer_wave(due_app, follow_up_path(panel_b))  # came back already: no longer due
    with _session(due_app) as session:
        assert due_counts(session, SPEC.slug, now=clock()) == {"w2": {"due": 3, "panel": 1}}
        uploaded = ["pidAAA111", "pidBBB222", "someone-else", " pidAAA111 "]
        matched = due_panel(session, SPEC.slug, uploaded, key=TESTING_KEY, now=clock())
        assert [(pid, d.window.wave.id) for pid, d in matched] == [("pidAAA111", "w2")]
        assert follow_up_path(panel_a).endswith(matched[0][1].token)
        (row,) = due_invited(session, SPEC.slug, key=TESTING_KEY, now=clock())
    token, due = row
    assert links["member-1"] == f"/i/{token}"
    assert follow_up_path(invited).endswith(due.token)
    # After the window nobody is due.
    clock.advance(7 * DAY)
    with _session(due_app) as session:
        assert due_counts(session, SPEC.slug, now=clock()) == {}
    # framelab stored no raw panel id and no contact id anywhere.
    raw = b"".join(
        Path(f"{due_app.config['db_file']}{end}").read_bytes()
        for end in ("", "-wal")
        if Path(f"{due_app.config['db_file']}{end}").exists()
    )
    for secret in (b"pidAAA111", b"pidBBB222", b"someone-else", b"member-1"):
        assert secret not in raw


def test_the_due_csv_neutralises_formulas_and_names_the_window(due_app, clock):
    complete(due_app.test_client(), SPEC, clock, PANEL.format(pid="pidCCC333"))
    clock.advance(7 * DAY + 60)
    with _session(due_app) as session:
        matched = due_panel(session, SPEC.slug, ["pidCCC333"], key=TESTING_KEY, now=clock())
    # An id a spreadsheet would run (the studio's upload refuses them; the CSV guards too).
    rows = [("=cmd|calc", due) for _, due in matched]
    text = due_csv(rows, "panel_id", lambda token: f"https://x.example/f/{token}").decode()
    header, line = text.splitlines()
    assert header == "panel_id,follow_up_link,wave,window_closes"
    assert line.startswith("'=cmd|calc,https://x.example/f/")
    assert line.endswith(",w2,2026-12-09")


def test_the_studio_page_gives_the_owner_the_panel_due_list(due_app, clock):
    from tests.studio.conftest import PASSWORD, sign_in

    with _session(due_app) as session:
        accounts.create_user(session, OWNER, PASSWORD, now=START)
        give_role(session, get_study(session, SPEC.slug).id, OWNER, "owner", now=START)
    complete(due_app.test_client(), SPEC, clock, PANEL.format(pid="pidAAA111"))
    clock.advance(7 * DAY + 60)
    client = due_app.test_client()
    sign_in(client, due_app, OWNER)
    page = client.get(f"/studio/{SPEC.slug}/follow-up")
    assert page.status_code == 200 and "Due now" in page.get_data(as_text=True)
    upload = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "column": "participant_id",
        "file": (io.BytesIO(b"participant_id\npidAAA111\nnobody123\n"), "ids.csv"),
    }
    response = client.post(f"/studio/{SPEC.slug}/follow-up/panel", data=upload)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("panel_id,follow_up_link") and len(lines) == 2
    assert lines[1].startswith("pidAAA111,http://localhost/f/")
    with _session(due_app) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 1
    anonymous = due_app.test_client().get(f"/studio/{SPEC.slug}/follow-up")
    assert anonymous.status_code in (302, 401, 403)
