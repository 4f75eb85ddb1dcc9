"""CLI: init-db, load-study (good and bad files), export in every format."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from framelab.cli import main
from framelab.db.migrate import head_revision
from framelab.db.session import make_engine, make_session_factory
from framelab.services.codebook import codebook
from framelab.services.flow import current_page, submit_step
from tests.factories import make_study, valid_answers
from tests.participants import enrol

ROOT = Path(__file__).resolve().parents[2]
BAD = sorted((ROOT / "examples" / "bad").glob("*.yaml"))
EXAMPLE = ROOT / "examples" / "torture-ban.yaml"
NOW = pd.Timestamp("2026-11-25T20:00:00Z").to_pydatetime()


def _expected(path: Path) -> str:
    match = re.search(r"^# expect: (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} has no '# expect:' line"
    return match.group(1).strip()


@pytest.fixture
def cli(database_url):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, [*args, "--database-url", database_url], catch_exceptions=False)

    return run


def test_init_db_migrates_to_head_and_is_harmless_twice(cli, database_url):
    first = cli("init-db")
    assert first.exit_code == 0, first.output
    assert f"at revision {head_revision()}" in first.output
    second = cli("init-db")
    assert second.exit_code == 0 and f"at revision {head_revision()}" in second.output
    engine = make_engine(database_url)
    assert {"study", "participant", "assignment_log"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_init_db_uses_framelab_database_url_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "env.sqlite"
    monkeypatch.setenv("FRAMELAB_DATABASE_URL", f"sqlite:///{path}")
    result = CliRunner().invoke(main, ["init-db"], catch_exceptions=False)
    assert result.exit_code == 0 and path.exists()


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_load_study_prints_the_placed_error_of_each_bad_study(path, tmp_path):
    assert BAD, "examples/bad/ is empty"
    result = CliRunner().invoke(
        main, ["load-study", str(path), "--database-url", f"sqlite:///{tmp_path / 'x.sqlite'}"]
    )
    assert result.exit_code != 0
    assert _expected(path) in result.stderr.splitlines()
    assert "the study was not loaded" in result.stderr


def test_load_study_then_export_every_format_with_labels(cli, database_url, tmp_path):
    assert cli("init-db").exit_code == 0
    loaded = cli("load-study", str(EXAMPLE), "--status", "live")
    assert loaded.exit_code == 0, loaded.output
    spec = make_study()
    assert f"torture-ban: version 1, status live, spec_hash {spec.content_hash()}" in loaded.output
    again = cli("load-study", str(EXAMPLE), "--status", "live", "--replace")
    assert "version 1" in again.output  # unchanged file: no new version

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        for n in range(3):
            person = enrol(session, "torture-ban", language="fr", source=None, panel=None, now=NOW)
            t = NOW
            while (page := current_page(session, person.code, now=t)).step != "debrief":
                t += timedelta(seconds=30)
                form = valid_answers(spec, page.step, support=str(n + 2))
                submit_step(session, person.code, page.step, form, now=t)
    engine.dispose()

    book = {c["name"]: c for c in codebook(spec)["columns"]}
    outputs = {}
    for fmt in ("csv", "parquet", "sav", "dta", "long-csv", "codebook-json", "codebook-md"):
        out = tmp_path / f"export.{fmt}"
        result = cli("export", "torture-ban", "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert out.exists() and out.stat().st_size > 0
        outputs[fmt] = out
    said = cli("export", "torture-ban", "--out", str(tmp_path / "a.csv")).output
    assert "wrote 3 rows" in said
    assert "INTERIM: torture-ban has not reached its planned sample" in said  # rule 3

    csv = pd.read_csv(outputs["csv"])
    assert sorted(csv["post_support"].tolist()) == [2.0, 3.0, 4.0]
    assert list(csv.columns) == list(book)
    parquet = pd.read_parquet(outputs["parquet"])
    assert sorted(parquet["post_support"].tolist()) == [2.0, 3.0, 4.0]
    for fmt, reader in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        data, meta = reader(str(outputs[fmt]))
        assert sorted(data["post_support"].tolist()) == [2.0, 3.0, 4.0]
        label = meta.column_names_to_labels["pre_ideology"]
        if fmt == "sav":
            assert label == book["pre_ideology"]["label"]
        else:  # Stata: at most 80 bytes, cut at a word and marked
            assert len(label.encode()) <= 80 and label.endswith("...")
            assert book["pre_ideology"]["label"].startswith(label.removesuffix("..."))
        labels = {int(k): v for k, v in meta.variable_value_labels["post_support"].items()}
        assert labels == {int(k): v for k, v in book["post_support"]["value_labels"].items()}
    long = pd.read_csv(outputs["long-csv"])
    assert set(long["phase"]) == {"pre", "post"} and len(long) > 3 * 10


def test_load_study_refuses_a_changed_file_without_replace(cli, tmp_path):
    cli("init-db")
    assert cli("load-study", str(EXAMPLE)).exit_code == 0
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("target_n: 2000", "target_n: 1800"),
        encoding="utf-8",
    )
    refused = cli("load-study", str(changed))
    assert refused.exit_code != 0 and "use --replace" in refused.output
    replaced = cli("load-study", str(changed), "--replace")
    assert replaced.exit_code == 0 and "version 2" in replaced.output


def test_export_of_an_unknown_study_fails_with_its_name(cli, tmp_path):
    cli("init-db")
    result = cli("export", "no-such-study", "--out", str(tmp_path / "x.csv"))
    assert result.exit_code != 0 and "no study with slug 'no-such-study'" in result.output
