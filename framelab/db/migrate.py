"""Run the packaged Alembic migrations without an alembic.ini (works from an installed wheel)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from framelab.db.session import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic Config pointing at framelab's migrations and the given database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on the '%' of URL-encoded options.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of framelab."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> str:
    """Bring the database at `url` to `revision` (default head); harmless to repeat. Returns it."""
    engine = make_engine(url)
    try:
        config = alembic_config(url)
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite migrations in batch mode rebuild a table (copy, drop, rename). With
                # foreign keys on, dropping the old table would delete the rows that
                # reference it (ON DELETE CASCADE: a participant's answers, a member's
                # roles) or fail. Off for the migration only (the pragma is a no-op inside
                # a transaction, so it goes to the driver before BEGIN); the keys are
                # checked before the migration commits.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(
                            f"migration to {revision} left {len(broken)} rows whose foreign "
                            f"keys point nowhere (first: {tuple(broken[0])}); nothing was changed"
                        )
        return current_revision(engine) or ""
    finally:
        engine.dispose()
