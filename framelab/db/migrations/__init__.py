"""Alembic migrations for framelab's schema; run them with `framelab init-db`."""
