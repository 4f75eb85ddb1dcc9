"""One SQLAlchemy session per request, closed (and so rolled back if uncommitted) on teardown.

Views pass `db_session()` to a service; services own the transaction. A session is cheap
but not free (its identity map, events and close): the participant pages use theirs only
to find the engine, so a session that ends its request clean (no transaction, no objects,
no info) waits for the thread's next request instead of being made again; one that was
used is closed first, as before.
"""

from __future__ import annotations

import threading
import weakref

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


# Per thread: an app's session factory -> a clean session for the thread's next request.
_idle = threading.local()


def _idle_sessions() -> weakref.WeakKeyDictionary:
    if not hasattr(_idle, "sessions"):
        _idle.sessions = weakref.WeakKeyDictionary()
    return _idle.sessions


def db_session() -> Session:
    """This request's session, opened on first use."""
    if "db_session" not in g:
        factory = current_app.extensions[EXTENSION_KEY]
        session = _idle_sessions().pop(factory, None)
        g.db_session = session if session is not None else factory()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    if session.in_transaction() or session.identity_map or session.new or session.deleted:
        session.close()
    if not session.info:  # nothing a service left behind: as good as a new session
        _idle_sessions()[current_app.extensions[EXTENSION_KEY]] = session
