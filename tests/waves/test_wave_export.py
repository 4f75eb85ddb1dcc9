"""The export contract of follow-up waves: `{wave}_{wave-1 column}` and `{wave}_returned`,
in the tidy table, every file format, the codebook and the analysis plan."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from framelab.services.codebook import codebook
from framelab.services.export import export_long, export_tidy, write_export
from framelab.services.export_plan import analysis_plan
from framelab.testing.forms import csrf_token
from tests.factories import make_study
from tests.waves.helpers import DAY, complete, follow_up_path, wave_study
from tests.web.conftest import make_app
from tests.web.walker import Walker

SPEC = wave_study()
WAVE_COLUMNS = ["w2_post_support", "w2_post_join_sms", "w2_returned"]


@pytest.fixture
def exported(tmp_path, clock):
    app = make_app(f"sqlite:///{tmp_path / 'x.sqlite'}", clock=clock, studies=(SPEC,))
    back = follow_up_path(complete(app.test_client(), SPEC, clock)[1])
    complete(app.test_client(), SPEC, clock)  # completes, never comes back
    Walker(app.test_client(), SPEC, clock).consent()  # stops after consenting
    clock.advance(7 * DAY + 60)
    client = app.test_client()
    page = client.get(back).get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "wave": "w2", "support": "7", "join_sms": "1"}
    client.post(back, data=form)
    yield app, tmp_path
    app.extensions["framelab.engine"].dispose()


def test_the_tidy_table_adds_each_waves_columns_after_wave_1s(exported):
    app, _ = exported
    with app.extensions["framelab.db"]() as session:
        data = export_tidy(session, SPEC.slug)
    names = [c["name"] for c in codebook(SPEC)["columns"]]
    assert list(data.columns) == names and names[-3:] == WAVE_COLUMNS
    assert "post_support" in names and "pre_support" in names  # wave 1 unchanged
    rows = data.sort_values("started_at", kind="stable").reset_index(drop=True)
    assert rows["w2_returned"].tolist()[:2] == [1, 0] and pd.isna(rows["w2_returned"][2])
    assert rows["w2_post_support"][0] == 7 and rows["w2_post_join_sms"][0] == 1
    assert rows[["w2_post_support", "w2_post_join_sms"]].iloc[1:].isna().all().all()


def test_the_long_table_has_the_wave_answers_with_the_wave_as_phase(exported):
    app, _ = exported
    with app.extensions["framelab.db"]() as session:
        long = export_long(session, SPEC.slug)
    waves = long[long["phase"] == "w2"]
    assert sorted(zip(waves["item"], waves["value"], strict=True)) == [
        ("join_sms", 1.0),
        ("support", 7.0),
    ]
    assert waves["answered_at"].dt.minute.eq(0).all()  # rounded like every answer time
    first = long[long["participant"] == waves["participant"].iloc[0]]
    assert list(first["phase"])[-2:] == ["w2", "w2"]  # after the participant's wave 1


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sav", "dta", "codebook-json", "codebook-md"])
def test_every_format_carries_the_wave_columns(exported, fmt):
    app, folder = exported
    path = folder / f"out.{fmt}"
    with app.extensions["framelab.db"]() as session:
        write_export(session, SPEC.slug, fmt, path)
    if fmt == "csv":
        data = pd.read_csv(path)
        assert list(data.columns[-3:]) == WAVE_COLUMNS
        assert path.read_text(encoding="utf-8").splitlines()[1].endswith(",7,1,1")
    elif fmt == "codebook-json":
        book = json.loads(path.read_text(encoding="utf-8"))
        records = {c["name"]: c for c in book["columns"]}
        assert records["w2_returned"]["value_labels"] == {"0": "No", "1": "Yes"}
        assert records["w2_post_support"]["wave_1_column"] == "post_support"
        assert "asked again in wave w2 (7 days after wave 1" in records["w2_post_support"]["coding"]
    elif fmt == "codebook-md":
        assert "`w2_returned`" in path.read_text(encoding="utf-8")
    else:
        assert path.stat().st_size > 0


def test_the_analysis_plan_names_each_waves_items_by_their_wave_1_columns():
    plan = analysis_plan(SPEC)
    assert plan["waves"] == [
        {"id": "w2", "after_days": 7, "items": ["post_support", "post_join_sms"], "window_days": 7}
    ]
    assert "waves" not in analysis_plan(make_study())
    assert [c["name"] for c in codebook(make_study())["columns"]][-1] != "w2_returned"
