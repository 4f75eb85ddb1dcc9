"""Database layer: typed models, engine/session set-up, packaged Alembic migrations."""

from __future__ import annotations

import importlib
import pkgutil

import sqlalchemy as sa

_NOT_MODELS = {"migrations", "migrate", "session"}


def full_metadata() -> sa.MetaData:
    """The metadata of every model module in framelab.db (one schema, one Alembic history).

    Other areas add model modules on the same DeclarativeBase (for example
    framelab.db.accounts); importing them all here keeps migrations and the
    autogenerate comparison complete without a central list to maintain.
    """
    from framelab.db.models import Base

    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_MODELS and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return Base.metadata
