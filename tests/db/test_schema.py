"""The migrated schema, SQLite pragmas, transaction mode and model invariants."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from framelab.db import full_metadata
from framelab.db import models as m
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory

TABLES = {
    "study",
    "study_version",
    "participant",
    "response",
    "page_visit",
    "assignment_log",
    "block_state",
    "alembic_version",
}
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


@pytest.fixture
def migrated(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _study_rows(session) -> m.Participant:
    study = m.Study(slug="demo", title="Demo", status="live", created_at=NOW, updated_at=NOW)
    version = m.StudyVersion(
        study=study, version=1, spec_json="{}", spec_hash="h" * 64, created_at=NOW
    )
    session.add_all([study, version])
    session.flush()
    person = m.Participant(
        study_id=study.id,
        study_version_id=version.id,
        spec_hash=version.spec_hash,
        language="en",
        started_at=NOW,
    )
    session.add(person)
    session.flush()
    return person


def test_migrations_create_every_table_and_match_the_models(migrated, database_url):
    # Other areas may add tables (studio accounts); ours must all be there.
    assert set(sa.inspect(migrated).get_table_names()) >= TABLES
    with migrated.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), full_metadata()
        )
    assert diff == []
    assert current_revision(migrated) == head_revision()
    # A second run is a no-op, not an error.
    assert upgrade(database_url) == head_revision()


def test_no_column_can_hold_an_ip_address_or_user_agent(migrated):
    inspector = sa.inspect(migrated)
    names = {c["name"] for t in inspector.get_table_names() for c in inspector.get_columns(t)}
    assert not {n for n in names if "ip" in n.split("_") or "agent" in n or "address" in n}


def test_sqlite_connections_use_wal_foreign_keys_busy_timeout_and_normal_sync(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    with engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 30_000
        assert pragma("synchronous") == 1  # NORMAL
    engine.dispose()


def test_sqlite_transactions_begin_immediate_so_a_second_writer_waits(tmp_path):
    path = tmp_path / "lock.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    m.Base.metadata.create_all(engine)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with make_session_factory(engine)() as session:
        session.execute(sa.select(m.Study)).all()  # a read only, yet the write lock is taken
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        session.rollback()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        # Read-only work may opt out of the write lock.
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        session.execute(sa.select(m.Study)).all()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    other.close()
    engine.dispose()


def test_timestamps_come_back_as_utc_aware_datetimes(migrated):
    factory = make_session_factory(migrated)
    plus_two = timezone(timedelta(hours=2))
    with factory() as session:
        person = _study_rows(session)
        person.consented_at = datetime(2026, 11, 25, 22, 30, tzinfo=plus_two)
        session.commit()
        pid = person.id
    with factory() as session:
        person = session.get(m.Participant, pid)
        assert person.consented_at == datetime(2026, 11, 25, 20, 30, tzinfo=UTC)
        assert person.consented_at.utcoffset() == timedelta(0)
        assert person.started_at == NOW


def test_panel_hash_is_unique_per_study_while_many_participants_have_none(migrated):
    factory = make_session_factory(migrated)
    with factory() as session:
        first = _study_rows(session)
        for _ in range(2):
            session.add(
                m.Participant(
                    study_id=first.study_id,
                    study_version_id=first.study_version_id,
                    spec_hash="h" * 64,
                    language="en",
                    started_at=NOW,
                )
            )
        session.flush()
        first.panel_hash = "p" * 64
        session.add(
            m.Participant(
                study_id=first.study_id,
                study_version_id=first.study_version_id,
                spec_hash="h" * 64,
                language="en",
                started_at=NOW,
                panel_hash="p" * 64,
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()


def test_assignment_log_rows_cannot_be_updated_or_deleted(migrated):
    factory = make_session_factory(migrated)
    with factory() as session:
        person = _study_rows(session)
        row = m.AssignmentLog(
            study_id=person.study_id,
            arm="care",
            stratum="left",
            position=0,
            block_index=0,
            position_in_block=0,
            seed=1,
            spec_hash="h" * 64,
        )
        session.add(row)
        session.commit()
        row.arm = "control"
        with pytest.raises(ValueError, match=r"assignment_log: row \d+ is append-only"):
            session.flush()
        session.rollback()
        session.delete(row)
        with pytest.raises(ValueError, match="append-only"):
            session.flush()


def test_status_check_constraint_rejects_unknown_participant_status(migrated):
    factory = make_session_factory(migrated)
    with factory() as session:
        person = _study_rows(session)
        person.status = "finished"
        with pytest.raises(IntegrityError):
            session.flush()
