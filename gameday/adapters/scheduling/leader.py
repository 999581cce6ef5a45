"""Leader election: exactly one replica schedules and starts runs.

Three kinds, chosen by wiring from the deployment: a Kubernetes Lease in a cluster, a
PostgreSQL session advisory lock on PostgreSQL without one, and for SQLite an OS file lock
next to the database file (one `serve` per SQLite file; a second one refuses to start).

Each elector answers `try_acquire()` and `renew()` (still ours?) and `release()`; the
LeaderLoop turns those into elected/lost callbacks.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

import psycopg

from gameday.domain.errors import GamedayError, Unavailable

log = logging.getLogger("gameday.leader")


class AlreadyServing(GamedayError):
    """Another `gameday serve` already uses this SQLite database."""

    exit_code = 4


class Elector(Protocol):
    """One way to be the leader."""

    mode: str

    def try_acquire(self) -> bool:
        """Become the leader if nobody is; True when this replica leads."""
        ...

    def renew(self) -> bool:
        """Confirm leadership is still ours (and keep it); False when it was lost."""
        ...

    def release(self) -> None:
        """Give leadership up so a follower can take over at once."""
        ...


class SqliteFileLock:
    """An exclusive flock on `<database>.lock`; the holder's pid is written inside.

    SQLite serves one process, so this is not an election but a refusal: `acquire_or_refuse()`
    raises AlreadyServing naming the file and the holder's pid.
    """

    mode = "sqlite-file-lock"

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def acquire_or_refuse(self) -> None:
        """Take the lock or raise AlreadyServing with the holder's pid."""
        if self._file is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the lifetime
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyServing(
                f"another gameday serve (pid {holder}) is using the SQLite database "
                f"{self.database} (lock {self.path}); SQLite allows one serve per database "
                "file — stop it, or use PostgreSQL (GAMEDAY_DATABASE_URL) for several replicas"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def try_acquire(self) -> bool:
        """Hold the lock (raises AlreadyServing if another process does)."""
        self.acquire_or_refuse()
        return True

    def renew(self) -> bool:
        """A held flock cannot be lost while the process lives."""
        return self._file is not None

    def release(self) -> None:
        """Drop the lock and close the file (the file stays; its content is stale then)."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def advisory_key(database_url: str) -> int:
    """A signed 64-bit lock key from the database URL (without password), so deployments
    sharing one PostgreSQL server but not a database/schema do not block each other."""
    digest = hashlib.sha256(b"gameday-leader\0" + database_url.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresAdvisoryLock:
    """`pg_try_advisory_lock` held on a dedicated connection; the lock dies with it.

    `renew()` health-checks the connection and asks pg_locks whether the lock is still
    granted to our session: a broken connection means the server already dropped the lock,
    so leadership is lost and another replica may hold it now. When this process dies (even
    with SIGKILL) PostgreSQL ends the session and frees the lock.
    """

    mode = "postgres-advisory-lock"

    def __init__(self, conninfo: str, key: int, *, connect_timeout: int = 5) -> None:
        self._conninfo = conninfo
        self.key = key
        self._connect_timeout = connect_timeout
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=self._connect_timeout,
            application_name="gameday-leader",
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=3,
        )

    def try_acquire(self) -> bool:
        """Try the lock once; False if another session holds it or the server is away."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as exc:
            log.warning("leader election: PostgreSQL unavailable (%s)", type(exc).__name__)
            self._drop()
            return False
        return bool(row and row[0])

    def renew(self) -> bool:
        """True while our session lives and still holds the lock."""
        if self._conn is None:
            return False
        # A bigint advisory key shows in pg_locks as classid (high half), objid (low half).
        high, low = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND classid = %s::bigint::oid"
                " AND objid = %s::bigint::oid AND objsubid = 1",
                (high, low),
            ).fetchone()
        except psycopg.Error:
            self._drop()
            return False
        return bool(row and row[0])

    def release(self) -> None:
        """Unlock and close the dedicated connection."""
        if self._conn is None:
            return
        with contextlib.suppress(psycopg.Error):
            self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                conn.close()


class LeaderLoop:
    """Keeps trying to lead (followers) or to renew (the leader) every `interval` seconds,
    and calls `on_elected` / `on_lost` when that changes."""

    def __init__(
        self,
        elector: Elector,
        *,
        interval: float,
        on_elected: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None:
        self.elector = elector
        self.interval = interval
        self._on_elected = on_elected
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.is_leader = False

    def start(self) -> None:
        """Try at once, then keep going in a daemon thread."""
        self.tick()
        self._thread = threading.Thread(target=self._loop, name="gameday-leader", daemon=True)
        self._thread.start()

    def tick(self) -> None:
        """One round: acquire if following, renew if leading."""
        try:
            if self.is_leader:
                if not self.elector.renew():
                    self.is_leader = False
                    log.warning("leadership lost (%s)", self.elector.mode)
                    self._on_lost()
            elif self.elector.try_acquire():
                self.is_leader = True
                log.info("elected leader (%s)", self.elector.mode)
                self._on_elected()
        except GamedayError:
            raise
        except Exception:
            log.exception("leader election round failed")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def stop(self, *, release: bool = True) -> None:
        """Stop the loop and (by default) release leadership for a quick takeover."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
        if release:
            self.elector.release()
        if self.is_leader:
            self.is_leader = False
            self._on_lost()


__all__ = [
    "AlreadyServing",
    "Elector",
    "LeaderLoop",
    "PostgresAdvisoryLock",
    "SqliteFileLock",
    "Unavailable",
    "advisory_key",
]
