"""A worker's tie to its supervisor, and what it needs when that tie breaks.

The supervisor starts each worker with stdin a pipe that only the supervisor writes to and
keeps open for the worker's whole life. However the supervisor ends (SIGKILL included),
the kernel closes its end, so end of input on stdin means the supervisor is gone (or let
the worker go because it could no longer watch the run): nobody is left to enforce the
run's time limit or to halt it from this host. The worker then interrupts the run as a
halt does (SIGUSR1: chaoslib plays the rollbacks) and ends it `interrupted`, telling its
channel, as recovery on the next start would have.

Why a pipe and not `prctl(PR_SET_PDEATHSIG)`: that signal fires when the *thread* that
forked the worker exits (serve launches each worker from the run's own thread), and it is
Linux-only; end of input is immediate and portable.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from gameday.domain import execution as ex
from gameday.domain.ports import RunRepository
from gameday.domain.runs import OutgoingMessage

log = logging.getLogger("gameday.worker")


class Lifeline:
    """Watches stdin, the supervisor's pipe, on a thread: end of input means it died."""

    def __init__(self) -> None:
        self.supervisor = os.getppid()  # the process that started this one
        self.lost = threading.Event()
        self.done = threading.Event()  # the run's end is recorded: nothing left to stop
        # Set when the supervisor let the worker go on purpose (its watch failed).
        self.released_because: str | None = None

    def watch(self, on_lost: Callable[[], None]) -> None:
        """Call `on_lost` (on the watching thread) once the supervisor is gone."""
        threading.Thread(
            target=self._read, args=(on_lost,), name="gameday-lifeline", daemon=True
        ).start()

    def _read(self, on_lost: Callable[[], None]) -> None:
        while True:
            try:
                if not os.read(0, 4096):
                    break
            except OSError:
                break
        if self.done.is_set():
            return
        self.lost.set()
        on_lost()

    def cause(self) -> str:
        """Why the run was interrupted, for its events and its end."""
        if self.released_because:
            return (
                f"the supervisor (pid {self.supervisor} on {socket.gethostname()}) could no "
                f"longer watch the run ({self.released_because}) and let it go"
            )
        return f"the supervisor (pid {self.supervisor} on {socket.gethostname()}) died"


def interrupt_when_lost(
    runs: RunRepository,
    run_id: int,
    actor: str,
    *,
    messages: Callable[[str, Mapping[str, Any]], list[OutgoingMessage]] | None = None,
) -> Lifeline:
    """Watch the supervisor; once it dies, record "supervisor_lost" (with its thread line
    from `messages`) and interrupt the run as a halt does (rollbacks included). Returns
    the lifeline, for the run's end."""
    lifeline = Lifeline()

    def supervisor_died() -> None:
        try:
            failed = ex.last_payload(runs.events(run_id), ex.WATCH_FAILED)
        except Exception:
            failed = None  # the database may be why; the run is interrupted regardless
        if failed is not None:
            lifeline.released_because = str(failed.get("error") or "an error")
        cause = lifeline.cause()
        log.warning("run %d: %s; interrupting the run, the rollbacks will play", run_id, cause)
        try:
            payload = {"pid": lifeline.supervisor, "host": socket.gethostname()}
            told = messages(ex.SUPERVISOR_LOST, payload) if messages is not None else []
            runs.append_event(
                run_id, ex.SUPERVISOR_LOST, actor=actor, payload=payload, messages=told
            )
        except Exception:
            log.exception("run %d: could not record that the supervisor died", run_id)
        # Delivered to the main thread: chaoslib's handler interrupts the current activity
        # and plays the rollbacks; while they play, or before chaoslib runs, it only counts.
        os.kill(os.getpid(), signal.SIGUSR1)

    lifeline.watch(supervisor_died)
    return lifeline
