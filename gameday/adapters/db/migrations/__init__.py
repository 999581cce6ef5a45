"""Alembic migrations shipped with the package (configured in code, no alembic.ini)."""
