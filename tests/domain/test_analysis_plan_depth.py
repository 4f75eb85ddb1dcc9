"""The study file's analysis.small_sample and backlash settings (issue 19)."""

from __future__ import annotations

import pytest

from framelab.domain.study import StudyError, load_study, study_from_data
from framelab.services.export_plan import analysis_plan
from tests.factories import study_data


def _with(**analysis) -> dict:
    data = study_data()
    data["analysis"] = {**data["analysis"], **analysis}
    return data


def test_unset_settings_leave_the_canonical_json_and_lock_hash_as_before():
    plain = study_from_data(study_data())
    assert "small_sample" not in plain.analysis.model_dump()
    explicit = study_from_data(_with(small_sample="bell_mccaffrey"))
    assert explicit.content_hash() != plain.content_hash()  # a declared choice is locked


def test_settings_round_trip_and_reach_the_analysis_plan():
    spec = study_from_data(
        _with(small_sample="residual", backlash_delta=0.2, backlash_prior_sd=0.5)
    )
    again = load_study(spec.to_yaml())
    assert again.content_hash() == spec.content_hash()
    plan = analysis_plan(again)
    assert plan["small_sample"] == "residual"
    assert (plan["backlash_delta"], plan["backlash_prior_sd"]) == (0.2, 0.5)
    # Unset: the plan still declares the rule analysis uses.
    default = analysis_plan(study_from_data(study_data()))
    assert default["small_sample"] == "bell_mccaffrey"
    assert "backlash_delta" not in default and "backlash_prior_sd" not in default


def test_the_analysis_plan_lists_each_scale_with_its_item_columns_per_phase():
    plan = analysis_plan(study_from_data(study_data()))
    assert plan["scales"]["pre_scale_care_values"] == ["pre_care_1", "pre_care_2"]
    assert all(len(items) >= 2 for items in plan["scales"].values())


@pytest.mark.parametrize(
    ("analysis", "where"),
    [
        ({"small_sample": "hc3"}, "small_sample"),
        ({"backlash_delta": 0}, "backlash_delta"),
        ({"backlash_prior_sd": -1}, "backlash_prior_sd"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(analysis, where):
    with pytest.raises(StudyError, match=where):
        study_from_data(_with(**analysis))
