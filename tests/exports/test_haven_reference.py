"""What R's haven saw in the fixture study's .sav and .dta, and that today's exports match.

tests/reference/haven_exports.R read tests/reference/haven_fixture.{sav,dta} (made by
`python -m tests.exports.fixture_study tests/reference`) with R 4.2.2 and haven 2.5.1
and wrote tests/reference/haven_output.csv. The suite never runs R: it checks what R
wrote, and that exports regenerated from the same fixture study carry the same
pyreadstat metadata (variable and value labels, their order, formats, missing values,
file label) as the files R read, so what R saw is what an analyst sees today.
"""

from __future__ import annotations

import csv

import numpy as np
import pyreadstat
import pytest

from tests.exports.fixture_study import REFERENCE_STEM, build_exports
from tests.factories import ROOT, make_study

REFERENCE = ROOT / "tests" / "reference"
R_CALL = "Rscript tests/reference/haven_exports.R"
SPEC = make_study()
CONTROL = SPEC.arm("control").label_for("en")
FRAMES = [arm.label_for("en") for arm in SPEC.frame_arms]


def _r_rows(kind: str, what: str) -> list[dict[str, str]]:
    with open(REFERENCE / "haven_output.csv", newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["file"] == kind and r["what"] == what]
    return sorted(rows, key=lambda r: int(r["position"]))


@pytest.mark.parametrize("kind", ["sav", "dta"])
def test_r_takes_the_control_as_the_first_level_and_the_reference(kind):
    levels = [r["value"] for r in _r_rows(kind, "levels")]
    assert levels == [CONTROL, *FRAMES], f"levels(as_factor(arm)) differ; regenerate: {R_CALL}"
    coefficients = [r["value"] for r in _r_rows(kind, "coefficient")]
    assert coefficients == ["(Intercept)", *(f"as_factor(arm){f}" for f in FRAMES)]
    assert _r_rows(kind, "class")[0]["value"] == "haven_labelled vctrs_vctr double"
    assert [r["value"] for r in _r_rows(kind, "stratum")] == ["left", "centre", "right"]
    label = _r_rows(kind, "file_label")[0]["value"]
    assert label == "torture-ban v1; codebook: torture-ban-codebook.md"


@pytest.mark.parametrize("kind", ["sav", "dta"])
def test_r_table_of_the_arm_has_no_empty_category(kind):
    table = {r["value"]: int(r["count"]) for r in _r_rows(kind, "table")}
    assert list(table) == [CONTROL, *FRAMES]
    assert "" not in table and all(name.strip() for name in table)
    assert sum(table.values()) == 13 and int(_r_rows(kind, "missing")[0]["count"]) == 3


def _metadata(path, kind: str) -> dict:
    reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    data, meta = reader(str(path))
    about = {
        "columns": list(meta.column_names),
        "labels": list(meta.column_labels),
        "value_labels": {k: list(v.items()) for k, v in meta.variable_value_labels.items()},
        "formats": dict(meta.original_variable_types),
        "file_label": meta.file_label,
        "notes": list(meta.notes),
        "rows": meta.number_rows,
        # which rows are missing, and the codes R turned into factor levels
        "missing": {c: np.flatnonzero(data[c].isna()).tolist() for c in ("arm", "stratum")},
        "codes": {c: data[c].fillna(-1).tolist() for c in ("arm", "stratum", "status")},
    }
    if kind == "sav":
        about["measures"] = dict(meta.variable_measure)
    return about


def test_regenerated_exports_carry_the_metadata_of_the_files_r_read(tmp_path):
    fresh = build_exports(tmp_path, ("sav", "dta"), stem=REFERENCE_STEM)
    for kind, path in fresh.items():
        stored = REFERENCE / f"{REFERENCE_STEM}.{kind}"
        assert _metadata(path, kind) == _metadata(stored, kind), (
            f"the {kind} export changed since R read it: regenerate with "
            f"`.venv/bin/python -m tests.exports.fixture_study tests/reference` and `{R_CALL}`"
        )
