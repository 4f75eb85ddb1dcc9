"""write_report: the files beside the HTML (strict JSON, effects CSV, optional PDF)."""

from __future__ import annotations

import csv
import json
import sys
import types

import pandas as pd
import pytest

from analysis.report import write_report
from tests.report.handmade import handmade_results


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    results = handmade_results()
    results["effects"][0]["statistic"] = float("nan")
    out = tmp_path_factory.mktemp("written")
    data = pd.DataFrame({"arm": ["control", "care"], "post_support": [3.0, 5.0]})
    return write_report(results, out, data=data), results


def test_returns_the_index_path_and_writes_the_companion_files(written):
    index, _ = written
    assert index.name == "index.html"
    assert sorted(p.name for p in index.parent.iterdir()) == [
        "data.csv", "effects.csv", "index.html", "results.json"
    ]  # fmt: skip


def test_results_json_is_strict_json_with_nan_written_as_null(written):
    index, results = written
    text = (index.parent / "results.json").read_text(encoding="utf-8")
    assert "NaN" not in text
    loaded = json.loads(text)
    assert loaded["effects"][0]["statistic"] is None
    assert loaded["effects"][1] == results["effects"][1]
    assert loaded["meta"]["plan_hash"] == results["meta"]["plan_hash"]


def test_effects_csv_has_one_row_per_effect_with_blanks_for_missing_values(written):
    index, results = written
    with (index.parent / "effects.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(results["effects"])
    assert float(rows[1]["estimate"]) == results["effects"][1]["estimate"]
    missing = next(r for r in rows if r["outcome"] == "post_join_sms" and r["arm"] == "loyalty")
    assert missing["estimate"] == "" and missing["p_value"] == ""


def test_data_csv_round_trips_the_analysed_table(written):
    index, _ = written
    back = pd.read_csv(index.parent / "data.csv")
    assert back["post_support"].tolist() == [3.0, 5.0]


def test_pdf_is_written_only_when_weasyprint_can_be_imported(tmp_path, monkeypatch):
    without = write_report(handmade_results(), tmp_path / "plain")
    assert not (without.parent / "report.pdf").exists()

    rendered: list[str] = []

    class FakeHTML:
        def __init__(self, string):
            rendered.append(string)

        def write_pdf(self, target):
            with open(target, "wb") as fh:
                fh.write(b"%PDF-1.7 fake")

    monkeypatch.setitem(sys.modules, "weasyprint", types.SimpleNamespace(HTML=FakeHTML))
    with_pdf = write_report(handmade_results(), tmp_path / "pdf")
    assert (with_pdf.parent / "report.pdf").read_bytes().startswith(b"%PDF")
    assert rendered == [with_pdf.read_text(encoding="utf-8")]
