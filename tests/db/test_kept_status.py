"""On an SQLite file the status snapshot is kept in memory, and any commit ends it: from this
process, from another process, after a checkpoint, after a fork, and without WAL."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gameday.adapters.db import Database
from gameday.adapters.db import status as status_module
from gameday.adapters.db.status import KeptStatus, kept_status_for
from gameday.domain.runs import RunState
from tests.db.factories import make_run

ACTIVE = (RunState.RUNNING, RunState.AWAITING_APPROVAL)


@pytest.fixture
def db_backend() -> str:
    """Only SQLite files are kept (PostgreSQL reads every time)."""
    return "sqlite"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per snapshot actually read from the database."""
    seen: list[int] = []
    real = status_module.read_status

    def counted(engine: Engine, states: tuple[RunState, ...]) -> object:
        seen.append(1)
        return real(engine, states)

    monkeypatch.setattr(status_module, "read_status", counted)
    return seen


def _path(database: Database) -> str:
    path = database.engine.url.database
    assert path
    return path


def _commit_elsewhere(path: str, sql: str, *params: str) -> None:
    """Commit `sql` from another process, on a connection of its own."""
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute(sys.argv[2], sys.argv[3:]); c.commit()"
    )
    subprocess.run([sys.executable, "-c", code, path, sql, *params], check=True, timeout=60)


def test_an_unchanged_database_is_read_once(database: Database, reads: list[int]) -> None:
    make_run(database.runs, RunState.RUNNING)
    first = database.runs.status_snapshot(*ACTIVE)
    again = [database.runs.status_snapshot(*ACTIVE) for _ in range(5)]
    assert len(reads) == 1
    assert all(snap == first for snap in again)
    assert [r.state for r in first.runs] == [RunState.RUNNING]


def test_a_commit_of_this_process_is_seen_at_once(database: Database, reads: list[int]) -> None:
    assert database.runs.status_snapshot(*ACTIVE).kill_switch.engaged is False
    database.control.engage_kill_switch(actor="cli:alice", reason="incident")
    snap = database.runs.status_snapshot(*ACTIVE)
    assert (snap.kill_switch.engaged, snap.kill_switch.reason) == (True, "incident")
    assert len(reads) == 2


def test_a_commit_of_another_process_is_seen_at_once(database: Database, reads: list[int]) -> None:
    run = make_run(database.runs, RunState.RUNNING)
    assert [r.id for r in database.runs.status_snapshot(*ACTIVE).runs] == [run.id]
    _commit_elsewhere(
        _path(database), "UPDATE runs SET state = 'completed' WHERE id = ?", str(run.id)
    )
    assert database.runs.status_snapshot(*ACTIVE).runs == []
    assert len(reads) == 2


def test_a_rolled_back_transaction_keeps_the_snapshot(database: Database, reads: list[int]) -> None:
    database.runs.status_snapshot(*ACTIVE)
    conn = sqlite3.connect(_path(database), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM outbox")
    conn.execute("ROLLBACK")
    conn.close()
    database.runs.status_snapshot(*ACTIVE)
    assert len(reads) == 1


def test_a_commit_after_a_truncating_checkpoint_is_seen(
    database: Database, reads: list[int]
) -> None:
    database.runs.status_snapshot(*ACTIVE)
    _commit_elsewhere(_path(database), "PRAGMA wal_checkpoint(TRUNCATE)")
    database.runs.status_snapshot(*ACTIVE)  # the reset WAL may read again: never wrong
    database.control.engage_kill_switch(actor="cli:alice", reason="after checkpoint")
    assert database.runs.status_snapshot(*ACTIVE).kill_switch.reason == "after checkpoint"


@pytest.mark.parametrize("states", [ACTIVE, (RunState.PLANNED,)])
def test_each_set_of_states_is_kept_apart(
    database: Database, reads: list[int], states: tuple[RunState, ...]
) -> None:
    make_run(database.runs, RunState.PLANNED)
    active = database.runs.status_snapshot(*ACTIVE)
    asked = database.runs.status_snapshot(*states)
    assert [r.state for r in asked.runs] == [s for s in (RunState.PLANNED,) if s in states]
    assert active.runs == []


def _child_sees(kept: KeptStatus, engine: Engine, out: multiprocessing.Queue) -> None:
    out.put(kept.read(engine, ACTIVE).kill_switch.engaged)


def test_a_forked_child_watches_with_its_own_connection(database: Database) -> None:
    kept = kept_status_for(database.engine)
    assert kept is not None
    assert kept.read(database.engine, ACTIVE).kill_switch.engaged is False
    database.control.engage_kill_switch(actor="cli:alice", reason="fork")
    database.engine.dispose(close=False)  # the child gets no pooled connection of ours
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = ctx.Queue()
    child = ctx.Process(target=_child_sees, args=(kept, database.engine, out))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert out.get(timeout=5) is True
    assert kept.read(database.engine, ACTIVE).kill_switch.engaged is True  # parent too


@pytest.fixture
def rollback_journal(database: Database) -> Callable[[], None]:
    """Switch the file out of WAL (the other connections must let go first)."""

    def switch() -> None:
        database.runs.close()
        database.engine.dispose()
        conn = sqlite3.connect(_path(database), isolation_level=None)
        assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
        conn.close()

    return switch


def test_without_wal_the_data_version_tells_commits(
    database: Database, rollback_journal: Callable[[], None]
) -> None:
    rollback_journal()
    path = _path(database)
    assert not Path(f"{path}-shm").exists()
    plain = sqlite3.connect(path, isolation_level=None)
    kept = KeptStatus(path)
    before = kept.version()
    assert isinstance(before, int)
    assert kept.version() == before
    plain.execute("CREATE TABLE elsewhere (x)")
    assert kept.version() != before
    plain.close()
    kept.close()


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("sqlite:///{tmp}/gameday.db", True),
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/test", False),
    ],
)
def test_only_sqlite_files_are_kept(url: str, kept: bool, tmp_path: Path) -> None:
    from gameday.adapters.db.engine import make_engine

    engine = make_engine(url.format(tmp=tmp_path))
    try:
        assert (kept_status_for(engine) is not None) is kept
    finally:
        engine.dispose()
