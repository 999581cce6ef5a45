"""The monkey's veto gate for Slack: waits out a heads-up, watching for a Veto click.

A Veto click is recorded on the run as a "veto_requested" event (by the approval
service); this gate reads the run's events until the heads-up ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from gameday.domain.ports import Clock, RunRepository
from gameday.services.approvals import vetoer_of


class SlackVetoGate:
    """Implements the VetoGate port over the run's events."""

    def __init__(
        self,
        runs: RunRepository,
        clock: Clock,
        *,
        step: float = 1.0,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        self._runs = runs
        self._clock = clock
        self._step = step
        self._wait = wait or threading.Event().wait

    def wait_for_veto(self, run_id: int, heads_up: timedelta) -> str | None:
        """Until the heads-up ends: the first vetoer as soon as there is one, else None."""
        deadline = self._clock.now() + heads_up
        while True:
            vetoer = vetoer_of(self._runs.events(run_id))
            if vetoer is not None:
                return vetoer
            left = (deadline - self._clock.now()).total_seconds()
            if left <= 0:
                return None
            self._wait(min(left, self._step))
