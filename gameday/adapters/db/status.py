"""The status snapshot: active runs, kill switch, pauses and outbox depth in one read.

`/gameday status` is answered inside Slack's ack, at whatever rate people and retries send
it, so it reads everything on one connection in one transaction (a consistent picture:
SQLite reads one WAL snapshot, PostgreSQL uses REPEATABLE READ) with two statements: the
runs, and the controls joined to the outbox count.

On an SQLite file, `KeptStatus` answers from memory until some connection commits: people
and Slack's retries ask far more often than anything changes, and telling whether anything
was committed costs a memory read where the snapshot costs a transaction.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import threading
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, func, or_, select

from gameday.adapters.db.control import KILL_SWITCH, PAUSE
from gameday.adapters.db.engine import READ_ONLY
from gameday.adapters.db.rows import outbox, run_from, runs
from gameday.adapters.db.tables import controls
from gameday.domain.ports import StatusSnapshot
from gameday.domain.runs import KillSwitch, Pause, RunState

# One row per kill switch or engaged pause, each carrying the outbox count; a single row
# of NULL controls with the count when there are neither (hence the outer join).
_waiting = (
    select(func.count().label("waiting"))
    .select_from(outbox)
    .where(outbox.c.delivered_at.is_(None))
    .subquery()
)
_CONTROLS_AND_DEPTH = (
    select(_waiting.c.waiting, controls)
    .select_from(
        _waiting.outerjoin(
            controls,
            or_(
                and_(controls.c.scope == KILL_SWITCH, controls.c.name == ""),
                and_(controls.c.scope == PAUSE, controls.c.engaged.is_(True)),
            ),
        )
    )
    .order_by(controls.c.scope, controls.c.name)
)


@lru_cache(maxsize=32)
def _runs_in(states: tuple[str, ...]) -> Select[Any]:
    # Few distinct state sets are ever asked for; building the statement once each saves
    # more than running it costs.
    return select(runs).where(runs.c.state.in_(states)).order_by(runs.c.planned_at, runs.c.id)


def snapshot_reading(engine: Engine) -> Connection:
    """A connection whose transaction sees one snapshot across several statements.

    SQLite: a deferred BEGIN (reads one WAL snapshot, never queues for the write lock).
    PostgreSQL: REPEATABLE READ, whose snapshot lasts the whole transaction.
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ")
    return conn.execution_options(**{READ_ONLY: True})


def read_status(engine: Engine, states: tuple[RunState, ...]) -> StatusSnapshot:
    """Runs in `states` (oldest planned first), kill switch, pauses and outbox depth."""
    with snapshot_reading(engine) as conn, conn.begin():
        found = (
            [run_from(row) for row in conn.execute(_runs_in(tuple(s.value for s in states)))]
            if states
            else []
        )
        rows = conn.execute(_CONTROLS_AND_DEPTH).all()
    switch = KillSwitch(engaged=False)
    pauses: list[Pause] = []
    for row in rows:
        if row.scope == KILL_SWITCH:
            switch = KillSwitch(
                engaged=row.engaged, actor=row.actor, at=row.changed_at, reason=row.reason
            )
        elif row.scope == PAUSE:
            pauses.append(
                Pause(schedule=row.name, actor=row.actor, at=row.changed_at, reason=row.reason)
            )
    return StatusSnapshot(
        runs=found, kill_switch=switch, pauses=pauses, outbox_depth=int(rows[0].waiting)
    )


class KeptStatus:
    """Status snapshots of one SQLite file, kept while no connection has committed since.

    Rules:
    - A commit by any connection, of this process or another (a run's worker, the CLI),
      changes the WAL-index header SQLite keeps in `<db>-shm` (https://sqlite.org/walformat.html:
      every commit moves `mxFrame` or, after a WAL reset, the salts). The header is read
      from a read-only mapping of that file: a memory read, which never gives up the GIL.
      A system call per request would, and under a busy server each give-up waits for the
      GIL again (measured: three times the p99 of `python -m bench slack`).
    - A connection of our own, opened on first use, holds the database open, so SQLite
      neither deletes nor truncates the `-shm` file while it is mapped. Where there is no
      `-shm` (not in WAL mode), `PRAGMA data_version` on that connection is the version.
    - The version is read before the snapshot, so a snapshot is never kept under a version
      newer than what it saw: a commit racing the read only costs one more read later.
    - After a fork the connection and the mapping are opened again (neither may cross one).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._header: mmap.mmap | None = None
        self._pid = 0
        self._kept: dict[tuple[RunState, ...], tuple[bytes | int, StatusSnapshot]] = {}

    def read(self, engine: Engine, states: tuple[RunState, ...]) -> StatusSnapshot:
        """The snapshot for `states`: the kept one while the file is unchanged, else a read."""
        version = self.version()
        kept = self._kept.get(states)
        if kept is not None and kept[0] == version:
            return kept[1]
        snapshot = read_status(engine, states)
        self._kept[states] = (version, snapshot)
        return snapshot

    def version(self) -> bytes | int:
        """A value that differs after any commit to the file (equal values: no commit)."""
        if self._pid != os.getpid():
            self._open()
        header = self._header
        if header is not None:
            return header[:_WAL_INDEX_HEADER]
        with self._lock:
            assert self._conn is not None
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        """Unmap and close (opened again if read again)."""
        with self._lock:
            self._release()
            self._pid = 0

    def _open(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._release()
            conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            # A read maps the WAL index (when in WAL mode) and joins the shared lock that
            # keeps the -shm file from being deleted or truncated while we are open.
            wal = conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self._conn, self._header = conn, _mapped_header(self._path) if wal else None
            self._kept.clear()
            self._pid = os.getpid()

    def _release(self) -> None:
        # A forked child's copies belong to the parent: drop them without closing.
        if self._pid == os.getpid():
            if self._header is not None:
                self._header.close()
            if self._conn is not None:
                self._conn.close()
        self._conn, self._header = None, None
        self._kept.clear()


# The first copy of the WAL-index header; SQLite writes both copies on every commit.
_WAL_INDEX_HEADER = 48


def _mapped_header(path: str) -> mmap.mmap | None:
    try:
        fd = os.open(f"{path}-shm", os.O_RDONLY)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size < 2 * _WAL_INDEX_HEADER:
            return None
        return mmap.mmap(fd, 2 * _WAL_INDEX_HEADER, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)


def kept_status_for(engine: Engine) -> KeptStatus | None:
    """A KeptStatus for an SQLite file engine; None for PostgreSQL and in-memory SQLite."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None  # URI filenames carry options the plain connection would not honour
    return KeptStatus(database)
