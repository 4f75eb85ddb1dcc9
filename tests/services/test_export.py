"""Tidy and long exports, codebook, analysis plan, and labelled file round trips."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.plan import check_columns, load_plan
from framelab.services.codebook import codebook, codebook_markdown
from framelab.services.export import export_long, export_tidy, write_export
from framelab.services.export_codebook import export_codebook
from framelab.services.export_plan import analysis_plan
from framelab.services.flow import current_page, submit_step, withdraw
from framelab.services.study_versions import set_status
from tests.factories import make_study, publish, session_for, study_data, valid_answers
from tests.participants import enrol, export_id_for
from tests.services.conftest import NOW

PARTICIPANT_COLUMNS = [
    "participant", "arm", "stratum", "source", "language", "status", "pilot", "rehearsal",
    "attention_failed", "speeder", "honeypot", "spec_hash", "after_lock", "started_at",
    "assigned_at", "completed_at", "duration_seconds", "message_seconds",
]  # fmt: skip


def column_names(spec) -> list[str]:
    """The tidy export's columns, in order, as its codebook lists them."""
    return [c["name"] for c in codebook(spec)["columns"]]


def _complete(session, spec, *, panel=None, until="debrief", **answers):
    person = enrol(session, spec.slug, language="es", source="sms", panel=panel, now=NOW)
    t = NOW
    while (page := current_page(session, person.code, now=t)).step != until:
        t += timedelta(seconds=20)
        form = valid_answers(spec, page.step, **answers)
        assert submit_step(session, person.code, page.step, form, now=t).ok
    return person


def _reverse_spec():
    data = study_data()
    for item in data["items"]:
        if item["id"] == "care_2":
            item["reverse"] = True
    return make_study(items=data["items"])


def _fill(session):
    spec = _reverse_spec()
    publish(session, spec, status="pilot")
    pilot = _complete(session, spec, ideology="1")
    set_status(session, spec.slug, "live", now=NOW)
    done = _complete(session, spec, ideology="5", support="6", care_1="5", care_2="2", donate="73")
    left = _complete(session, spec, until="post", ideology="3")
    gone = _complete(session, spec)
    withdraw(session, gone.code, now=NOW + timedelta(hours=1))
    return spec, {"pilot": pilot, "done": done, "left": left, "gone": gone}


@pytest.fixture
def filled(session):
    """The filled study on each backend (for tests whose result could depend on the database)."""
    return _fill(session)


@pytest.fixture(scope="module")
def filled_file(tmp_path_factory):
    """One filled SQLite study shared by the file-format tests (writers do not touch the database)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('export') / 'export.sqlite'}"
    with session_for(url) as session:
        spec, people = _fill(session)
        yield session, spec, people


def test_tidy_export_has_exactly_the_documented_columns(filled_file):
    session, spec, _ = filled_file
    df = export_tidy(session, spec.slug)
    items = [f"pre_{i.id}" for i in spec.items_for("pre")] + [
        f"post_{i.id}" for i in spec.items_for("post")
    ]
    scales = [f"pre_scale_{s.id}" for s in spec.scales]
    assert list(df.columns) == PARTICIPANT_COLUMNS + items + scales == column_names(spec)


def test_tidy_export_values_flags_scales_and_withdrawn_counts(session, filled):
    spec, people = filled
    df = export_tidy(session, spec.slug).set_index("participant")
    assert export_id_for(session, people["pilot"].code) not in df.index
    done = df.loc[export_id_for(session, people["done"].code)]
    assert (done["status"], done["stratum"], done["language"], done["source"]) == (
        "completed",
        "right",
        "es",
        "sms",
    )
    assert done["post_support"] == 6 and done["pre_support"] == 6 and done["post_donate"] == 73
    assert done["pre_scale_care_values"] == 4.5  # (5 + (6 - 2)) / 2: care_2 is reverse-coded
    # Consent at enrolment (NOW), then four pages of 20 s each.
    assert done["duration_seconds"] == 80 and done["message_seconds"] == 20
    # times rounded down to the hour by default; exact only in an audit export
    assert done["completed_at"] == pd.Timestamp(NOW.replace(minute=0, second=0))
    exact = export_tidy(session, spec.slug, exact_times=True).set_index("participant")
    exact_done = exact.loc[export_id_for(session, people["done"].code)]
    assert exact_done["completed_at"] == pd.Timestamp(NOW + timedelta(seconds=80))
    assert bool(done["pilot"]) is False and df["pilot"].dtype == bool
    left = df.loc[export_id_for(session, people["left"].code)]
    assert (
        left["status"] == "assigned"
        and np.isnan(left["post_support"])
        and pd.isna(left["completed_at"])
    )
    # withdrawn participants are no rows, only counts per arm (DECISIONS rule 7)
    assert export_id_for(session, people["gone"].code) not in df.index
    assert "withdrawn" not in set(df["status"])
    withdrawn = export_codebook(session, spec.slug)["withdrawn"]
    # one withdrawal: below the minimum cell size, so the total and every arm are hidden
    assert withdrawn["total"] is None
    assert {row["shown"] for row in withdrawn["by_arm"]} == {"hidden"}
    with_pilot = export_tidy(session, spec.slug, include_pilot=True)
    assert len(with_pilot) == 3 and with_pilot["pilot"].sum() == 1


def test_long_export_has_one_row_per_stored_answer(session, filled):
    spec, people = filled
    long = export_long(session, spec.slug)
    n_pre, n_post = len(spec.items_for("pre")), len(spec.items_for("post"))
    assert len(long) == (n_pre + n_post) + n_pre  # done: all; left: pre only; withdrawn: erased
    done = long[long["participant"] == export_id_for(session, people["done"].code)]
    support = done[(done["item"] == "support") & (done["phase"] == "post")]
    assert support["value"].tolist() == [6.0]
    comment = done[done["item"] == "comment"]
    assert comment["value_text"].tolist() == ["A comment."] and np.isnan(comment["value"].iloc[0])


def test_codebook_describes_every_column_with_labels_and_coding(filled_file):
    _, spec, _ = filled_file
    book = codebook(spec)
    by_name = {c["name"]: c for c in book["columns"]}
    assert list(by_name) == column_names(spec)
    support = by_name["post_support"]
    assert support["label"] == spec.text(spec.item("support").text, "en")
    assert support["allowed_values"] == [1, 2, 3, 4, 5, 6, 7]
    assert support["value_labels"]["1"] == "Strongly oppose" and support["role"] == "outcome"
    assert "reverse-coded in scale indices as 6 - value" in by_name["pre_care_2"]["coding"]
    assert by_name["pre_care_2"]["scales"] == ["care_values"]
    assert by_name["pre_scale_care_values"]["items"] == ["care_1", "care_2"]
    assert by_name["post_donate"]["allowed_values"] == {"min": 0, "max": 100}
    assert by_name["arm"]["allowed_values"] == spec.arm_ids and book["control"] == "control"
    markdown = codebook_markdown(spec)
    assert markdown.count("\n| `") == len(book["columns"])
    assert "| `post_support` | " in markdown


def test_analysis_plan_names_export_columns_and_loads_in_the_analysis_package(filled_file):
    session, spec, _ = filled_file
    plan = analysis_plan(spec)
    assert plan["arm"] == "arm" and plan["control"] == "control" and plan["blocks"] == "stratum"
    assert plan["outcomes"][0] == {
        "name": "post_support",
        "type": "ordinal",
        "baseline": "pre_support",
        "primary": True,
        "label": {lang: spec.item("support").label.get(lang) for lang in spec.languages},
        "desired": "increase",
        "range": [1, 7],
    }
    assert plan["value_match"] == {
        "care": "pre_scale_care_values",
        "fairness": "pre_scale_equality_values",
        "loyalty": "pre_scale_loyalty_values",
        "liberty": "pre_scale_liberty_values",
    }
    assert [o["name"] for o in plan["outcomes"][1:]] == ["post_join_sms", "post_donate"]
    assert plan["outcomes"][1]["type"] == "binary" and "baseline" not in plan["outcomes"][1]
    assert plan["covariates"][:2] == ["pre_ideology", "pre_age_group"]
    assert "pre_scale_care_values" in plan["covariates"]
    assert plan["exclude"] == {"attention_failed": True, "pilot": True}
    assert (plan["alpha"], plan["correction"]) == (0.05, "holm")
    check_columns(load_plan(plan), export_tidy(session, spec.slug))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_read_back_equal_to_the_export(filled_file, tmp_path, fmt):
    session, spec, _ = filled_file
    path = tmp_path / f"data.{fmt}"
    assert write_export(session, spec.slug, fmt, path) == 2  # the withdrawn one is no row
    df = export_tidy(session, spec.slug)
    back = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    assert list(back.columns) == list(df.columns)
    assert back["participant"].tolist() == df["participant"].tolist()
    pd.testing.assert_series_equal(back["post_support"], df["post_support"])
    pd.testing.assert_series_equal(back["pre_scale_care_values"], df["pre_scale_care_values"])
    if fmt == "parquet":
        # category columns come back as categoricals in code order (the control first)
        assert back["arm"].cat.categories[0] == spec.control_arm.id
        categories = ["arm", "stratum", "source", "language", "status"]
        for column in categories:
            back[column] = back[column].astype(df[column].dtype)
        pd.testing.assert_frame_equal(back, df)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_files_carry_the_codebook_labels(filled_file, tmp_path, fmt):
    session, spec, _ = filled_file
    path = tmp_path / f"data.{fmt}"
    write_export(session, spec.slug, fmt, path)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    data, meta = reader(str(path))
    book = {c["name"]: c for c in codebook(spec)["columns"]}
    limit = 80 if fmt == "dta" else 256
    for name in data.columns:
        label, full = meta.column_names_to_labels[name], " ".join(book[name]["label"].split())
        assert len(label.encode("utf-8")) <= limit
        if len(full.encode("utf-8")) <= limit:
            assert label == full
        else:  # cut at a word boundary and marked
            assert label.endswith("...") and full.startswith(label[:-3])
            assert full[len(label) - 3] in " ,;:"
    for name in ("pre_ideology", "post_support", "post_join_sms", "post_manip_value"):
        labels = {int(k): v for k, v in meta.variable_value_labels[name].items()}
        assert labels == {int(k): v for k, v in book[name]["value_labels"].items()}
    assert meta.variable_value_labels["attention_failed"] in (
        {0: "No", 1: "Yes"},
        {0.0: "No", 1.0: "Yes"},
    )
    df = export_tidy(session, spec.slug)
    assert data["participant"].tolist() == df["participant"].tolist()
    assert data["post_support"].tolist()[:1] == df["post_support"].tolist()[:1]
    np.testing.assert_array_equal(data["pre_support"].to_numpy(), df["pre_support"].to_numpy())
    assert data["completed_at"].iloc[0] == pd.Timestamp(NOW.replace(minute=0)).tz_localize(None)


def test_stata_names_longer_than_32_characters_are_shortened_uniquely(tmp_path):
    data = study_data()
    long_a = "a_really_long_item_identifier_for_care_one"
    long_b = "a_really_long_item_identifier_for_care_two"
    renames = {"care_1": long_a, "care_2": long_b}
    for item in data["items"]:
        item["id"] = renames.get(item["id"], item["id"])
    for scale in data["scales"]:
        scale["items"] = [renames.get(i, i) for i in scale["items"]]
    spec = make_study(items=data["items"], scales=data["scales"])
    with session_for(f"sqlite:///{tmp_path / 'names.sqlite'}") as session:
        publish(session, spec)
        _complete(session, spec)
        path = tmp_path / "long.dta"
        write_export(session, spec.slug, "dta", path)
        frame, meta = pyreadstat.read_dta(str(path))
        assert all(len(c) <= 32 for c in frame.columns)
        assert len(set(frame.columns)) == len(frame.columns) == len(column_names(spec))
        short = next(c for c in frame.columns if f"pre_{long_a}".startswith(c))
        label = meta.column_names_to_labels[short]
        assert spec.text(spec.item(long_a).text, "en").startswith(label.removesuffix("..."))


def test_codebook_files_are_written_as_json_and_markdown(filled_file, tmp_path):
    session, spec, _ = filled_file
    write_export(session, spec.slug, "codebook-json", tmp_path / "codebook.json")
    write_export(session, spec.slug, "codebook-md", tmp_path / "codebook.md")
    book = export_codebook(session, spec.slug)
    withdrawn = book.pop("withdrawn")
    interim = book.pop("interim")
    assert book == codebook(spec, version=1, observed={"source": ["sms"]})
    assert withdrawn["total"] is None  # one withdrawal: a small cell
    assert interim is True  # live, short of its target (DECISIONS rule 3)
    book["withdrawn"] = withdrawn
    book["interim"] = interim
    assert json.loads((tmp_path / "codebook.json").read_text(encoding="utf-8")) == book
    assert (tmp_path / "codebook.md").read_text(encoding="utf-8") == codebook_markdown(spec, book)
    with pytest.raises(
        ValueError, match=r"format: 'xlsx' is not an export format \(expected one of: csv"
    ):
        write_export(session, spec.slug, "xlsx", tmp_path / "x.xlsx")


def test_exports_never_carry_the_private_resume_code(session, filled):
    # The resume code in a participant's link lets its holder continue or withdraw as
    # that participant; a forwarded export must not hand that power to its reader.
    spec, people = filled
    codes = {p.code for p in people.values()}
    tidy = export_tidy(session, spec.slug, include_pilot=True)
    long = export_long(session, spec.slug, include_pilot=True)
    assert not codes & set(tidy["participant"]) and not codes & set(long["participant"])
    assert tidy["participant"].str.fullmatch(r"p_[0-9a-f]{16}").all()
    assert tidy["participant"].is_unique


def _csv_rows(path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_writes_integer_codes_as_integers_yes_no_as_1_0_and_missing_as_empty(
    filled_file, tmp_path
):
    session, spec, people = filled_file
    path = tmp_path / "tidy.csv"
    write_export(session, spec.slug, "csv", path)
    rows = {r["participant"]: r for r in _csv_rows(path)}
    done = rows[export_id_for(session, people["done"].code)]
    assert (done["pre_ideology"], done["pre_support"], done["post_support"]) == ("5", "6", "6")
    assert (done["post_donate"], done["post_join_sms"], done["post_manip_value"]) == (
        "73",
        "1",
        "3",
    )
    assert (done["pilot"], done["attention_failed"], done["speeder"]) == ("0", "0", "0")
    assert done["pre_scale_care_values"] == "4.5"  # a mean, not a code
    left = rows[export_id_for(session, people["left"].code)]
    assert (left["post_support"], left["post_join_sms"], left["completed_at"]) == ("", "", "")
    assert left["pre_support"] == "4"  # the middle of 7 points, valid_answers' choice
    integer_columns = [c["name"] for c in codebook(spec)["columns"] if c["type"] == "integer"]
    cells = [row[c] for row in rows.values() for c in integer_columns]
    assert cells and all(re.fullmatch(r"-?\d*", cell) for cell in cells), sorted(set(cells))
    # The raw bytes: no float spelling of a code anywhere in the answer columns.
    assert ",6.0," not in path.read_text(encoding="utf-8")


def test_long_csv_writes_answer_codes_as_integers(filled_file, tmp_path):
    session, spec, people = filled_file
    path = tmp_path / "long.csv"
    write_export(session, spec.slug, "long-csv", path)
    rows = _csv_rows(path)
    mine = [r for r in rows if r["participant"] == export_id_for(session, people["done"].code)]
    by_item = {(r["phase"], r["item"]): r for r in mine}
    assert by_item[("post", "support")]["value"] == "6"
    assert by_item[("post", "join_sms")]["value"] == "1"
    assert by_item[("post", "comment")]["value"] == ""  # free text: no code
    assert by_item[("post", "comment")]["value_text"] == "A comment."
    assert {r["pilot"] for r in rows} == {"0"}


@pytest.mark.parametrize(("fmt", "whole"), [("sav", "F8.0"), ("dta", "%8.0g")])
def test_spss_and_stata_show_codes_as_whole_numbers_with_yes_no_labels(
    filled_file, tmp_path, fmt, whole
):
    session, spec, people = filled_file
    path = tmp_path / f"data.{fmt}"
    write_export(session, spec.slug, fmt, path)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    data, meta = reader(str(path))
    for name in ("pre_support", "post_join_sms", "post_donate", "attention_failed", "pilot"):
        assert meta.original_variable_types[name] == whole, name
    labels = {int(k): v for k, v in meta.variable_value_labels["post_join_sms"].items()}
    assert labels == {0: "No, not now", 1: "Yes, I would join"}
    flags = {int(k): v for k, v in meta.variable_value_labels["pilot"].items()}
    assert flags == {0: "No", 1: "Yes"}
    row = data.set_index("participant").loc[export_id_for(session, people["done"].code)]
    assert (row["post_join_sms"], row["pilot"], row["pre_support"]) == (1, 0, 6)
    assert meta.original_variable_types["pre_scale_care_values"] != whole  # a mean keeps decimals


def test_codebook_states_the_yes_no_convention_and_the_integer_codes(filled_file):
    _, spec, _ = filled_file
    book = codebook(spec)
    by_name = {c["name"]: c for c in book["columns"]}
    assert "coded 1 = yes, 0 = no" in book["conventions"]["yes_no"]
    assert "4, never 4.0" in book["conventions"]["integer_codes"]
    assert "empty cell in CSV" in book["conventions"]["missing"]
    assert by_name["post_join_sms"]["coding"] == "1 = yes (Yes, I would join), 0 = no (No, not now)"
    assert by_name["post_support"]["coding"].startswith("integer code 1..7")
    pilot = by_name["pilot"]
    assert (pilot["allowed_values"], pilot["value_labels"]) == ([0, 1], {"0": "No", "1": "Yes"})
    assert pilot["coding"].startswith("1 = yes, 0 = no: yes for participants who took part")
    markdown = codebook_markdown(spec)
    assert "Coding:\n\n- Yes/no columns (binary questions and the flags" in markdown
    assert "| 0 = No, not now; 1 = Yes, I would join | 1 = yes (Yes, I would join)" in markdown
    assert "| `pilot` | Pilot participant | boolean | 0 = No; 1 = Yes |" in markdown


def test_bundle_csv_is_the_same_file_as_the_csv_download(filled_file, tmp_path):
    import io
    import zipfile

    from framelab.services.bundle import build_bundle
    from framelab.services.study_versions import get_study

    session, spec, _ = filled_file
    path = tmp_path / "tidy.csv"
    write_export(session, spec.slug, "csv", path)
    archive = zipfile.ZipFile(io.BytesIO(build_bundle(session, get_study(session, spec.slug))))
    assert archive.read(f"{spec.slug}/data/tidy.csv") == path.read_bytes()
