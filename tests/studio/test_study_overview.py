"""services.study_overview: the overview page's figures in one call, after the target check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from framelab.services import campaigns, review, study_drafts, study_lifecycle
from framelab.services.study_overview import study_overview
from framelab.services.study_versions import get_study
from tests.factories import approve
from tests.studio.conftest import SLUG
from tests.studio.participants import complete_participant

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


def test_the_overview_holds_what_the_separate_services_say(session):
    page = study_overview(session, SLUG, now=T0)
    loaded = get_study(session, SLUG)
    assert (page.study.slug, page.study.spec_hash, page.study.status) == (
        SLUG,
        loaded.spec_hash,
        "draft",
    )
    assert page.lock == study_drafts.lock_state(session, SLUG)
    assert page.campaign == campaigns.campaign(session, loaded.id)
    assert page.review == review.review_state(session, SLUG)


def test_the_overview_of_a_study_that_reached_its_target_shows_it_closed(session):
    loaded = get_study(session, SLUG)
    study_drafts.update_study(
        session, SLUG, study_drafts.replace_sections(loaded.spec, {"target_n": 1}), now=T0
    )
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    complete_participant(session, SLUG, start=T0)
    session.rollback()
    page = study_overview(session, SLUG, now=T0)
    assert page.study.status == "closed"
    assert page.lock.participants == 1
