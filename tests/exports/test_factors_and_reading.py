"""Factor columns of a factorial design, and reading labelled files back into a plan's terms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.data_files import read_data
from analysis.plan import load_plan
from framelab.domain.study import load_study_file, study_from_data
from framelab.services.codebook import codebook
from framelab.services.export import export_tidy, write_export
from framelab.services.export_codebook import export_codebook
from tests.factories import ROOT, publish, session_for
from tests.studio.participants import complete_participant

FACTORIAL = load_study_file(ROOT / "examples" / "refugee-welcome-factorial.yaml")
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def factorial(tmp_path_factory):
    """The factorial example with 10 participants (one block: every arm twice) and one unassigned."""
    folder = tmp_path_factory.mktemp("factorial")
    with session_for(f"sqlite:///{folder / 'f.sqlite'}") as session:
        publish(session, FACTORIAL)
        for n in range(10):
            complete_participant(session, FACTORIAL.slug, start=START + timedelta(minutes=n))
        complete_participant(session, FACTORIAL.slug, start=START, until="pre")
        yield session, folder


def test_factorial_exports_have_a_labelled_column_per_factor_missing_for_the_control(factorial):
    session, folder = factorial
    df = export_tidy(session, FACTORIAL.slug)
    names = list(df.columns)
    assert names[names.index("arm") + 1 : names.index("arm") + 3] == [
        "factor_value",
        "factor_messenger",
    ]
    for _, row in df.iterrows():
        if pd.isna(row["arm"]) or row["arm"] == "control":
            assert pd.isna(row["factor_value"]) and pd.isna(row["factor_messenger"])
        else:
            factors = FACTORIAL.arm(row["arm"]).factors
            assert (row["factor_value"], row["factor_messenger"]) == (
                factors["value"],
                factors["messenger"],
            )
    book = {c["name"]: c for c in export_codebook(session, FACTORIAL.slug)["columns"]}
    assert book["factor_messenger"]["codes"] == {"1": "refugee", "2": "neighbour"}
    assert "missing for the control arm" in book["factor_messenger"]["missing"]
    write_export(session, FACTORIAL.slug, "dta", folder / "f.dta")
    data, meta = pyreadstat.read_dta(str(folder / "f.dta"))
    assert meta.variable_value_labels["factor_value"] == {1: "care", 2: "loyalty"}
    control = data["arm"] == 1
    assert control.sum() == 2 and data.loc[control, "factor_value"].isna().all()
    assert int(data["arm"].isna().sum()) == 1
    write_export(session, FACTORIAL.slug, "parquet", folder / "f.parquet")
    parquet = pd.read_parquet(folder / "f.parquet")
    assert parquet["factor_value"].cat.categories.tolist() == ["care", "loyalty"]
    assert parquet["arm"].cat.categories[0] == "control"


def test_a_study_that_lists_the_control_last_still_codes_it_1(tmp_path):
    data = FACTORIAL.model_dump(mode="json", exclude_none=True)
    data["arms"] = data["arms"][1:] + data["arms"][:1]
    spec = study_from_data(data)
    assert spec.arms[-1].control
    arm = next(c for c in codebook(spec)["columns"] if c["name"] == "arm")
    assert arm["codes"]["1"] == "control" and arm["value_labels"]["1"] == "No message"
    assert list(arm["codes"].values())[1:] == [a.id for a in spec.arms[:-1]]


def _labelled_file(tmp_path, arm_labels: dict[float, str]):
    frame = pd.DataFrame({"arm": [1.0, 2.0, np.nan, 2.0], "y": [1.0, 2.0, np.nan, 3.0]})
    path = tmp_path / "d.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"arm": arm_labels})
    return path


def test_reading_a_sav_maps_arm_labels_to_the_plans_arms_in_any_language(tmp_path):
    path = _labelled_file(tmp_path, {1: "Sin mensaje", 2: "Cuidado"})
    plan = load_plan(
        {
            "arm": "arm",
            "control": "control",
            "language": "en",
            "outcomes": ["y"],
            "arm_labels": {
                "control": {"en": "No message", "es": "Sin mensaje"},
                "care": {"en": "Care", "es": "Cuidado"},
            },
        }
    )
    arms = read_data(path, plan)["arm"].tolist()
    assert arms[:2] == ["control", "care"] and pd.isna(arms[2])
    # without a plan the codes stay codes, as the file has them
    assert read_data(path)["arm"].tolist()[:2] == [1.0, 2.0]
    # a plan without arm labels gets the file's labels (its control must then be a label)
    bare = load_plan({"arm": "arm", "control": "Sin mensaje", "outcomes": ["y"]})
    assert read_data(path, bare)["arm"].tolist()[:2] == ["Sin mensaje", "Cuidado"]


def test_reading_refuses_an_arm_label_that_names_two_arms_of_the_plan(tmp_path):
    path = _labelled_file(tmp_path, {1: "Message", 2: "Message B"})
    plan = load_plan(
        {
            "arm": "arm",
            "control": "a",
            "outcomes": ["y"],
            "arm_labels": {"a": "Message", "b": "Message"},
        }
    )
    with pytest.raises(ValueError, match=r"the label 'Message' names more than one arm \(a, b\)"):
        read_data(path, plan)
