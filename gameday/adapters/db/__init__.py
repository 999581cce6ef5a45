"""Persistence on SQLAlchemy 2 (SQLite or PostgreSQL) with Alembic migrations."""

from gameday.adapters.db.database import Database

__all__ = ["Database"]
