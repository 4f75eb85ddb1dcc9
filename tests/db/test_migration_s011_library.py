"""Migration s011 (the frame library's tables) on a database created by the previous
release (s010), per DECISIONS rule 11.

The previous release's database is built by its own migrations (up to s010) and holds
a live study with one participant half-way through, before assignment. After the
upgrade the three library tables exist and take a card of that study, and the
participant still resumes and finishes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from framelab.db.library import LibraryCard, LibraryEvent, LibraryPartner
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from tests.db.releases import finish_half_way, release_with_one_in_progress
from tests.factories import make_study

BEFORE = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SPEC = make_study(target_n=50)
CODE = "resume-me-123456"


def _previous_release(url: str) -> None:
    release_with_one_in_progress(url, "s010", SPEC, CODE, BEFORE)


def test_s011_adds_the_library_tables_and_participants_still_finish(database_url):
    _previous_release(database_url)
    assert upgrade(database_url, "s011") == "s011"
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == "s011"
        tables = set(sa.inspect(engine).get_table_names())
        assert {"library_partner", "library_card", "library_event"} <= tables
        # Later revisions (if any) go on top; the models below are the head's.
        assert upgrade(database_url) == head_revision()
        factory = make_session_factory(engine)
        with factory() as session:
            partner = LibraryPartner(
                name="Partner", key_id="a" * 64, public_key="k" * 44, added_at=AFTER, added_by="x"
            )
            session.add(partner)
            session.flush()
            session.add_all(
                [
                    LibraryCard(
                        card_hash="b" * 64,
                        origin="local",
                        study_id=1,
                        key_id="c" * 64,
                        envelope="{}",
                        added_at=AFTER,
                        added_by="owner@example.org",
                    ),
                    LibraryCard(
                        card_hash="d" * 64,
                        origin="imported",
                        partner_id=partner.id,
                        key_id=partner.key_id,
                        envelope="{}",
                        added_at=AFTER,
                        added_by="admin@example.org",
                    ),
                    LibraryEvent(at=AFTER, actor="admin", action="card_imported", detail=""),
                ]
            )
            session.commit()
            assert session.scalar(sa.select(sa.func.count()).select_from(LibraryCard)) == 2
            # The half-way participant resumes and finishes on the upgraded database.
            finish_half_way(session, SPEC, CODE, AFTER)
            session.rollback()
        with engine.connect() as conn:
            status = conn.scalar(sa.text("SELECT status FROM participant WHERE id = 1"))
        assert status == "completed"
    finally:
        engine.dispose()


def test_the_library_card_origin_is_checked_by_the_database(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            session.add(
                LibraryCard(
                    card_hash="e" * 64,
                    origin="borrowed",
                    key_id="f" * 64,
                    envelope="{}",
                    added_at=AFTER,
                    added_by="x",
                )
            )
            try:
                session.commit()
            except sa.exc.IntegrityError:
                session.rollback()
            else:
                raise AssertionError("origin 'borrowed' was accepted")
    finally:
        engine.dispose()
