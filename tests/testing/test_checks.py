"""The integrity checker used by the load and crash tests must catch what it claims to catch.

Participants walk the example study through the real services; then the database is
damaged on purpose (an answer deleted or altered, a slot counter moved, a log row's arm
changed) and the checker must name each problem. A checker that passed these would make
the load and crash tests meaningless.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from framelab.db.session import make_engine, make_session_factory
from framelab.domain.steps import steps_for
from framelab.domain.study import load_study_file
from framelab.services.flow import submit_step
from framelab.testing.checks import check_database, unfinished_codes
from framelab.testing.loadgen import AckedAnswer
from framelab.testing.server import EXAMPLE_STUDY, prepare_database
from tests.factories import valid_answers
from tests.participants import enrol

SLUG = "torture-ban"
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


@pytest.fixture
def walked(database_url):
    """A database where 5 participants completed the example study; their acked answers."""
    prepare_database(database_url)
    spec = load_study_file(EXAMPLE_STUDY)
    engine = make_engine(database_url)
    acked: list[AckedAnswer] = []
    with make_session_factory(engine)() as session:
        for i in range(5):
            code = enrol(session, SLUG, language="en", source=None, panel=None, now=NOW).code
            acked.append(AckedAnswer(code, "consent", "consent", "yes"))  # with the enrolment
            for step in steps_for(spec)[1:]:  # after the consent
                if step == "debrief":
                    break
                form = {} if step == "message" else valid_answers(spec, step)
                result = submit_step(session, code, step, form, now=NOW)
                assert result.errors in ({}, None), (i, step, result.errors)
                acked += [AckedAnswer(code, step, item, value) for item, value in form.items()]
    yield database_url, acked, engine
    engine.dispose()


def _execute(engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql))


def _drop_log_guard(engine) -> None:
    statements = {
        "sqlite": ["DROP TRIGGER assignment_log_no_update"],
        "postgresql": ["DROP TRIGGER assignment_log_append_only ON assignment_log"],
    }[engine.dialect.name]
    for statement in statements:
        _execute(engine, statement)


def test_checker_finds_nothing_wrong_after_a_clean_walk(walked):
    url, acked, _ = walked
    report = check_database(url, SLUG, acked)
    assert report.problems() == []
    assert report.participants == report.completed == report.assigned == 5
    assert report.acked_checked == len([a for a in acked if a.step != "consent"]) > 5 * 10
    assert unfinished_codes(url, SLUG) == []


def test_checker_names_each_kind_of_damage(walked):
    url, acked, engine = walked
    # A deleted answer is lost.
    _execute(engine, "DELETE FROM response WHERE id = (SELECT MIN(id) FROM response)")
    report = check_database(url, SLUG, acked)
    assert len(report.lost) == 1
    assert report.problems() == [f"lost: {report.lost[0]}"]
    # An altered answer is reported with what was sent and what is stored.
    _execute(
        engine,
        "UPDATE response SET value_int = value_int + 100 "
        "WHERE id = (SELECT MAX(id) FROM response WHERE value_int IS NOT NULL)",
    )
    report = check_database(url, SLUG, acked)
    assert len(report.wrong_value) == 1
    assert "stored '" in report.wrong_value[0]
    # A slot counter that skipped a position means a lost arm slot.
    _execute(
        engine,
        "UPDATE block_state SET next_position = next_position + 1 "
        "WHERE stratum = (SELECT MIN(stratum) FROM block_state)",
    )
    report = check_database(url, SLUG, acked)
    assert len(report.block_state) == 1
    assert "BlockState.next_position" in report.block_state[0]
    # A logged arm that the seed does not give (and that the participant row contradicts),
    # written by someone who first removed the database's append-only guard (s009).
    _drop_log_guard(engine)
    _execute(
        engine,
        "UPDATE assignment_log SET arm = CASE WHEN arm = 'control' THEN 'care' ELSE 'control' END "
        "WHERE id = (SELECT MIN(id) FROM assignment_log)",
    )
    report = check_database(url, SLUG, acked)
    assert len(report.replay) == 1
    assert any("but the log says" in line for line in report.block_state)
