"""The screener, quota and panel-outcome pages through the Flask client (issue 21)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from framelab.db.models import AssignmentLog, Participant
from framelab.testing.forms import page_step
from tests.factories import small_study, valid_answers
from tests.web.conftest import make_app
from tests.web.walker import Walker

CC = "https://app.prolific.com/submissions/complete?cc="
SPEC = small_study(
    screener={"items": ["ideology"], "screen_out": {"item": "ideology", "in": [3]}},
    quota={"ideology": {"left": 1}},
    panel={
        "name": "prolific",
        "outcomes": {
            "completed": {"code": "C1DONE", "redirect": CC + "C1DONE"},
            "screened_out": {"code": "C2SCRN", "redirect": CC + "C2SCRN"},
            "over_quota": {"code": "C3FULL", "redirect": CC + "C3FULL"},
            "consent_refused": {"code": "C4NOPE", "redirect": CC + "C4NOPE"},
        },
    },
)


@pytest.fixture
def app(database_url, clock):
    """The app with SPEC live, on each configured database; its engine disposed after."""
    application = make_app(database_url, clock=clock, studies=(SPEC,))
    yield application
    application.extensions["framelab.engine"].dispose()


def _count(app, model):
    with app.extensions["framelab.db"]() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def _walk(app, clock, ideology: str) -> Walker:
    """A participant through the pages until one without a form (debrief or a terminal page)."""
    walker = Walker(app.test_client(), SPEC, clock)
    walker.consent()
    while True:
        walker.page()
        step = page_step(walker.last)
        if step is None or step == "debrief":
            return walker
        answers = valid_answers(
            SPEC, step, **({"ideology": ideology} if step in ("screener", "pre") else {})
        )
        walker.wait(20)
        assert walker.post(step, answers).status_code == 302


def test_screened_out_gets_a_polite_page_with_the_panel_return_after_it_is_saved(app, clock):
    walker = _walk(app, clock, "3")
    page = walker.last
    assert "Thank you for your interest" in page and "other circumstances than yours" in page
    assert "C2SCRN" in page and f'href="{CC}C2SCRN"' in page and "C1DONE" not in page
    with app.extensions["framelab.db"]() as session:
        row = session.scalars(sa.select(Participant)).one()
        assert (row.status, row.step, row.arm) == ("screened_out", "ineligible", None)
    assert _count(app, AssignmentLog) == 0


def test_a_full_cell_shows_the_over_quota_page_and_the_completed_get_their_code(app, clock):
    first = _walk(app, clock, "1")
    assert "C1DONE" in first.last and f'href="{CC}C1DONE"' in first.last
    late = _walk(app, clock, "2")
    assert "all the participants it needs from people like you" in late.last
    assert "C3FULL" in late.last and f'href="{CC}C3FULL"' in late.last
    assert _count(app, AssignmentLog) == 1


def test_a_refused_consent_gets_its_return_code(app, clock):
    walker = Walker(app.test_client(), SPEC, clock)
    walker.consent("no")
    page = walker.page().get_data(as_text=True)
    assert "You chose not to take part" in page
    assert "C4NOPE" in page and f'href="{CC}C4NOPE"' in page


def test_the_screener_page_comes_first_and_hostile_input_is_refused_politely(app, clock):
    walker = Walker(app.test_client(), SPEC, clock)
    walker.consent()
    walker.page()
    assert page_step(walker.last) == "screener" and "Left or right?" in walker.last
    for bad in ("9", "-1", "1 OR 1=1", "x" * 5000, "3\x00"):
        response = walker.post("screener", {"ideology": bad})
        assert response.status_code in (200, 400, 422), response.status_code
        walker.page()
        assert page_step(walker.last) == "screener"
    # Nothing was written for them: no screen-out, no assignment.
    with app.extensions["framelab.db"]() as session:
        row = session.scalars(sa.select(Participant)).one()
        assert (row.status, row.step) == ("started", "screener")


def test_the_panel_codes_of_a_spanish_participant_come_with_spanish_words(app, clock):
    walker = Walker(app.test_client(), SPEC, clock)
    walker.consent(query="?lang=es")
    walker.page()
    walker.post("screener", {"ideology": "3"})
    page = walker.page().get_data(as_text=True)
    assert "C2SCRN" in page and 'lang="es"' in page
    assert "Thank you for your interest" not in page


def test_rehearsal_bots_take_the_screener_and_some_are_turned_away(tmp_path):
    from framelab.simulate import run_simulation

    url = f"sqlite:///{tmp_path / 'sim.sqlite'}"
    make_app(url, studies=(SPEC,)).extensions["framelab.engine"].dispose()
    config = {"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True}
    summary = run_simulation(SPEC, 40, effects={}, seed=5, app_config=config, jobs=1)
    assert summary.started == 40
    assert summary.screened_out > 0 and summary.completed > 0
    assert summary.completed + summary.dropped_out + summary.screened_out == 40
    assert summary.completed <= sum(summary.arms.values()) <= 40 - summary.screened_out
