"""examples/data matches the current code and study files (else: examples/data/generate.py).

The notebook, README and docs/report.md read these files; when the study files, the
export's columns or `analysis_plan` change, the committed files go stale silently. This
test says so, and names the script that rewrites them.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest

from framelab.domain.study import load_study_file
from framelab.services.codebook import codebook

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
SCRIPT = DATA / "generate.py"
REGENERATE = "stale: run `.venv/bin/python examples/data/generate.py` and commit examples/data"


def _generator():
    spec = importlib.util.spec_from_file_location("examples_data_generate", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
STUDIES = [(file, slug) for file, slug, *_ in GENERATOR.STUDIES]


def test_every_example_study_has_its_data():
    files = {p.name for p in (ROOT / "examples").glob("*.yaml")}
    assert files == {file for file, _ in STUDIES}
    written = {p.name for p in DATA.iterdir() if p.suffix in (".csv", ".json")}
    assert written == {f"{slug}{end}" for _, slug in STUDIES for end in (".csv", "-plan.json")}


@pytest.mark.parametrize(("file", "slug"), STUDIES)
def test_the_plan_file_is_what_analysis_plan_writes_now(file, slug):
    stored = (DATA / f"{slug}-plan.json").read_text(encoding="utf-8")
    assert stored == GENERATOR.plan_json(ROOT / "examples" / file), REGENERATE


@pytest.mark.parametrize(("file", "slug"), STUDIES)
def test_the_export_has_the_current_columns_hash_and_pseudonyms(file, slug):
    spec = load_study_file(ROOT / "examples" / file)
    data = pd.read_csv(DATA / f"{slug}.csv", dtype={"participant": str, "spec_hash": str})
    assert list(data.columns) == [c["name"] for c in codebook(spec)["columns"]], REGENERATE
    assert set(data["spec_hash"]) == {spec.content_hash()}, REGENERATE
    # keyed pseudonyms, never resume codes; every row a marked rehearsal row (bots)
    assert all(re.fullmatch(r"p_[0-9a-f]{16}", p) for p in data["participant"])
    assert data["participant"].is_unique
    assert set(data["rehearsal"]) == {1}
    arms = {a.id for a in spec.arms}
    assert set(data["arm"].dropna()) == arms
