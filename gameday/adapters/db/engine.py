"""Engines for SQLite and PostgreSQL, and turning "cannot open" into a one-line error."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)

from gameday.domain.errors import Unavailable

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option marking a connection that only reads (see rows.reading).
READ_ONLY = "gameday_read_only"


def safe_url(url: str | URL) -> str:
    """The URL as text with any password hidden (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"//[^/@]*@", "//***@", str(url))


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout.

    Raises Unavailable for a URL SQLAlchemy cannot use (unknown driver, malformed text).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise Unavailable(
            f"bad database URL {safe_url(url)!r}: expected e.g. sqlite:///path/gameday.db "
            "or postgresql+psycopg://user@host/db"
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise Unavailable(
            f"unsupported database {safe_url(parsed)}: use sqlite:/// or postgresql+psycopg://"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise Unavailable(f"cannot use database {safe_url(parsed)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event start transactions, so that BEGIN IMMEDIATE below
        # is what actually runs (pysqlite would otherwise begin lazily on the first write).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a read-then-write transaction (a
        # transition checks the state, then updates it) cannot fail half-way with
        # SQLITE_BUSY, and writers queue on the busy timeout instead.
        # Reads (marked by rows.reading) take a deferred BEGIN and read a WAL snapshot.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def check_connection(engine: Engine) -> None:
    """Open one connection or raise Unavailable with a one-line reason."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        raise Unavailable(
            f"cannot open database {safe_url(engine.url)}: {first_line(exc)}"
        ) from exc


def first_line(exc: BaseException) -> str:
    """The first meaningful line of a driver error (no SQL, no traceback)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    return lines[0] if lines else type(orig).__name__


P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C")


def unavailable_on_failure(engine_of: Callable[[Any], Engine]) -> Callable[[type[C]], type[C]]:
    """Class decorator: a lost connection, a database locked past the busy timeout or a
    server going away becomes Unavailable with one line, in every public method."""

    def decorate(cls: type[C]) -> type[C]:
        for name, member in list(vars(cls).items()):
            if callable(member) and not name.startswith("_"):
                setattr(cls, name, _translated(member, engine_of))
        return cls

    return decorate


def _translated(method: Callable[P, T], engine_of: Callable[[Any], Engine]) -> Callable[P, T]:
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            url = safe_url(engine_of(args[0]).url)
            raise Unavailable(f"database {url} failed: {first_line(exc)}") from exc

    return wrapper
