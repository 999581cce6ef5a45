"""Worker processes on this host: start, watch, signal, reap (the `Workers` port).

A worker is `python -m gameday.wiring.worker RUN_ID` (see `protocol`) in its own session
(so a Ctrl-C meant for a terminal does not reach it unasked). Any process on the host can
halt it by the pid recorded in the run's events: before signalling, the pid is checked to
still be that run's worker, so a reused pid is never signalled.

A worker's stdin is its lifeline: a pipe whose writing end only this process holds, kept
open for the worker's whole life. However this process ends (SIGKILL included), the kernel
closes it, the worker reads end of input and interrupts its run with rollbacks, so no
GameDay carries on without a supervisor (no time limit, no halt from this host).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from gameday.adapters.chaostoolkit.protocol import (
    HALT_SIGNAL,
    LIFELINE,
    RESOLVE_SIGNAL,
    ROLLBACKS_ONLY,
    STANDBY,
    STOP_SIGNAL,
    WORKER_MODULE,
    is_zombie,
    process_started,
)
from gameday.domain.execution import WorkerRef

_TICK = 0.02
_RECOVERY_GRACE = 3.0


class ProcessWorkers:
    """Runs each GameDay in a child process of this one and controls workers by pid."""

    def __init__(
        self,
        *,
        home: Path,
        database_url: str,
        live: bool,
        env: Mapping[str, str],
        log_dir: Path | None = None,
    ) -> None:
        self._home = home
        self._database_url = database_url
        # The worker runs live only if this supervisor is live too (the safer mode wins).
        self._live = live
        # The worker's whole environment besides the variables set here (wiring passes
        # this process's own, so the worker imports and finds what this process does).
        self._extra_env = env  # read at each start: a live mapping stays live
        self._log_dir = log_dir or home / ".gameday" / "logs"
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._standby: tuple[subprocess.Popen[bytes], Path] | None = None
        self.host = socket.gethostname()

    # -- starting -----------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        return dict(
            self._extra_env,
            GAMEDAY_HOME=str(self._home),
            GAMEDAY_DATABASE_URL=self._database_url,
            GAMEDAY_LIVE="true" if self._live else "false",
        )

    def _spawn(self, run_id: int, *extra: str) -> subprocess.Popen[bytes]:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        # Recovery (rollbacks only) is waited for in place and needs no lifeline.
        recovery = ROLLBACKS_ONLY in extra
        suffix = "-recovery" if recovery else ""
        env = self._env()
        with open(self._log_dir / f"run-{run_id}{suffix}.log", "ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", WORKER_MODULE, str(run_id), *extra],
                cwd=self._home,
                env=env,
                stdin=subprocess.DEVNULL if recovery else subprocess.PIPE,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self._children[child.pid] = child
        return child

    def prepare(self) -> None:
        """Start a worker on standby (imports done, database open) for the next `launch`,
        so its start-up overlaps the caller's work; it exits quietly if never used."""
        if self._standby is not None:
            return
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self._log_dir / f"standby-{uuid.uuid4().hex}.log"
        with open(log_path, "ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", WORKER_MODULE, STANDBY],
                cwd=self._home,
                env=self._env(),
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self._standby = (child, log_path)

    def close(self) -> None:
        """Let an unused standby worker go (it exits on end of input)."""
        if self._standby is not None:
            child, log_path = self._standby
            self._standby = None
            if child.stdin is not None:
                child.stdin.close()  # it exits on end of input; no need to wait for it
            log_path.unlink(missing_ok=True)

    def launch(self, run_id: int) -> WorkerRef:
        """Start the worker of a running run (the standby one if ready); return at once."""
        if self._standby is not None:
            child, log_path = self._standby
            self._standby = None
            try:
                assert child.stdin is not None
                child.stdin.write(f"{run_id}\n".encode())
                child.stdin.flush()  # stdin stays open: it is the worker's lifeline
            except (BrokenPipeError, OSError):
                _release(child)
                child.wait()
            else:
                log_path.replace(self._log_dir / f"run-{run_id}.log")
                self._children[child.pid] = child
                return WorkerRef(self.host, child.pid, process_started(child.pid))
        pid = self._spawn(run_id, LIFELINE).pid
        return WorkerRef(self.host, pid, process_started(pid))

    def run_rollbacks(self, run_id: int, *, timeout: timedelta) -> int:
        """Play a run's rollbacks in a fresh worker and wait for it (SIGTERM, then SIGKILL,
        past `timeout`); its exit code (128 + signal when it was killed)."""
        child = self._spawn(run_id, ROLLBACKS_ONLY)
        try:
            code = child.wait(timeout=timeout.total_seconds())
        except subprocess.TimeoutExpired:
            child.terminate()
            try:
                code = child.wait(timeout=_RECOVERY_GRACE)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
        finally:
            self._children.pop(child.pid, None)
        return 128 - code if code < 0 else code

    # -- watching -----------------------------------------------------------------------

    def is_alive(self, worker: WorkerRef, run_id: int) -> bool | None:
        """True while the pid still runs this run's worker; None for another host."""
        if worker.host != self.host:
            return None
        child = self._children.get(worker.pid)
        if child is not None:
            if child.poll() is None:
                return True
            self._children.pop(worker.pid, None)
            _release(child)
            return False
        return _runs_worker(worker, run_id)

    def wait_gone(self, workers: Sequence[tuple[WorkerRef, int]], timeout: timedelta) -> None:
        """Block until every worker has exited, or `timeout` passed."""
        deadline = time.monotonic() + timeout.total_seconds()
        pending = list(workers)
        while pending:
            pending = [(w, r) for w, r in pending if self.is_alive(w, r)]
            if not pending or time.monotonic() >= deadline:
                return
            _wait_exit([w.pid for w, _ in pending], deadline - time.monotonic())

    # -- stopping -----------------------------------------------------------------------

    def release(self, worker: WorkerRef, run_id: int) -> None:
        """Close the worker's lifeline: it reads end of input, interrupts its run with
        rollbacks and ends it `interrupted`, as if this supervisor had died."""
        if worker.host != self.host:
            return
        child = self._children.get(worker.pid)
        if child is not None:
            _release(child)

    def halt(self, worker: WorkerRef, run_id: int) -> bool:
        """SIGUSR1: chaoslib interrupts the current activity and plays the rollbacks."""
        return self._signal(worker, run_id, HALT_SIGNAL)

    def resolve(self, worker: WorkerRef, run_id: int) -> bool:
        """RESOLVE_SIGNAL: the worker ends the drill's method and carries on from there."""
        return self._signal(worker, run_id, RESOLVE_SIGNAL)

    def hard_stop(self, worker: WorkerRef, run_id: int, *, grace: timedelta) -> None:
        """SIGTERM (chaoslib interrupts, rollbacks may still play), then SIGKILL once
        `grace` has passed; returns when the worker is gone."""
        if not self._signal(worker, run_id, STOP_SIGNAL):
            return
        self.wait_gone([(worker, run_id)], grace)
        if self._signal(worker, run_id, signal.SIGKILL):
            self.wait_gone([(worker, run_id)], timedelta(seconds=10))

    def _signal(self, worker: WorkerRef, run_id: int, signum: signal.Signals) -> bool:
        if not self.is_alive(worker, run_id):
            return False
        try:
            os.kill(worker.pid, signum)
        except ProcessLookupError:
            return False
        return True


def _wait_exit(pids: Sequence[int], timeout: float) -> None:
    """Sleep until one of `pids` exits or `timeout` passes: woken by the exit itself where
    Linux gives process descriptors (so a run's end is seen at once, not a tick later)."""
    fds: list[int] = []
    try:
        for pid in pids:
            with contextlib.suppress(OSError, AttributeError):
                fds.append(os.pidfd_open(pid))
        if fds and len(fds) == len(pids):
            select.select(fds, [], [], max(0.0, timeout))
        else:
            time.sleep(max(0.0, min(_TICK, timeout)))
    finally:
        for fd in fds:
            os.close(fd)


def _release(child: subprocess.Popen[bytes]) -> None:
    """Close our end of a worker's lifeline (it has exited, or never got its run)."""
    if child.stdin is not None:
        # A pipe whose reader is gone may fail to flush; it is closed either way.
        with contextlib.suppress(OSError):
            child.stdin.close()


def _runs_worker(worker: WorkerRef, run_id: int) -> bool:
    """True when the worker's process still runs (not a zombie): the same pid with the same
    start time; for a worker recorded without its start time, a live process whose command
    line is this run's worker."""
    pid = worker.pid
    if worker.started is not None and Path("/proc/self").exists():
        return process_started(pid) == worker.started and not is_zombie(pid)
    proc = Path("/proc") / str(pid)
    if not Path("/proc/self").exists():  # no procfs: all we can tell is that it exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        stat = (proc / "stat").read_text()
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if stat.rpartition(")")[2].split()[0] in ("Z", "X"):
        return False
    # A worker started on standby got its run id on stdin, so its argv cannot show it.
    ours = str(run_id).encode() in argv or STANDBY.encode() in argv
    return WORKER_MODULE.encode() in argv and ours
