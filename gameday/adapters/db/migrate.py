"""Applying the shipped Alembic migrations, and refusing schemas newer than this code."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError

from gameday.adapters.db.engine import first_line, safe_url
from gameday.domain.errors import Unavailable

SCRIPT_LOCATION = "gameday.adapters.db:migrations"
# pg_advisory_xact_lock key: replicas starting together migrate one after the other.
_MIGRATION_LOCK = 0x6A6D6461_79000001 & 0x7FFFFFFFFFFFFFFF


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config built in code; migrations run on `connection`."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations shipped")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise Unavailable(
            f"cannot read database {safe_url(engine.url)}: {first_line(exc)}"
        ) from exc


def _refuse_unknown(revision: str | None) -> None:
    if revision is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    try:
        known = script.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise Unavailable(
            f"database schema is at revision {revision}, newer than this gameday "
            f"(knows up to {head_revision()}); upgrade gameday"
        )


def check_schema(engine: Engine) -> None:
    """Raise Unavailable if the database is at a revision this code does not know."""
    _refuse_unknown(current_revision(engine))


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every pending migration; returns (revision before, revision after)."""
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            before = MigrationContext.configure(conn).get_current_revision()
            _refuse_unknown(before)
            command.upgrade(alembic_config(conn), "head")
    except DBAPIError as exc:
        raise Unavailable(
            f"cannot migrate database {safe_url(engine.url)}: {first_line(exc)}"
        ) from exc
    return before, head_revision()
