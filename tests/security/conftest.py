"""Security test helpers: whole-database dumps, CSRF tokens, the web and studio fixtures re-exported.

dump_database(app) -> str          # every row of every table, as text
table_rows(app) -> dict[str, list] # every table's rows (to compare before/after)
studio_app, client_for, studio_template   # from tests/studio/conftest.py
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from framelab.db import full_metadata
from tests.studio.conftest import client_for, studio_app, studio_template
from tests.web.conftest import app, client, clock

__all__ = [
    "app",
    "client",
    "client_for",
    "clock",
    "dump_database",
    "studio_app",
    "studio_template",
    "table_rows",
]


def table_rows(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every framelab table, sorted, keyed by table name."""
    engine = app.extensions["framelab.engine"]
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in full_metadata().sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def dump_database(app: Flask) -> str:
    """All rows of all tables as one text, for searching what is stored."""
    return "\n".join(f"{name}: {row!r}" for name, rows in table_rows(app).items() for row in rows)
