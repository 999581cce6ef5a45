"""Migrations: they build exactly the models' schema, and newer schemas are refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from gameday.adapters.db import Database
from gameday.adapters.db.engine import make_engine
from gameday.adapters.db.migrate import current_revision, head_revision, upgrade
from gameday.adapters.db.models import Base
from gameday.domain.errors import Unavailable


def test_models_and_migrations_agree(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()

    assert diff == []


def test_upgrade_from_empty_reaches_head_and_is_idempotent(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)

    assert current_revision(engine) is None
    assert upgrade(engine) == (None, head_revision())
    assert upgrade(engine) == (head_revision(), head_revision())
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.parametrize("upgrade_on_open", [True, False])
def test_a_newer_schema_is_refused_with_a_clear_message(
    empty_db_url: str, upgrade_on_open: bool
) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()

    expected = (
        "database schema is at revision 9999_future, newer than this gameday "
        f"(knows up to {head_revision()}); upgrade gameday"
    )
    with pytest.raises(Unavailable) as caught:
        Database.open(empty_db_url, upgrade=upgrade_on_open)
    assert str(caught.value) == expected


def test_replicas_starting_together_migrate_once(empty_db_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    engines = [make_engine(empty_db_url) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(upgrade, engines))

    assert sorted(before or "" for before, _ in results) == ["", head_revision(), head_revision()]
    assert {after for _, after in results} == {head_revision()}
    for engine in engines:
        engine.dispose()
