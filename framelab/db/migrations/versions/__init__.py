"""Alembic revision scripts (applied in order by framelab.db.migrate.upgrade)."""
