"""A command that needs a key says which one, in one line; a report needs no text key.

Free-text answers stored under FRAMELAB_TEXT_KEY (framelab.crypto) can only be exported
with that key: without it `framelab export` stops with the variable's name instead of a
traceback. `framelab report` reads no free text, so it runs without the key, and the
data.csv it writes holds neither free text nor withdrawn participants.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from click.testing import CliRunner

from framelab.cli import main
from framelab.crypto import generate_text_key
from framelab.db.session import make_engine, make_session_factory
from framelab.services.flow import current_page, submit_step
from tests.factories import make_study, valid_answers
from tests.participants import enrol

NOW = pd.Timestamp("2026-11-25T20:00:00Z").to_pydatetime()
N = 15


@pytest.fixture
def encrypted(database_url, monkeypatch, tmp_path):
    """The example study, its target of N reached, with free-text answers encrypted."""
    spec = make_study(target_n=N)  # reached: the report is final, not interim
    study_file = tmp_path / "study.yaml"
    study_file.write_text(spec.to_yaml(), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["init-db", "--database-url", database_url]).exit_code == 0
    loaded = runner.invoke(
        main, ["load-study", str(study_file), "--status", "live", "--database-url", database_url]
    )
    assert loaded.exit_code == 0, loaded.output
    monkeypatch.setenv("FRAMELAB_TEXT_KEY", generate_text_key())
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        for n in range(N):
            person = enrol(session, "torture-ban", language="en", source=None, panel=None, now=NOW)
            t = NOW
            while (page := current_page(session, person.code, now=t)).step != "debrief":
                t += timedelta(seconds=30)
                form = valid_answers(spec, page.step, support=str(n % 5 + 1))
                submit_step(session, person.code, page.step, form, now=t)
    engine.dispose()
    monkeypatch.delenv("FRAMELAB_TEXT_KEY")
    return database_url


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_export_without_the_text_key_names_the_variable_not_a_traceback(encrypted, tmp_path):
    for fmt in ("csv", "long-csv"):
        result = _run(
            "export", "torture-ban", "--format", fmt, "--out", str(tmp_path / f"x.{fmt}"),
            "--database-url", encrypted,
        )  # fmt: skip
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and result.exception is not None
        assert isinstance(result.exception, SystemExit)
        assert "Error: FRAMELAB_TEXT_KEY: text answers in this database are encrypted" in (
            result.output
        )


def test_export_with_another_key_says_the_key_cannot_decrypt(encrypted, tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMELAB_TEXT_KEY", generate_text_key())
    result = _run(
        "export", "torture-ban", "--out", str(tmp_path / "x.csv"), "--database-url", encrypted
    )
    assert result.exit_code == 1
    assert "FRAMELAB_TEXT_KEY: this key cannot decrypt the stored text answers" in result.output


def test_report_needs_no_text_key_and_its_data_file_holds_no_free_text(encrypted, tmp_path):
    out = tmp_path / "report"
    result = _run("report", "torture-ban", "--out", str(out), "--database-url", encrypted)
    assert result.exit_code == 0, result.output
    data = pd.read_csv(out / "data.csv")
    spec = make_study()
    text_columns = {f"post_{i.id}" for i in spec.items_for("post") if i.type == "text"}
    assert text_columns, "the example study has a free-text question"
    assert not text_columns & set(data.columns)
    assert len(data) == N and "withdrawn" not in set(data["status"])
    assert "post_support" in data.columns and data["post_support"].notna().sum() == N


def test_a_weak_secret_key_or_a_bad_setting_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMELAB_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("FRAMELAB_DATABASE_URL", raising=False)
    assert _run("init-db").exit_code == 0
    monkeypatch.setenv("FRAMELAB_ENV", "production")
    monkeypatch.setenv("FRAMELAB_SECRET_KEY", "short")
    result = _run("serve", "--host", "127.0.0.1", "--port", "5998")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Error: framelab refuses to start in production: SECRET_KEY has 5 characters" in (
        result.output
    )
    monkeypatch.setenv("FRAMELAB_ENV", "staging")
    result = _run("serve", "--host", "127.0.0.1", "--port", "5998")
    assert result.exit_code == 1
    assert "Error: FRAMELAB_ENV: 'staging' is not an environment" in result.output


def test_other_errors_still_surface_as_they_are(monkeypatch):
    from framelab import cli

    assert not cli._setting_error(ValueError("not a setting"))
    assert not cli._setting_error(KeyError("FRAMELAB_ENV"))
    assert cli._setting_error(ValueError("FRAMELAB_ENV: 'x' is not an environment"))
