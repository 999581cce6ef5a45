"""A worker's tie to its supervisor, and what it needs when that tie breaks.

The supervisor starts each worker with stdin a pipe that only the supervisor writes to and
keeps open for the worker's whole life. However the supervisor ends (SIGKILL included),
the kernel closes its end, so end of input on stdin means the supervisor is gone: nobody
is left to enforce the run's time limit or to halt it from this host. The worker then
interrupts the run as a halt does (SIGUSR1: chaoslib plays the rollbacks) and ends it
`interrupted`, telling its channel, as recovery on the next start would have.

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
from collections.abc import Callable
from pathlib import Path

from gameday.domain import execution as ex
from gameday.domain.ports import RunRepository
from gameday.domain.runs import OutgoingMessage, Run

log = logging.getLogger("gameday.worker")


class Lifeline:
    """Watches stdin, the supervisor's pipe, on a thread: end of input means it died."""

    def __init__(self) -> None:
        self.supervisor = os.getppid()  # the process that started this one
        self.lost = threading.Event()
        self.done = threading.Event()  # the run's end is recorded: nothing left to stop

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
        return f"the supervisor (pid {self.supervisor} on {socket.gethostname()}) died"


def interrupt_when_lost(runs: RunRepository, run_id: int, actor: str) -> Lifeline:
    """Watch the supervisor; once it dies, record "supervisor_lost" and interrupt the run
    as a halt does (rollbacks included). Returns the lifeline, for the run's end."""
    lifeline = Lifeline()

    def supervisor_died() -> None:
        cause = lifeline.cause()
        log.warning("run %d: %s; interrupting the run, the rollbacks will play", run_id, cause)
        try:
            runs.append_event(
                run_id,
                ex.SUPERVISOR_LOST,
                actor=actor,
                payload={"pid": lifeline.supervisor, "host": socket.gethostname()},
            )
        except Exception:
            log.exception("run %d: could not record that the supervisor died", run_id)
        # Delivered to the main thread: chaoslib's handler interrupts the current activity
        # and plays the rollbacks; while they play, or before chaoslib runs, it only counts.
        os.kill(os.getpid(), signal.SIGUSR1)

    lifeline.watch(supervisor_died)
    return lifeline


def end_messages(run: Run, outcome: str, *, home: Path, database_url: str) -> list[OutgoingMessage]:
    """The messages telling the run's channel how it ended, as serve builds them (the
    channel and brief come from the specs of `home` and the GAMEDAY_* settings)."""
    from gameday.adapters.chaostoolkit.validation import ChaoslibRunbookChecker
    from gameday.adapters.db.engine import make_engine
    from gameday.adapters.db.outbox import SqlOutbox
    from gameday.adapters.specfiles.folder import FolderSpecSource
    from gameday.services.briefs import CatalogBriefs
    from gameday.services.catalog import build_catalog
    from gameday.services.run_updates import RunUpdates
    from gameday.settings import Settings

    settings = Settings(home=home)
    catalog = build_catalog(FolderSpecSource(home), ChaoslibRunbookChecker()).catalog
    briefs = CatalogBriefs(
        lambda: catalog, default_channel=settings.default_channel, timezone=settings.timezone
    )
    # The outbox is only there for RunUpdates' own queueing, which is not used here: the
    # messages go into the run's final transition.
    updates = RunUpdates(SqlOutbox(make_engine(database_url)), briefs)
    return updates.messages_for_end(run, outcome)
