"""Migration s015 (page drafts) on a database created by the previous revision (s014),
per DECISIONS rule 11.

The previous revision's database is built by its own migrations (up to s014) and holds
a live study with one participant half-way through, on the pre page. After the upgrade
the `page_draft` table exists; the participant's failed post keeps a draft that their
next showing of the page brings back, and they resume and finish, the draft gone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from framelab.db.drafts import PageDraft
from framelab.db.migrate import alembic_config, current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from framelab.services.flow import current_page, submit_step
from tests.db.releases import finish_half_way, release_with_one_in_progress
from tests.factories import make_study

BEFORE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SPEC = make_study(target_n=50)
CODE = "resume-me-123456"


def _previous_revision(url: str) -> None:
    release_with_one_in_progress(url, "s014", SPEC, CODE, BEFORE)


def _drafts(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(PageDraft.participant_id, PageDraft.step))]


def test_s015_adds_page_drafts_and_a_half_way_participant_keeps_one_and_finishes(database_url):
    _previous_revision(database_url)
    assert upgrade(database_url, "s015") == "s015"
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == "s015"
        columns = {c["name"] for c in sa.inspect(engine).get_columns("page_draft")}
        assert columns == {"participant_id", "step", "answers", "saved_at"}
        assert sa.inspect(engine).get_pk_constraint("page_draft")["constrained_columns"] == [
            "participant_id",
            "step",
        ]
        # Later revisions (if any) go on top; the services below are the head's.
        assert upgrade(database_url) == head_revision()
        with make_session_factory(engine)() as session:
            assert current_page(session, CODE, now=AFTER).draft is None
            failed = submit_step(session, CODE, "pre", {"ideology": "2"}, now=AFTER)
            assert not failed.ok and failed.errors
            assert _drafts(engine) == [(1, "pre")]
            later = AFTER + timedelta(days=2)
            assert current_page(session, CODE, now=later).draft == {"ideology": "2"}
            finish_half_way(session, SPEC, CODE, later)
        assert _drafts(engine) == []
        with engine.connect() as conn:
            status = conn.scalar(sa.text("SELECT status FROM participant WHERE id = 1"))
        assert status == "completed"
    finally:
        engine.dispose()


def test_s015_downgrades_to_s014_without_the_table(database_url):
    upgrade(database_url, "s015")
    command.downgrade(alembic_config(database_url), "s014")
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == "s014"
        assert "page_draft" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
