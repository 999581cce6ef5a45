"""The warm launcher: `python -P -m gameday.launcher.server SOCKET`.

One per user, Python environment and gameday installation, started by the first cold
`gameday run` and gone after IDLE_SECONDS without a command. It imports what a run needs
once (chaoslib, SQLAlchemy, pydantic, typer, gameday's command and worker modules; never
the kubernetes client, which reads KUBECONFIG when imported), then forks one handler per
command (gameday.launcher.handler). It holds no secrets, no database connection and no
threads: a fork copies only the calling thread, and a handler forks the run's worker in
turn (see gameday.adapters.chaostoolkit.forked).

Rules: one launcher per socket (a lock file says which); only the same user may connect
(SO_PEERCRED); a launcher whose imported files changed on disk (an upgrade, an edit)
answers "stale" and exits, so a command never runs code older than what is installed.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

from gameday.launcher import protocol
from gameday.launcher.handler import handle

IDLE_SECONDS = 600.0
LOCK_WAIT_SECONDS = 10.0
# What every `gameday run` imports; the run's providers (chaosk8s and the kubernetes
# client among them) are imported by the run itself, with its own environment.
PRELOAD = (
    "gameday.cli",
    "gameday.cli.commands_run",
    "gameday.wiring",
    "gameday.wiring.cli",
    "gameday.wiring.worker",
    "gameday.adapters.chaostoolkit.forked",
    "gameday.adapters.chaostoolkit.runbooks",
    "gameday.adapters.db",
    "gameday.adapters.db.status",
    "gameday.services.run_flow",
    "gameday.services.execution",
    "gameday.services.run_updates",
    "gameday.domain.outcome",
    "sqlalchemy.dialects.sqlite",
    "rich.console",
    "rich.markup",
)
OPTIONAL = ("sqlalchemy.dialects.postgresql.psycopg", "psycopg")


def preload(names: Iterable[str] = PRELOAD, optional: Iterable[str] = OPTIONAL) -> int:
    """Import what every run needs; the number of modules loaded afterwards."""
    for name in names:
        importlib.import_module(name)
    for name in optional:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    return len(sys.modules)


class Stamps:
    """The modification times of every imported module's file, to tell when the code on
    disk is no longer the code in memory."""

    def __init__(self, modules: Mapping[str, ModuleType | None] | None = None) -> None:
        self._seen: dict[str, int] = {}
        for module in list((modules if modules is not None else sys.modules).values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                with contextlib.suppress(OSError):
                    self._seen[path] = os.stat(path).st_mtime_ns

    def __len__(self) -> int:
        return len(self._seen)

    def changed(self) -> str | None:
        """The first file that changed or went since, or None."""
        for path, mtime in self._seen.items():
            try:
                if os.stat(path).st_mtime_ns != mtime:
                    return path
            except OSError:
                return path
        return None


def _log(text: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    sys.stderr.write(f"{stamp} gameday launcher[{os.getpid()}]: {text}\n")
    sys.stderr.flush()


def _take_lock(path: Path) -> int | None:
    """The lock file's descriptor once this process holds it (None: another launcher
    still does after LOCK_WAIT_SECONDS)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    give_up = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= give_up:
                os.close(fd)
                return None
            time.sleep(0.05)  # the stale launcher is on its way out
        else:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd


def _same_user(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def serve(place: protocol.Place, *, idle: float = IDLE_SECONDS) -> int:
    """Take the lock, preload, listen, fork a handler per command; the exit code."""
    if not protocol.private_dir(place.socket.parent):
        _log(f"{place.socket.parent} is not a private folder of this user; not starting")
        return 1
    lock = _take_lock(place.lock)
    if lock is None:
        _log("another launcher holds the lock; not starting")
        return 0
    began = time.monotonic()
    loaded = preload()
    stamps = Stamps()
    # Everything imported lives as long as the launcher: keep it out of every handler's
    # collections (a full one would walk it all, ~50 ms), and its pages shared.
    gc.collect()
    gc.freeze()
    if threading.active_count() > 1:
        _log("a preloaded module started a thread: runs would not be forked; not starting")
        return 1
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        with contextlib.suppress(FileNotFoundError):
            place.socket.unlink()  # left by a launcher that was killed: we hold the lock
        listener.bind(str(place.socket))
        listener.listen(16)
        bound = place.socket.stat().st_ino
    except OSError as exc:
        _log(f"cannot listen on {place.socket}: {exc}")
        return 1
    _log(f"ready: {loaded} modules in {time.monotonic() - began:.2f}s, {len(stamps)} files")
    try:
        return _accept(listener, lock, stamps, idle)
    finally:
        with contextlib.suppress(OSError):
            if place.socket.stat().st_ino == bound:
                place.socket.unlink()
        listener.close()
        os.close(lock)


def _accept(listener: socket.socket, lock: int, stamps: Stamps, idle: float) -> int:
    idle_until = time.monotonic() + idle
    while True:
        _reap()
        remaining = idle_until - time.monotonic()
        if remaining <= 0:
            _log("idle: exiting")
            return 0
        ready, _, _ = select.select([listener], [], [], min(remaining, 1.0))
        if not ready:
            continue
        try:
            conn, _ = listener.accept()
        except OSError:
            continue
        idle_until = time.monotonic() + idle
        with conn:
            if not _same_user(conn):
                _log("refused a connection from another user")
                continue
            changed = stamps.changed()
            if changed is not None:
                _log(f"stale: {changed} changed on disk; exiting")
                _refuse(conn, {"stale": True})
                return 0
            try:
                pid = os.fork()
            except OSError as exc:
                _log(f"cannot fork for a command ({exc}); it runs cold")
                continue
            if pid == 0:
                try:
                    handle(conn, close=(listener.fileno(), lock))
                finally:
                    os._exit(70)  # never back into this loop, whatever escaped
            _log(f"command taken by pid {pid}")


def _refuse(conn: socket.socket, reply: dict[str, bool]) -> None:
    """Read the request (a peer closed with unread data reads as a reset, not a reply),
    let its descriptors go, and answer `reply`."""
    with contextlib.suppress(OSError, ValueError):
        conn.settimeout(1.0)
        _request, fds = protocol.receive(conn, max_fds=3)
        for fd in fds:
            os.close(fd)
        protocol.send(conn, reply)


def main(argv: list[str]) -> int:
    """Entry point; the exit code."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -P -m gameday.launcher.server SOCKET\n")
        return 2
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # detached: no terminal to hang up
    return serve(protocol.Place.of_socket(Path(argv[0])))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
