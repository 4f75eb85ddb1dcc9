"""Migration s012 (channel links and invitation lists) on a database created by the previous
release (s011), per DECISIONS rule 11.

The previous release's database is built by its own migrations (up to s011) and holds a
live study with one participant half-way through, before assignment. After the upgrade
the participant has no channel, the new tables take a channel link and an invitation
list of that study, and the participant still resumes and finishes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.reach import ChannelLink, Recipient, RecipientList, RecipientListEntry
from framelab.db.session import make_engine, make_session_factory
from framelab.services import channel_links, recipient_lists
from framelab.services.pseudonyms import TESTING_KEY
from tests.db.releases import finish_half_way, release_with_one_in_progress
from tests.factories import make_study

BEFORE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SPEC = make_study(target_n=50)
CODE = "resume-me-123456"


def _previous_release(url: str) -> None:
    release_with_one_in_progress(url, "s011", SPEC, CODE, BEFORE, source="sms")


def test_s012_adds_the_reach_tables_and_participants_still_finish(database_url):
    _previous_release(database_url)
    assert upgrade(database_url, "s012") == "s012"
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == "s012"
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names())
        assert {"channel_link", "recipient_list", "recipient", "recipient_list_entry"} <= tables
        assert "channel_id" in {c["name"] for c in inspector.get_columns("participant")}
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT source, channel_id FROM participant")).one()
        assert tuple(row) == ("sms", None)  # an old `?src=` source stays; no channel
        # Later revisions (if any) go on top; the models and services below are the head's.
        assert upgrade(database_url) == head_revision()
        factory = make_session_factory(engine)
        with factory() as session:
            link = channel_links.create_channel_link(session, 1, kind="sms", name="", now=AFTER)
            upload = recipient_lists.upload_recipient_list(
                session,
                1,
                b"id\nm-1\nm-2\n",
                name="Members",
                column="id",
                key=TESTING_KEY,
                link_for="https://example.org/i/{}".format,
                now=AFTER,
            )
            assert upload.new == 2
            count = sa.select(sa.func.count())
            assert session.scalar(count.select_from(ChannelLink)) == 1
            assert session.scalar(count.select_from(RecipientList)) == 1
            assert session.scalar(count.select_from(Recipient)) == 2
            assert session.scalar(count.select_from(RecipientListEntry)) == 2
            assert link.code
            # The half-way participant resumes and finishes on the upgraded database.
            finish_half_way(session, SPEC, CODE, AFTER)
            session.rollback()
        with engine.connect() as conn:
            status = conn.scalar(sa.text("SELECT status FROM participant WHERE id = 1"))
        assert status == "completed"
    finally:
        engine.dispose()


def test_s012_downgrades_to_s011(database_url):
    from alembic import command

    from framelab.db.migrate import alembic_config

    _previous_release(database_url)
    upgrade(database_url, "s012")
    command.downgrade(alembic_config(database_url), "s011")
    engine = make_engine(database_url)
    try:
        inspector = sa.inspect(engine)
        assert "channel_link" not in inspector.get_table_names()
        assert "channel_id" not in {c["name"] for c in inspector.get_columns("participant")}
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT code FROM participant")) == CODE
    finally:
        engine.dispose()
