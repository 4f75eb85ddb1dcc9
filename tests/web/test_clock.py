"""One clock (framelab.clock): participant and studio requests read the app's clock."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from framelab import clock
from framelab.db.accounts import User
from framelab.db.models import Participant
from framelab.services import accounts
from framelab.simulate import VirtualClock
from tests.factories import make_study
from tests.web.conftest import make_app
from tests.web.walker import Walker

FIXED = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def test_a_participant_request_and_a_studio_request_both_see_the_apps_fixed_time(tmp_path):
    app = make_app(
        f"sqlite:///{tmp_path / 'clock.sqlite'}",
        clock=VirtualClock(FIXED),
        WTF_CSRF_ENABLED=False,
    )
    with app.extensions["framelab.db"]() as session:
        accounts.create_user(
            session, "owner@example.org", PASSWORD, now=datetime(2030, 1, 1, tzinfo=UTC)
        )
    Walker(app.test_client(), make_study()).consent()
    studio = app.test_client()
    signed_in = studio.post(
        "/studio/login", data={"email": "owner@example.org", "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    with app.extensions["framelab.db"]() as session:
        started = session.scalars(sa.select(Participant.started_at)).one()
        last_login = session.scalars(sa.select(User.last_login_at)).one()
    assert started == FIXED  # the participant's consent, stamped by the participant views
    assert last_login == FIXED  # the sign-in, stamped by the studio views
    assert clock.now() > datetime(2026, 1, 1, tzinfo=UTC) and clock.now() != FIXED  # outside
    app.extensions["framelab.engine"].dispose()


def test_use_installs_a_clock_for_a_block_and_restores_the_system_clock():
    with clock.use(lambda: FIXED):
        assert clock.now() == FIXED
        assert clock.system_now() != FIXED
    assert clock.now() != FIXED
    assert clock.now().tzinfo is UTC
