"""One SQLAlchemy session per request, closed (and so rolled back if uncommitted) on teardown.

Views pass `db_session()` to a service; services own the transaction.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from framelab.db.session import make_engine, make_session_factory

EXTENSION_KEY = "framelab.db"
ENGINE_KEY = "framelab.engine"


def init_app(app: Flask) -> None:
    """Create the engine for DATABASE_URL and close each request's session on teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[ENGINE_KEY] = engine
    app.extensions[EXTENSION_KEY] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)


def db_engine() -> Engine:
    """The app's engine, for services that run direct work and need no session."""
    return current_app.extensions[ENGINE_KEY]


def db_session() -> Session:
    """This request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION_KEY]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
