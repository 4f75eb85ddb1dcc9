"""notebooks/analysis.ipynb runs top to bottom and arrives at analysis.run's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import analysis

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "analysis.ipynb"
DATA = ROOT / "examples" / "data"
FIELDS = ("estimate", "std_error", "conf_low", "conf_high", "p_value", "p_adjusted")


def _final_numbers(nb) -> dict:
    for cell in reversed(nb.cells):
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if output.get("output_type") == "stream" and '"final_numbers"' in text:
                return json.loads(text)["final_numbers"]
    raise AssertionError("the notebook printed no final_numbers")


def test_notebook_executes_and_its_final_numbers_equal_analysis_run(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # jupyter_core warns about its old path layout unless told to use platformdirs
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError naming the cell if any cell fails
    numbers = _final_numbers(nb)

    plan = json.loads((DATA / "torture-ban-plan.json").read_text(encoding="utf-8"))
    results = analysis.run(pd.read_csv(DATA / "torture-ban.csv"), plan)
    confirmatory = {e["arm"]: e for e in results["effects"] if e["family"] == "confirmatory"}
    assert set(numbers) == set(confirmatory) == {"care", "fairness", "loyalty", "liberty"}
    for arm, values in numbers.items():
        for field in FIELDS:
            assert values[field] == pytest.approx(confirmatory[arm][field], rel=1e-9), (arm, field)
