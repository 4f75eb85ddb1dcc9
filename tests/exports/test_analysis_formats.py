"""`python -m analysis run` on every export format of one study gives the same results."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.data_files import read_data
from analysis.plan import load_plan
from framelab.services.export_plan import analysis_plan
from tests.factories import ROOT, make_study

SPEC = make_study()


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    path.write_text(json.dumps(analysis_plan(SPEC)), encoding="utf-8")
    return path


def _results(path) -> dict:
    results = json.loads(path.read_text(encoding="utf-8"))
    results["meta"].pop("created_at")  # the one field that differs between two runs
    return results


def test_analysis_run_on_the_csv_and_the_parquet_export_gives_identical_results(
    exports, plan_file, tmp_path
):
    out = {}
    for fmt in ("csv", "parquet"):
        out[fmt] = tmp_path / f"{fmt}.json"
        args = ["run", str(exports[fmt]), "--plan", str(plan_file), "--out", str(out[fmt])]
        done = subprocess.run(
            [sys.executable, "-m", "analysis", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    csv_results, parquet_results = _results(out["csv"]), _results(out["parquet"])
    assert len(csv_results["effects"]) > 10  # the answers vary: effects were estimated
    assert csv_results["meta"]["n_input"] == 16
    assert parquet_results == csv_results


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_analysis_run_on_spss_and_stata_gives_the_csv_results(exports, plan_file, tmp_path, fmt):
    outputs = {}
    for kind in ("csv", fmt):
        outputs[kind] = tmp_path / f"{kind}.json"
        args = ["run", str(exports[kind]), "--plan", str(plan_file), "--out", str(outputs[kind])]
        assert main(args) == 0
    assert _results(outputs[fmt]) == _results(outputs["csv"])


@pytest.mark.parametrize("fmt", ["parquet", "sav", "dta"])
def test_every_format_reads_back_as_the_csv_reads(exports, plan_file, fmt):
    plan = load_plan(plan_file)
    csv = read_data(exports["csv"], plan)
    other = read_data(exports[fmt], plan)
    for column in ("arm", "stratum", "status"):
        shown, expected = other[column].fillna("<missing>"), csv[column].fillna("<missing>")
        assert shown.tolist() == expected.tolist(), column
    for column in ("post_support", "pre_support", "post_join_sms", "pre_scale_care_values"):
        pd.testing.assert_series_equal(
            other[column].astype("float64"), csv[column].astype("float64"), check_names=False
        )


def test_a_file_that_is_not_what_its_extension_says_is_a_clear_error(plan_file, tmp_path, capsys):
    for name in ("broken.sav", "broken.dta", "broken.parquet"):
        path = tmp_path / name
        path.write_text("arm,y\nc,1\n", encoding="utf-8")
        assert main(["run", str(path), "--plan", str(plan_file), "--out", str(tmp_path / "o")]) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"error: data: {name} could not be read as "), error
