"""A request's session: made on first use, closed when used, reused by the thread when clean.

The participant pages use their session only to find the engine; making and closing one
per request was a measurable share of a page (issue 18's flow benchmark). A session a
request used (a transaction, loaded objects) is closed before the thread's next request
gets it, so nothing of one request is seen by the next.
"""

from __future__ import annotations

import sqlalchemy as sa

from framelab.db.models import Study
from framelab.web.database import db_session
from tests.web.conftest import make_app


def test_a_clean_session_is_reused_and_a_used_one_is_closed_first(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'sessions.sqlite'}")
    with app.test_request_context("/"):
        first = db_session()
        assert not first.in_transaction()
    with app.test_request_context("/"):
        again = db_session()
        assert again is first  # clean: kept for the thread's next request
        study = again.scalar(sa.select(Study))
        assert study is not None and again.in_transaction() and again.identity_map
    with app.test_request_context("/"):
        later = db_session()
        assert not later.in_transaction()  # the used session was closed before reuse
        assert not later.identity_map
    other = make_app(f"sqlite:///{tmp_path / 'other.sqlite'}")
    with other.test_request_context("/"):
        assert db_session() is not first  # one app's session never serves another app
        assert db_session().get_bind() is not first.get_bind()


def test_a_session_left_with_info_is_not_reused(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'sessions.sqlite'}")
    with app.test_request_context("/"):
        marked = db_session()
        marked.info["left behind"] = True
    with app.test_request_context("/"):
        assert db_session() is not marked
