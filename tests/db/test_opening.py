"""Databases that cannot be opened give one clear line, whichever way they fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.adapters.db import Database
from gameday.adapters.db.engine import make_engine
from gameday.adapters.db.migrate import head_revision
from gameday.domain.errors import Unavailable


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", r"^bad database URL 'not a url'"),
        ("postgres ql://gd:s3cret@db/x", r"^bad database URL 'postgres ql://\*\*\*@db/x'"),
        ("mysql://root@127.0.0.1/x", r"^unsupported database mysql://root@127\.0\.0\.1/x"),
        (
            "postgresql+psycopg://gameday:s3cret@127.0.0.1:1/gameday",
            r"^cannot open database postgresql\+psycopg://gameday:\*\*\*@127\.0\.0\.1:1/gameday: ",
        ),
    ],
)
def test_unusable_urls_are_one_line_errors(url: str, expected: str) -> None:
    with pytest.raises(Unavailable, match=expected) as caught:
        Database.open(url)
    assert "\n" not in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_missing_sqlite_folder_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'gameday.db'}"
    with pytest.raises(Unavailable, match=r"^cannot open database sqlite:///.*nowhere.*: unable"):
        Database.open(url)
    assert not (tmp_path / "nowhere").exists()


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_sqlite_is_tuned_on_every_connection(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'g.db'}")
    with db.engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    db.close()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000}


def test_opening_migrates_a_new_database(empty_db_url: str) -> None:
    db = Database.open(empty_db_url)
    assert db.revision() == head_revision()
    db.close()


def test_sqlite_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tests.db.factories import new_run

    db = Database.open(f"sqlite:///{tmp_path / 'g.db'}")
    run = db.runs.create(
        new_run(planned_at=datetime(2026, 3, 2, tzinfo=UTC)), actor="a", reason="r"
    )
    with db.engine.begin() as writer:  # holds the write lock (BEGIN IMMEDIATE)
        writer.exec_driver_sql("UPDATE runs SET runbook = 'changing' WHERE id = 1")
        seen = db.runs.get(run.id)  # a second connection, reading the last commit
    db.close()
    assert seen.runbook == "bookinfo-reviews-latency"


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_a_server_going_away_mid_use_is_one_line(database: Database) -> None:
    from sqlalchemy import text

    database.runs.list_runs()  # a pooled connection now exists
    base = database.engine.url.set(query={}).render_as_string(hide_password=False)
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": database.engine.url.query["application_name"]},
        ).scalar_one()
    admin.dispose()
    assert killed >= 1

    with pytest.raises(Unavailable, match=r"^database postgresql\+psycopg://.* failed: ") as caught:
        database.runs.list_runs()
    assert "\n" not in str(caught.value)
    assert database.runs.list_runs() == []  # the pool recovers with a fresh connection
