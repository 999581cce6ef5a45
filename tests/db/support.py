"""Database fixtures for any test that needs a real one: SQLite and PostgreSQL.

`db_url` is parametrised over both databases and yields the URL of a migrated, empty
database for each test. SQLite: a copy of a template file migrated once per session.
PostgreSQL: a schema of its own per session (search_path in the URL), migrated once and
truncated before each test. An unreachable PostgreSQL fails the tests, it never skips them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from gameday.adapters.db import Database
from gameday.adapters.db.engine import make_engine
from gameday.adapters.db.migrate import upgrade
from gameday.adapters.db.models import Base
from gameday.domain.clock import FixedClock

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def postgres_base_url() -> str:
    """The test PostgreSQL (GAMEDAY_TEST_DATABASE_URL or the local default)."""
    return os.environ.get("GAMEDAY_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def with_search_path(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema`, and the schema's name as
    application_name (so leftover connections can be found and closed before dropping it)."""
    parsed = make_url(url).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    return parsed.render_as_string(hide_password=False)


class PostgresSchemas:
    """Creates and drops throwaway schemas in the test PostgreSQL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            self.engine.dispose()
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            pytest.fail(
                f"PostgreSQL for the data-layer tests is unreachable at "
                f"{make_url(base_url).render_as_string()}: {reason}. Start it or point "
                "GAMEDAY_TEST_DATABASE_URL at one; these tests do not skip.",
                pytrace=False,
            )

    def sweep(self) -> None:
        """Drop schemas left by test sessions that were killed before their teardown: the
        process that made them is gone and nothing is connected to them."""
        with self.engine.connect() as conn:
            names = conn.execute(
                text(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gd\\_test\\_%' "
                    "AND nspname NOT IN (SELECT application_name FROM pg_stat_activity)"
                )
            ).scalars()
            stale = [n for n in names if not _alive(int(n.split("_")[2]))]
        for name in stale:
            self.drop(name)

    def create(self) -> tuple[str, str]:
        """A new empty schema: (name, URL whose search_path is that schema)."""
        name = f"gd_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        return name, with_search_path(self.base_url, name)

    def drop(self, name: str) -> None:
        """Drop a schema and everything in it, closing connections a test left open."""
        with self.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text("SET lock_timeout = '30s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()


def migrated_claiming(url: str, revision: str) -> Engine:
    """An engine on the empty database `url`, migrated to head, whose alembic_version then
    claims `revision` (a schema newer than, or unknown to, this gameday). Dispose it."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    return engine


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[PostgresSchemas]:
    """Access to the test PostgreSQL; fails (never skips) when it is unreachable."""
    schemas = PostgresSchemas(postgres_base_url())
    schemas.sweep()
    yield schemas
    schemas.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "gameday.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name("gameday.db-wal").exists()
    return path


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_schemas: PostgresSchemas) -> Iterator[tuple[str, Engine]]:
    name, url = postgres_schemas.create()
    # pre-ping: a test may terminate connections to its schema (server-gone tests).
    engine = make_engine(url, pool_pre_ping=True)
    upgrade(engine)
    yield url, engine
    engine.dispose()
    postgres_schemas.drop(name)


def _empty_postgres(engine: Engine) -> None:
    # Row-by-row DELETE with triggers off (replica role): faster than TRUNCATE for small
    # tables, and the append-only trigger stays in place for the tests that probe it.
    with engine.begin() as conn:
        # Fail loudly rather than hang if an earlier test left a transaction open.
        conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
            if "id" in table.c and table.c.id.autoincrement is True:
                conn.execute(text(f"ALTER SEQUENCE {table.name}_id_seq RESTART"))


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on ("sqlite" or "postgresql")."""
    return str(request.param)


@pytest.fixture
def db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a migrated, empty database of this test's backend."""
    if db_backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        target = tmp_path / "gameday.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url, engine = request.getfixturevalue("_postgres_migrated")
    _empty_postgres(engine)
    return str(url)


@pytest.fixture
def empty_db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a database with no schema at all (for migration tests)."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
    name, url = schemas.create()
    yield url
    schemas.drop(name)


@pytest.fixture
def db_clock() -> FixedClock:
    """The clock the `database` fixture's repositories read."""
    return FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


@pytest.fixture
def database(db_url: str, db_clock: FixedClock) -> Iterator[Database]:
    """A ready Database (runs, control, outbox) on this test's backend and clock."""
    db = Database.open(db_url, clock=db_clock, upgrade=False)
    yield db
    db.close()
