"""The schema revision check every open does, without loading Alembic.

Loading Alembic and its migration scripts costs more than the rest of opening a database,
yet almost every open finds the schema already at the newest revision. So the revision is
read from `alembic_version` with plain SQLAlchemy and compared with `HEAD_REVISION`;
Alembic (`gameday.adapters.db.migrate`) is loaded only when the two differ.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, Select, column, inspect, select, table
from sqlalchemy.exc import DBAPIError

from gameday.adapters.db.engine import READ_ONLY, first_line, safe_url
from gameday.domain.errors import Unavailable

# The newest revision in migrations/versions/. A test checks it equals Alembic's own head,
# so a new migration cannot ship without updating it.
HEAD_REVISION = "0002"
VERSION_TABLE = "alembic_version"
_VERSIONS: Select[Any] = select(column("version_num")).select_from(table(VERSION_TABLE))


def stored_revisions(conn: Connection) -> tuple[str, ...]:
    """Every revision recorded in the version table (empty for an empty database)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return ()
    return tuple(sorted(conn.execute(_VERSIONS).scalars()))


def is_current(engine: Engine) -> bool:
    """True when the database is exactly at HEAD_REVISION (nothing to check or migrate).

    Raises Unavailable (one line) when the database cannot be read."""
    try:
        # A deferred BEGIN on SQLite: checking must not queue for the write lock.
        with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            return stored_revisions(conn) == (HEAD_REVISION,)
    except DBAPIError as exc:
        raise Unavailable(
            f"cannot read database {safe_url(engine.url)}: {first_line(exc)}"
        ) from exc
