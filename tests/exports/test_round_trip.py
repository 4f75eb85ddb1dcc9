"""Each export format read back with the tools analysts use (pyreadstat, pyarrow, csv).

The fixture study (tests/exports/fixture_study.py) went through the real path: loaded
by the CLI, 16 participants through the participant pages (three never assigned),
exported by `framelab export`. Every check compares a file with the codebook written
by the same export, so codes, labels, order and missing values agree across formats.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest

from tests.factories import make_study

SPEC = make_study()
ARM_ORDER = ["control", "care", "fairness", "loyalty", "liberty"]
ARM_LABELS = [SPEC.arm(a).label_for("en") for a in ARM_ORDER]
CATEGORIES = ("arm", "stratum", "source", "language", "status")
UNASSIGNED = 3  # two left after consent, one declined


def _book(exports) -> dict:
    return json.loads(exports["codebook-json"].read_text(encoding="utf-8"))


def _columns(exports) -> dict:
    return {c["name"]: c for c in _book(exports)["columns"]}


def _csv_rows(exports) -> list[dict[str, str]]:
    with open(exports["csv"], newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_codebook_gives_codes_labels_missing_rules_version_and_spec_hash(exports):
    book = _book(exports)
    assert (book["study"], book["version"]) == ("torture-ban", 1)
    assert book["spec_hash"] == SPEC.content_hash()
    assert book["files"] == {"json": "torture-ban-codebook.json", "md": "torture-ban-codebook.md"}
    columns = _columns(exports)
    arm = columns["arm"]
    assert arm["type"] == "category" and arm["control"] == "control"
    assert arm["codes"] == {str(n): a for n, a in enumerate(ARM_ORDER, start=1)}
    assert list(arm["value_labels"].values()) == ARM_LABELS
    assert "left before being assigned" in arm["missing"]
    assert columns["stratum"]["codes"] == {"1": "left", "2": "centre", "3": "right"}
    assert columns["language"]["codes"] == {"1": "en", "2": "es", "3": "fr", "4": "ar"}
    assert columns["source"]["codes"] == {"1": "sms"}  # from the data: the SMS link
    assert list(columns["status"]["codes"].values())[:4] == [
        "started",
        "screened_out",
        "assigned",
        "completed",
    ]
    ideology = columns["pre_ideology"]
    full = SPEC.text(SPEC.item("ideology").text, "en")
    assert ideology["question"] == full and len(full.encode()) > 80
    assert ideology["stata_label"].endswith("...") and len(ideology["stata_label"]) <= 80
    assert ideology["type"] == "integer" and ideology["value_labels"]["1"]
    assert "missing when not answered" in ideology["missing"]
    assert all(c["missing"] and c["stata_name"] for c in columns.values())
    markdown = exports["codebook-md"].read_text(encoding="utf-8")
    assert "Study `torture-ban`, version 1, spec hash" in markdown
    assert "| `arm` | Assigned arm (1 = control) | category | 1 = control (Placebo" in markdown


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_design_columns_are_labelled_codes_control_first(exports, fmt):
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    data, meta = reader(str(exports[fmt]))
    columns = _columns(exports)
    rows = _csv_rows(exports)
    for name in CATEGORIES:
        labels = {int(k): v for k, v in meta.variable_value_labels[name].items()}
        assert labels == {int(k): v for k, v in columns[name]["value_labels"].items()}, name
        assert pd.api.types.is_numeric_dtype(data[name]), f"{name} is not numeric in {fmt}"
        # every code stands for the CSV's text of the same row; missing is missing there too
        for code, row in zip(data[name].tolist(), rows, strict=True):
            text = "" if np.isnan(code) else columns[name]["codes"][str(int(code))]
            assert text == row[name], (name, code, row[name])
    arm_labels = meta.variable_value_labels["arm"]
    assert arm_labels[min(arm_labels)] == SPEC.arm("control").label_for("en")  # code 1
    assert int(data["arm"].isna().sum()) == int(data["stratum"].isna().sum()) == UNASSIGNED
    unassigned = data[data["arm"].isna()]
    statuses = {meta.variable_value_labels["status"][c] for c in unassigned["status"]}
    assert statuses == {"started", "screened_out"}
    assert meta.column_names_to_labels["arm"] == "Assigned arm (1 = control)"
    whole = "F8.0" if fmt == "sav" else "%8.0g"
    assert all(meta.original_variable_types[n] == whole for n in CATEGORIES)


def test_spss_marks_design_columns_nominal_and_its_document_names_the_codebook(exports):
    _, meta = pyreadstat.read_sav(str(exports["sav"]))
    assert meta.file_label == "torture-ban v1; codebook: torture-ban-codebook.md"
    note = " ".join(meta.notes)
    assert "the codebook torture-ban-codebook.md (or torture-ban-codebook.json)" in note
    assert f"spec hash {SPEC.content_hash()}" in note
    assert "arm: 1 = Placebo (libraries) (the control, control)" in note
    assert all(len(line.encode()) <= 80 for line in meta.notes)
    assert {meta.variable_measure[n] for n in CATEGORIES} == {"nominal"}
    assert meta.variable_measure["pre_support"] == "ordinal"
    assert meta.variable_measure["post_donate"] == "scale"


def test_stata_labels_are_cut_at_80_bytes_and_the_file_label_names_the_codebook(exports):
    data, meta = pyreadstat.read_dta(str(exports["dta"]))
    columns = _columns(exports)
    assert meta.file_label == "torture-ban v1; codebook: torture-ban-codebook.md"
    cut = 0
    for name in data.columns:
        label = meta.column_names_to_labels[name]
        assert len(label.encode("utf-8")) <= 80
        assert label == columns[name]["stata_label"]  # the codebook says what Stata shows
        if label.endswith("..."):
            cut += 1
            assert columns[name]["question"].startswith(label.removesuffix("..."))
    assert cut >= 3


def test_parquet_categories_follow_the_codes_with_the_control_first_and_nulls(exports):
    frame = pd.read_parquet(exports["parquet"])
    columns = _columns(exports)
    assert frame["arm"].cat.categories[0] == "control"
    for name in CATEGORIES:
        series = frame[name]
        assert isinstance(series.dtype, pd.CategoricalDtype) and not series.cat.ordered
        assert series.cat.categories.tolist() == list(columns[name]["codes"].values())
        assert "" not in series.cat.categories
    assert int(frame["arm"].isna().sum()) == UNASSIGNED
    table = pq.read_table(exports["parquet"])
    arm = table.column("arm")
    assert str(arm.type) == "dictionary<values=string, indices=int8, ordered=0>"
    assert arm.null_count == UNASSIGNED
    assert arm.chunk(0).dictionary.to_pylist() == ARM_ORDER
    about = json.loads(table.schema.metadata[b"framelab"])
    assert about == {
        "study": "torture-ban",
        "version": 1,
        "spec_hash": SPEC.content_hash(),
        "codebook": "torture-ban-codebook.json",
        "control": "control",
        "missing": "null",
        "times": "hour",  # rounded down (an audit export says "exact")
        "interim": False,  # the fixture study is closed (before its target: true)
    }


def test_csv_keeps_readable_text_and_leaves_unassigned_arms_empty(exports):
    rows = _csv_rows(exports)
    arms = [row["arm"] for row in rows]
    assert set(arms) == {*ARM_ORDER, ""} and arms.count("") == UNASSIGNED
    assert {row["status"] for row in rows if not row["arm"]} == {"started", "screened_out"}
    assert {row["stratum"] for row in rows if not row["arm"]} == {""}
    frame = pd.read_csv(exports["csv"])
    assert int(frame["arm"].isna().sum()) == UNASSIGNED
    assert frame["source"].dropna().tolist() == ["sms"]
