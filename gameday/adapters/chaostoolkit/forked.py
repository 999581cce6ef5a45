"""Workers forked from the command that supervises them (`gameday run`), instead of a new
interpreter each.

A worker exists for isolation: chaoslib must own its process's main thread and signals, a
halt must reach it alone, and it must outlive a crash of the experiment. None of that needs
a cold interpreter start and a second round of imports: the command has imported chaoslib
and the worker's modules already (validating the runbook needs them), so a `fork()` gives
the worker all of it at once. The child becomes a worker as a spawned one would: its own
session, stdin the supervisor's lifeline pipe, stdout and stderr its log, its own database
connections (the parent's are forgotten, never closed, in the child), and it leaves with
`os._exit` so nothing of the parent runs twice.

Rules: fork only from a process with no other threads (a command, not `gameday serve`,
whose scheduler, HTTP server and outbox run on threads); everything else about a worker
(signals, recovery, identity by pid and start time) is `ProcessWorkers`'.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from gameday.adapters.chaostoolkit.protocol import CRASHED, process_started
from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
from gameday.domain.execution import WorkerRef

# Runs one run in the child (its composition root); returns the worker's exit code.
ChildMain = Callable[[int], int]


class ForkedWorkers(ProcessWorkers):
    """ProcessWorkers whose `launch` forks this process instead of starting Python again."""

    def __init__(
        self,
        *,
        home: Path,
        database_url: str,
        live: bool,
        env: Mapping[str, str],
        child_main: ChildMain,
        child_standby: Callable[[], int],
        in_child: Callable[[], None] = lambda: None,
        log_dir: Path | None = None,
    ) -> None:
        super().__init__(home=home, database_url=database_url, live=live, env=env, log_dir=log_dir)
        self._child_main = child_main
        self._child_standby = child_standby
        self._in_child = in_child
        self._waiting: tuple[int, int, Path] | None = None  # standby: pid, its stdin, log
        self._forked: set[int] = set()  # children to reap
        self._lifelines: dict[int, int] = {}  # child pid -> our end of its lifeline

    def prepare(self) -> None:
        """Fork a worker on standby now: it imports what a run needs (chaoslib, the
        database) on the other core while this process checks the runbook and records the
        run, then waits for the run's id on its stdin. Unused, it exits when closed."""
        if self._waiting is not None or threading.active_count() > 1:
            return
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self._log_dir / f"standby-{uuid.uuid4().hex}.log"
        pid, write_end = self._fork(log_path, self._child_standby)
        self._waiting = (pid, write_end, log_path)

    def close(self) -> None:
        """Let an unused standby worker go (it exits on end of input)."""
        if self._waiting is not None:
            pid, write_end, log_path = self._waiting
            self._waiting = None
            with contextlib.suppress(OSError):
                os.close(write_end)
            self._forked.add(pid)  # reaped by is_alive, or when this process exits
            log_path.unlink(missing_ok=True)

    def launch(self, run_id: int) -> WorkerRef:
        """Hand the run to the standby worker, or fork one; return at once."""
        if self._waiting is not None:
            pid, write_end, log_path = self._waiting
            self._waiting = None
            try:
                os.write(write_end, f"{run_id}\n".encode())
            except OSError:
                with contextlib.suppress(OSError):
                    os.close(write_end)
            else:
                # stdin stays open: it is the worker's lifeline
                log_path.replace(self._log_dir / f"run-{run_id}.log")
                self._forked.add(pid)
                self._lifelines[pid] = write_end
                return WorkerRef(self.host, pid, process_started(pid))
        if threading.active_count() > 1:
            # A fork copies one thread and whatever locks the others hold.
            return super().launch(run_id)
        self._log_dir.mkdir(parents=True, exist_ok=True)
        pid, write_end = self._fork(
            self._log_dir / f"run-{run_id}.log", lambda: self._child_main(run_id)
        )
        self._forked.add(pid)
        self._lifelines[pid] = write_end
        return WorkerRef(self.host, pid, process_started(pid))

    def _fork(self, log_path: Path, main: Callable[[], int]) -> tuple[int, int]:
        """Fork a worker running `main` with stdin a new pipe; (its pid, our end)."""
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(write_end)
            self._become_worker(read_end, log_path, main)
        os.close(read_end)
        return pid, write_end

    def _become_worker(self, lifeline: int, log_path: Path, main: Callable[[], int]) -> None:
        code = CRASHED
        try:
            os.setsid()  # a Ctrl-C meant for the terminal does not reach it unasked
            os.dup2(lifeline, 0)
            os.close(lifeline)
            log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)
            for fd in list(self._lifelines.values()):  # other workers' lifelines are not ours
                with contextlib.suppress(OSError):
                    os.close(fd)
            os.chdir(self._home)
            self._in_child()
            code = main()
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def is_alive(self, worker: WorkerRef, run_id: int) -> bool | None:
        """True while a forked child runs (it is reaped once it exits); as ProcessWorkers
        for the rest."""
        if worker.host == self.host and worker.pid in self._forked:
            try:
                done, _ = os.waitpid(worker.pid, os.WNOHANG)
            except ChildProcessError:
                done = worker.pid
            if done == 0:
                return True
            self._forked.discard(worker.pid)
            self._let_go(worker.pid)
            return False
        return super().is_alive(worker, run_id)

    def release(self, worker: WorkerRef, run_id: int) -> None:
        """Close the worker's lifeline (see ProcessWorkers.release)."""
        if worker.pid in self._forked:
            self._let_go(worker.pid)
            return
        super().release(worker, run_id)

    def _let_go(self, pid: int) -> None:
        fd = self._lifelines.pop(pid, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
