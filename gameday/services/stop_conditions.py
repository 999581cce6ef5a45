"""Stop conditions while a run runs: its stop-condition gates polled, each every its own
`interval`, on a thread of their own (never the scheduler's), until the run ends or one
breaches.

Rules: a breach is acted on once (the first failed evaluation, no retry: a degraded system
is not asked twice); each evaluation is recorded on the run; the poll stops when told.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from gameday.domain.gate_specs import GateSpec
from gameday.domain.gates import GateResult
from gameday.services.gatekeeping import GateKeeper


class StopConditionWatch:
    """Polls a run's stop conditions until stopped or breached."""

    def __init__(
        self,
        keeper: GateKeeper,
        run_id: int,
        gates: Sequence[GateSpec],
        on_breach: Callable[[GateResult], None],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keeper = keeper
        self._run_id = run_id
        self._gates = list(gates)
        self._on_breach = on_breach
        self._monotonic = monotonic
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._poll, name=f"stop-conditions-{run_id}", daemon=True
        )

    def start(self) -> StopConditionWatch:
        """Start polling (nothing happens without stop conditions)."""
        if self._gates:
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling; returns once the poller has ended."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _poll(self) -> None:
        due = {g.name: self._monotonic() for g in self._gates}
        by_name = {g.name: g for g in self._gates}
        while not self._stopped.is_set():
            now = self._monotonic()
            ready = [by_name[n] for n, at in due.items() if at <= now]
            if ready:
                results = self._keeper.evaluate(ready, run_id=self._run_id, retry=False)
                if self._stopped.is_set():
                    return
                breached = next((r for r in results if not r.passed), None)
                if breached is not None:
                    self._on_breach(breached)
                    return
                for gate in ready:
                    due[gate.name] = now + gate.interval.total_seconds()
            wait = max(0.0, min(due.values()) - self._monotonic())
            self._stopped.wait(wait)
