"""The RunStarter port as threads: each started run is carried out on its own thread by the
callable for its kind (a GameDay: launch and watch its worker; a monkey: one kill cycle),
so a long GameDay never holds up the scheduler's job threads.

`drain()` is the shutdown half: wait for running runs up to a grace period, then halt the
rest (rollbacks run) and wait for them to settle.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from gameday.domain.ports import MetricsSink
from gameday.domain.runs import Run, RunKind

log = logging.getLogger("gameday.runs")

# Carries a run out and returns the run as it ended (blocking).
Carrier = Callable[[Run], Run]


class ThreadedStarter:
    """Starts each run on its own thread and counts how runs end."""

    def __init__(self, carriers: Mapping[RunKind, Carrier], metrics: MetricsSink) -> None:
        self._carriers = dict(carriers)
        self._metrics = metrics
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()
        self._accepting = True

    def start(self, run: Run) -> None:
        """Carry `run` out on a new thread; refused once shutdown has begun."""
        carrier = self._carriers.get(run.kind)
        if carrier is None:
            raise LookupError(f"no way to carry out a {run.kind.value} run in this build")
        with self._lock:
            if not self._accepting:
                log.info("not starting run %s: shutting down", run.id, extra={"run_id": run.id})
                return
            if run.id in self._threads:
                return  # already being carried out (an ad-hoc sweep saw it again)
            thread = threading.Thread(
                target=self._carry, args=(carrier, run), name=f"run-{run.id}", daemon=True
            )
            self._threads[run.id] = thread
        thread.start()

    def _carry(self, carrier: Carrier, run: Run) -> None:
        try:
            ended = carrier(run)
            self._metrics.run_finished(ended.kind.value, ended.state.value)
            log.info(
                "run %s ended %s",
                run.id,
                ended.state.value,
                extra={"run_id": run.id, "state": ended.state.value},
            )
        except Exception:
            log.exception("run %s failed to run", run.id, extra={"run_id": run.id})
        finally:
            with self._lock:
                self._threads.pop(run.id, None)

    def active(self) -> list[int]:
        """Ids of the runs still being carried out."""
        with self._lock:
            return sorted(self._threads)

    def stop_accepting(self) -> None:
        """From now on start() refuses new runs."""
        with self._lock:
            self._accepting = False

    def drain(
        self, grace: float, halt: Callable[[list[int]], object], *, settle: float = 60.0
    ) -> bool:
        """Wait up to `grace` seconds for running runs; then `halt(ids)` the ones this
        process still carries (their rollbacks run; runs of other replicas are not touched)
        and wait up to `settle` seconds more. True if all ended."""
        self.stop_accepting()
        if self._wait(grace):
            return True
        active = self.active()
        log.warning("grace period over: halting runs %s", active)
        halt(active)
        return self._wait(settle)

    def _wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            with self._lock:
                threads = list(self._threads.values())
            if not threads:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            threads[0].join(timeout=min(left, 0.2))
