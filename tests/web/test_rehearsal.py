"""Rehearsal rows (DECISIONS rule 4): simulated participants never touch real data.

Bots of `framelab simulate` carry a rehearsal token (an HMAC under the instance's secret
key) and become rehearsal rows; a live study's target, dashboard, exports and report
stay as if no bot had come, and `framelab report --rehearsal` analyses the bots alone,
stamped REHEARSAL. A participant cannot forge the mark.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from click import ClickException
from click.testing import CliRunner

from analysis.report import render_html
from framelab.cli import main
from framelab.commands.survey import _server_rehearsal_token
from framelab.db.models import Participant
from framelab.db.session import make_engine, make_session_factory
from framelab.services.dashboard import dashboard
from framelab.services.export import export_long, export_tidy
from framelab.services.export_files import csv_bytes
from framelab.services.flow import current_page, submit_step
from framelab.services.rehearsal import HEADER, check_rehearsal_token, rehearsal_token
from framelab.services.reporting import report_inputs
from framelab.services.study_lifecycle import close_if_target_reached
from framelab.services.study_versions import get_study
from framelab.simulate import run_simulation, simulation_start
from framelab.testing.forms import csrf_token, form_action
from tests.factories import make_study, valid_answers
from tests.participants import enrol
from tests.web.conftest import make_app
from tests.web.walker import Walker

TARGET = 10
N = 20  # bots: twice the target, so a bot that counted would close the study
SPEC = make_study(target_n=TARGET)
BANNER = "REHEARSAL — simulated participants, not real data"
WSGI_HEADER = "HTTP_" + HEADER.upper().replace("-", "_")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A live study with a target of 10 after 20 bots went through it (and nobody else)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('rehearsal') / 'sim.sqlite'}"
    make_app(url, studies=(SPEC,)).extensions["framelab.engine"].dispose()
    config = {"TESTING": True, "DATABASE_URL": url}
    summary = run_simulation(
        SPEC, N, effects={"care": 1.0}, seed=3, app_config=config, dropout=0, attention_fail=0
    )
    assert summary.completed == N
    return url


def _session(url: str):
    engine = make_engine(url)
    return engine, make_session_factory(engine)()


def test_bots_do_not_reach_the_target_nor_appear_on_the_dashboard(simulated):
    engine, session = _session(simulated)
    try:
        assert close_if_target_reached(session, SPEC.slug, now=datetime.now(UTC)) is False
        loaded = get_study(session, SPEC.slug)
        assert loaded.status == "live"
        figures = dashboard(session, loaded)
        assert (figures.total.started, figures.total.completed) == (0, 0)
        assert sum(arm.started for arm in figures.arms) == 0
        assert figures.sources == ()
        assert (figures.rehearsal_started, figures.rehearsal_completed) == (N, N)
        assert not figures.results_visible
        marks = session.scalars(sa.select(Participant.rehearsal)).all()
        assert marks == [True] * N
    finally:
        session.close()
        engine.dispose()


def test_exports_hold_real_rows_only_and_a_rehearsal_export_marks_every_bot(simulated):
    engine, session = _session(simulated)
    try:
        assert export_tidy(session, SPEC.slug).empty
        assert export_long(session, SPEC.slug).empty
        tidy = export_tidy(session, SPEC.slug, rehearsal=True)
        long = export_long(session, SPEC.slug, rehearsal=True)
        real = report_inputs(session, SPEC.slug, now=NOW)
        rehearsal = report_inputs(session, SPEC.slug, rehearsal=True, now=NOW)
    finally:
        session.close()
        engine.dispose()
    assert len(tidy) == N and tidy["rehearsal"].tolist() == [True] * N
    columns = list(tidy.columns)
    assert columns[columns.index("pilot") + 1] == "rehearsal"
    assert len(long) > N and long["rehearsal"].all()
    header, first = csv_bytes(tidy, SPEC).decode().splitlines()[:2]
    assert first.split(",")[header.split(",").index("rehearsal")] == "1"
    # Simulated clocks start after the lock: the bots count as started after it.
    assert tidy["after_lock"].all()
    assert real.data.empty and "rehearsal" not in real.provenance
    assert len(rehearsal.data) == N and rehearsal.provenance["rehearsal"] is True


def test_real_report_refuses_and_the_rehearsal_report_is_stamped(simulated, tmp_path):
    runner = CliRunner()
    real = runner.invoke(
        main,
        ["report", SPEC.slug, "--out", str(tmp_path / "real"), "--database-url", simulated],
    )
    assert real.exit_code != 0
    assert "no participants to analyse yet" in real.output
    assert not (tmp_path / "real").exists()
    out = tmp_path / "rehearsal"
    args = ["report", SPEC.slug, "--rehearsal", "--out", str(out), "--database-url", simulated]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    html = (out / "index.html").read_text(encoding="utf-8")
    assert f"<title>{BANNER} · " in html
    body = html.split("<body>", 1)[1]
    assert body.index(BANNER) < body.index("<h1>")  # at the top, above the title
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["meta"]["provenance"]["rehearsal"] is True
    assert results["meta"]["n_input"] == N
    spanish = render_html(results, lang="es")
    assert "ENSAYO (REHEARSAL) — participantes simulados, no son datos reales" in spanish
    # A real report of the same results carries no stamp.
    results["meta"]["provenance"].pop("rehearsal")
    assert "REHEARSAL" not in render_html(results)


def test_a_rehearsal_report_without_bots_says_how_to_make_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    make_app(url, studies=(SPEC,)).extensions["framelab.engine"].dispose()
    args = ["report", SPEC.slug, "--rehearsal", "--out", str(tmp_path / "r"), "--database-url"]
    result = CliRunner().invoke(main, [*args, url])
    assert result.exit_code != 0
    assert "no simulated participants to analyse (run `framelab simulate` first" in result.output
    assert "--include-pilot" in result.output


def test_the_export_command_writes_real_rows_and_with_rehearsal_the_bots_marked(
    simulated, tmp_path
):
    runner = CliRunner()
    base = ["export", SPEC.slug, "--database-url", simulated, "--out"]
    real = runner.invoke(main, [*base, str(tmp_path / "real.csv")])
    assert real.exit_code == 0 and "wrote 0 rows" in real.output
    result = runner.invoke(main, [*base, str(tmp_path / "bots.csv"), "--rehearsal"])
    assert result.exit_code == 0, result.output
    assert f"wrote {N} rows of simulated participants (rehearsal)" in result.output
    header, *rows = (tmp_path / "bots.csv").read_text(encoding="utf-8").splitlines()
    column = header.split(",").index("rehearsal")
    assert len(rows) == N and {row.split(",")[column] for row in rows} == {"1"}


def test_a_simulation_changes_nothing_in_the_real_participants_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'mixed.sqlite'}"
    make_app(url, studies=(SPEC,)).extensions["framelab.engine"].dispose()
    engine, session = _session(url)
    try:
        t = datetime.now(UTC)
        for _ in range(3):
            code = enrol(session, SPEC.slug, language="en", source="sms", panel=None, now=t).code
            while (step := current_page(session, code, now=t).step) != "debrief":
                t += timedelta(seconds=30)
                assert submit_step(session, code, step, valid_answers(SPEC, step), now=t).ok
        before = export_tidy(session, SPEC.slug)
        figures_before = dashboard(session, get_study(session, SPEC.slug))
        config = {"TESTING": True, "DATABASE_URL": url}
        run_simulation(SPEC, 4, effects={}, seed=1, app_config=config, dropout=0)
        after = export_tidy(session, SPEC.slug)
        figures_after = dashboard(session, get_study(session, SPEC.slug))
        bots = export_tidy(session, SPEC.slug, rehearsal=True)
    finally:
        session.close()
        engine.dispose()
    assert len(before) == 3 and not before["rehearsal"].any()
    assert after.equals(before)
    assert figures_after.total == figures_before.total
    assert figures_after.arms == figures_before.arms
    # three real people: counted by source only from a full batch (min_cell_size) on
    assert figures_after.sources == figures_before.sources == ()
    assert figures_after.sources_pending == figures_before.sources_pending == 3
    assert len(bots) == 4 and not set(bots["participant"]) & set(before["participant"])


def test_simulate_against_a_server_signs_with_the_servers_key(tmp_path, monkeypatch):
    monkeypatch.delenv("FRAMELAB_SECRET_KEY", raising=False)
    monkeypatch.setenv("FRAMELAB_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ClickException, match="FRAMELAB_SECRET_KEY"):
        _server_rehearsal_token(SPEC.slug)
    (tmp_path / "secret_key").write_text("the-instance-key\n", encoding="utf-8")
    token = _server_rehearsal_token(SPEC.slug)
    assert check_rehearsal_token("the-instance-key", SPEC.slug, token, now=datetime.now(UTC))
    monkeypatch.setenv("FRAMELAB_SECRET_KEY", "from-the-environment")
    token = _server_rehearsal_token(SPEC.slug)
    assert check_rehearsal_token("from-the-environment", SPEC.slug, token, now=datetime.now(UTC))
    with pytest.raises(ValueError, match="rehearsal_token"):
        run_simulation(SPEC, 1, effects={}, url="http://127.0.0.1:9")


@pytest.fixture
def app(tmp_path, clock):
    application = make_app(f"sqlite:///{tmp_path / 'web.sqlite'}", clock=clock)
    yield application
    application.extensions["framelab.engine"].dispose()


def _marks(app) -> list[bool]:
    with app.extensions["framelab.db"]() as session:
        return session.scalars(sa.select(Participant.rehearsal).order_by(Participant.id)).all()


def _consent(
    client, slug: str, *, headers: dict[str, str] | None = None, query: str = "", **extra: str
):
    """Open the study link, then post consent (with `headers` on the post only)."""
    page = client.get(f"/s/{slug}{query}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "step": "consent", "consent": "yes", **extra}
    for name, value in (headers or {}).items():
        client.environ_base["HTTP_" + name.upper().replace("-", "_")] = value
    return client.post(form_action(page), data=data)


def test_a_participant_cannot_mark_themselves_as_rehearsal(app, clock):
    spec = make_study()
    secret = app.config["SECRET_KEY"]
    real_now = datetime.now(UTC)
    # Parameters anyone can add to a link or a form are ignored.
    Walker(app.test_client(), spec, clock).consent(query="?rehearsal=1&src=sms")
    response = _consent(app.test_client(), spec.slug, rehearsal="1", rehearsal_token="1")
    assert response.status_code == 302
    assert _marks(app) == [False, False]
    # A header with anything but a valid token for this study, now, is refused outright.
    forged = (
        "1",
        "rehearsal",
        rehearsal_token("not-the-instance-key", spec.slug, now=real_now),
        rehearsal_token(secret, "another-study", now=real_now),
        rehearsal_token(secret, spec.slug, now=real_now - timedelta(days=2)),
        rehearsal_token(secret, spec.slug, now=real_now) + "0",
    )
    for token in forged:
        client = app.test_client()
        response = _consent(client, spec.slug, headers={HEADER: token})
        assert response.status_code == 403, token
        panel = _consent(
            app.test_client(), spec.slug, headers={HEADER: token}, query="?PROLIFIC_PID=abc123"
        )
        assert panel.status_code == 403, token
    assert _marks(app) == [False, False]
    # The simulator's token marks the participant, on the plain and the panel link.
    valid = {HEADER: rehearsal_token(secret, spec.slug, now=real_now)}
    assert _consent(app.test_client(), spec.slug, headers=valid).status_code == 302
    client = app.test_client()
    client.environ_base[WSGI_HEADER] = valid[HEADER]
    Walker(client, spec, clock).consent(query="?PROLIFIC_PID=sim0001&src=prolific")
    assert _marks(app) == [False, False, True, True]


def test_rehearsal_tokens_are_bound_to_key_study_and_time():
    token = rehearsal_token("key", "study", now=NOW)
    assert check_rehearsal_token("key", "study", token, now=NOW + timedelta(hours=23))
    assert not check_rehearsal_token("key", "study", token, now=NOW + timedelta(hours=25))
    assert not check_rehearsal_token("other", "study", token, now=NOW)
    assert not check_rehearsal_token("key", "other", token, now=NOW)
    assert not check_rehearsal_token("key", "study", "ü" * 70, now=NOW)
    assert not check_rehearsal_token("", "study", token, now=NOW)
    with pytest.raises(ValueError, match="secret"):
        rehearsal_token("", "study", now=NOW)


def test_simulated_clock_starts_after_the_lock_even_when_that_was_just_now():
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert simulation_start(10, now) == now - timedelta(seconds=3600)
    locked = now - timedelta(minutes=5)
    assert simulation_start(10, now, after=locked) == locked + timedelta(seconds=1)
    long_ago = now - timedelta(days=30)
    assert simulation_start(10, now, after=long_ago) == now - timedelta(seconds=3600)
