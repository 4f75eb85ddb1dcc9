"""Migration s014 (follow-up waves' tables) on a database created by the previous
release (s013), per DECISIONS rule 11.

The previous release's database is built by its own migrations (up to s013) and holds
a live study with follow-up waves and one participant half-way through, before
assignment. After the upgrade the three wave tables exist; the participant resumes,
finishes, and is given a follow-up link on the upgraded database.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from tests.db.releases import finish_half_way, release_with_one_in_progress
from tests.factories import make_study

BEFORE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
WAVES = [{"id": "w2", "after_days": 7, "items": ["support"], "window_days": 7}]
SPEC = make_study(target_n=50, waves=WAVES)
CODE = "resume-me-123456"


def test_s014_adds_the_wave_tables_and_participants_still_finish(database_url):
    release_with_one_in_progress(database_url, "s013", SPEC, CODE, BEFORE)
    assert upgrade(database_url, "s014") == "s014"
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == "s014"
        tables = set(sa.inspect(engine).get_table_names())
        assert {"wave_link", "wave_response", "wave_return"} <= tables
        # Later revisions (if any) go on top; the services below are the head's.
        assert upgrade(database_url) == head_revision()
        factory = make_session_factory(engine)
        with factory() as session:
            finish_half_way(session, SPEC, CODE, AFTER)
            session.rollback()
        with engine.connect() as conn:
            status = conn.scalar(sa.text("SELECT status FROM participant WHERE id = 1"))
            token = conn.scalar(sa.text("SELECT token FROM wave_link WHERE participant_id = 1"))
        assert status == "completed"
        assert token is not None and len(token) >= 22  # at least 128 bits
    finally:
        engine.dispose()


def test_s014_downgrades_to_s013_without_the_wave_tables(database_url):
    from alembic import command

    from framelab.db.migrate import alembic_config

    upgrade(database_url, "s014")
    command.downgrade(alembic_config(database_url), "s013")
    engine = make_engine(database_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert not {"wave_link", "wave_response", "wave_return"} & tables
    finally:
        engine.dispose()
