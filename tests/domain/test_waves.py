"""Follow-up waves in the study file: validation, the unchanged hash, and the windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from framelab.domain.study import StudyError
from framelab.domain.waves import Wave, next_window, wave_visit, window
from tests.factories import make_study

W2 = {"id": "w2", "after_days": 7, "items": ["support", "join_sms"], "window_days": 7}


def _problems(waves, **more) -> str:
    with pytest.raises(StudyError) as caught:
        make_study(waves=waves, **more)
    return str(caught.value)


def test_a_wave_is_read_and_no_waves_keeps_the_study_hash():
    spec = make_study(waves=[W2])
    assert spec.waves == [Wave(**W2)] and spec.follow_up_by == "code"
    assert make_study(waves=[W2], follow_up="invitation").follow_up_by == "invitation"
    plain = make_study()
    assert plain.follow_up_by is None
    assert make_study(waves=[]).content_hash() == plain.content_hash()
    assert "waves" not in plain.canonical_json() and "follow_up" not in plain.canonical_json()
    assert spec.content_hash() != plain.content_hash()
    assert make_study(waves=[W2]).to_yaml().count("after_days: 7") == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "w1"}, "waves[0].id: 'w1' is reserved"),
        ({"id": "support"}, "waves[0].id: 'support' is already an item or scale id"),
        ({"id": "care_values"}, "waves[0].id: 'care_values' is already an item or scale id"),
        ({"id": "W 2"}, "waves[0].id: expected an identifier"),
        ({"after_days": 0}, "waves[0].after_days: Input should be greater than or equal to 1"),
        ({"window_days": 0}, "waves[0].window_days: Input should be greater than or equal to 1"),
        ({"items": []}, "waves[0].items"),
        ({"items": ["nope"]}, "waves[0].items[0]: 'nope' is not an item"),
        ({"items": ["ideology"]}, "waves[0].items[0]: 'ideology' is a covariate item"),
        ({"items": ["comment"]}, "waves[0].items[0]: 'comment' is a covariate item"),
        ({"items": ["support", "support"]}, "waves[0].items[1]: 'support' is listed twice"),
    ],
)
def test_each_wave_problem_is_named_where_it_is(change, message):
    assert message in _problems([{**W2, **change}])


def test_waves_need_unique_ids_in_order_and_follow_up_needs_waves():
    text = _problems([W2, {**W2, "after_days": 3}])
    assert "waves[1].id: duplicate id 'w2' (also waves[0])" in text
    assert "waves[1].after_days: 3 days is not after the previous wave's 7" in text
    assert "follow_up: follow_up needs waves" in _problems(None, follow_up="code")
    assert "follow_up" in _problems([W2], follow_up="sms")


def test_the_window_opens_after_the_days_and_closes_after_its_length():
    done = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    waves = [Wave(**W2), Wave(id="w3", after_days=30, items=["support"], window_days=10)]
    span = window(waves[0], done)
    assert (span.opens, span.closes) == (done + timedelta(days=7), done + timedelta(days=14))
    assert [span.state(span.opens - timedelta(seconds=1)), span.state(span.opens)] == [
        "early",
        "open",
    ]
    assert span.state(span.closes) == "closed"
    early = wave_visit(waves, done, set(), done + timedelta(days=1))
    assert early.kind == "early" and early.window.wave.id == "w2"
    assert wave_visit(waves, done, set(), done + timedelta(days=8)).kind == "open"
    # w2 answered: the link says when w3 opens; w2 missed: the same.
    later = wave_visit(waves, done, {"w2"}, done + timedelta(days=8))
    assert later.kind == "early" and later.window.wave.id == "w3"
    assert wave_visit(waves, done, set(), done + timedelta(days=20)).window.wave.id == "w3"
    assert wave_visit(waves, done, {"w2", "w3"}, done + timedelta(days=8)).kind == "done"
    assert wave_visit(waves, done, {"w2"}, done + timedelta(days=41)).kind == "closed"
    assert next_window(waves, done, done + timedelta(days=50)) is None
