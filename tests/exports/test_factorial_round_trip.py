"""Issue 19: the factorial example through the real path, in every export format.

Participants walk the refugee-welcome pages (varied answers, so every cell has spread);
each export format (CSV, Parquet, SPSS, Stata) read back with the study's plan gives the
same factor columns (the level names, missing for the control), the files carry the
levels as value labels, and the plan's factorial and manipulation-check sections come
out identical from every format.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import analysis
from analysis.data_files import read_data
from analysis.plan import load_plan
from framelab.domain.study import load_study_file
from framelab.services.export import export_tidy, write_export
from framelab.services.export_plan import analysis_plan
from framelab.services.flow import current_page, submit_step
from tests.factories import ROOT, publish, session_for, valid_answers
from tests.participants import enrol

FACTORIAL = load_study_file(ROOT / "examples" / "refugee-welcome-factorial.yaml")
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FORMATS = ("csv", "parquet", "sav", "dta")
N = 40  # four blocks of ten: every arm eight times


def _walk(session, rng: random.Random, start: datetime) -> None:
    participant = enrol(
        session, FACTORIAL.slug, language="en", source="prolific", panel=None, now=start
    )
    clock = start
    for _ in range(10):
        state = current_page(session, participant.code, now=clock)
        if state.step == "debrief":
            return
        form = valid_answers(
            state.spec,
            state.step,
            **{
                "welcome": rng.randint(1, 7),
                "left_right": rng.randint(0, 100),
                "manip_messenger": rng.choice([1, 2, 3]),
                "sign_petition": rng.randint(0, 1),
            },
        )
        form = {k: v for k, v in form.items() if k in valid_answers(state.spec, state.step)}
        clock += timedelta(seconds=70)
        assert submit_step(session, participant.code, state.step, form, now=clock).ok
    raise AssertionError("participant never reached the debrief")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("factorial_formats")
    rng = random.Random(19)
    with session_for(f"sqlite:///{folder / 'f.sqlite'}") as session:
        publish(session, FACTORIAL)
        for n in range(N):
            _walk(session, rng, START + timedelta(minutes=n))
        tidy = export_tidy(session, FACTORIAL.slug)
        paths = {}
        for kind in FORMATS:
            paths[kind] = folder / f"f.{kind}"
            write_export(session, FACTORIAL.slug, kind, paths[kind])
    return tidy, paths, analysis_plan(FACTORIAL)


def test_every_format_reads_back_the_factor_levels_with_the_plan(exported):
    tidy, paths, plan = exported
    assert plan["factors"] == {
        "factor_value": ["care", "loyalty"],
        "factor_messenger": ["refugee", "neighbour"],
    }
    for kind, path in paths.items():
        data = read_data(path, load_plan(plan))
        for column in ("factor_value", "factor_messenger"):
            got = data[column].astype("object").where(data[column].notna(), None).tolist()
            want = tidy[column].astype("object").where(tidy[column].notna(), None).tolist()
            assert got == want, (kind, column)
        assert data.loc[data["arm"] == "control", "factor_value"].isna().all(), kind


@pytest.mark.parametrize(
    "kind,reader", [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)]
)
def test_spss_and_stata_files_label_the_factor_codes(exported, kind, reader):
    _, paths, _ = exported
    data, meta = reader(str(paths[kind]))
    assert meta.variable_value_labels["factor_value"] == {1: "care", 2: "loyalty"}
    assert meta.variable_value_labels["factor_messenger"] == {1: "refugee", 2: "neighbour"}
    assert set(data["factor_messenger"].dropna()) == {1.0, 2.0}


def test_the_factorial_and_manipulation_sections_agree_across_formats(exported):
    _, paths, plan = exported
    assert [c["column"] for c in plan["manipulation_checks"]] == ["post_manip_messenger"]
    check = plan["manipulation_checks"][0]
    assert check["factor_targets"] == {"factor_messenger": {"refugee": [1], "neighbour": [2]}}
    assert check["targets"]["care_refugee"] == [1] and check["targets"]["control"] == [3]
    results = {kind: analysis.run(path, plan) for kind, path in paths.items()}
    base = pd.DataFrame(results["csv"]["factorial"])
    assert set(base["term"]) == {"main_effect", "interaction", "cell_vs_control"}
    assert len(results["csv"]["manipulation_checks"]) > 0
    for kind in FORMATS[1:]:
        other = pd.DataFrame(results[kind]["factorial"])
        assert np.allclose(
            base[["estimate", "std_error"]].to_numpy(float),
            other[["estimate", "std_error"]].to_numpy(float),
            equal_nan=True,
        ), kind
        assert results[kind]["manipulation_checks"] == results["csv"]["manipulation_checks"], kind
