"""The quick schema check: it agrees with Alembic, and an up-to-date open skips Alembic."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from gameday.adapters.db.engine import make_engine
from gameday.adapters.db.migrate import head_revision, upgrade
from gameday.adapters.db.schema_version import HEAD_REVISION, is_current, stored_revisions

# Opens the database in a fresh interpreter and prints which of the heavy modules it loaded.
_OPEN_AND_LIST = """
import sys
from gameday.adapters.db import Database
Database.open(sys.argv[1], upgrade=sys.argv[2] == "upgrade").close()
print(",".join(sorted(m for m in ("alembic", "gameday.adapters.db.migrate") if m in sys.modules)))
"""


def _modules_loaded_by_open(url: str, mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_AND_LIST, url, mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_recorded_head_is_alembics_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_the_stored_revision_is_read_as_alembic_wrote_it(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        before = stored_revisions(conn)
    current_before = is_current(engine)
    upgrade(engine)
    with engine.connect() as conn:
        after = stored_revisions(conn)
    current_after = is_current(engine)
    engine.dispose()

    assert (before, current_before) == ((), False)
    assert (after, current_after) == ((head_revision(),), True)


@pytest.mark.parametrize("revision", ["9999_future", "0000_older"])
def test_any_other_revision_is_not_current(empty_db_url: str, revision: str) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    current = is_current(engine)
    engine.dispose()

    assert current is False


@pytest.mark.parametrize("mode", ["upgrade", "check"])
def test_opening_an_up_to_date_database_does_not_load_alembic(db_url: str, mode: str) -> None:
    assert _modules_loaded_by_open(db_url, mode) == ""


def test_opening_an_empty_database_still_migrates_through_alembic(empty_db_url: str) -> None:
    assert _modules_loaded_by_open(empty_db_url, "upgrade") == "alembic,gameday.adapters.db.migrate"
    engine = make_engine(empty_db_url)
    current = is_current(engine)
    engine.dispose()
    assert current is True
