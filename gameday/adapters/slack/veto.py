"""The monkey's veto gate over the run's events: waits out a heads-up, watching for a
Veto (recorded as a "veto_requested" event by the approval service, whether the click came
from Slack or elsewhere) and for the kill switch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from gameday.domain.heads_up import vetoer_of
from gameday.domain.ports import Clock, ControlState, RunRepository


class EventVetoGate:
    """Implements the VetoGate port over the run's events.

    Rules: the first vetoer is returned as soon as there is one; an engaged kill switch
    ends the wait at once (the kill cycle then skips the kill on its guard), so a halt
    never waits for a heads-up to run out.
    """

    def __init__(
        self,
        runs: RunRepository,
        clock: Clock,
        *,
        control: ControlState | None = None,
        step: float = 1.0,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        self._runs = runs
        self._clock = clock
        self._control = control
        self._step = step
        self._wait = wait or threading.Event().wait

    def vetoer(self, run_id: int) -> str | None:
        """Who vetoed the run so far, or None."""
        return vetoer_of(self._runs.events(run_id))

    def halted(self) -> bool:
        """True while the kill switch is engaged."""
        return self._control is not None and self._control.kill_switch()[0]

    def wait_for_veto(self, run_id: int, heads_up: timedelta) -> str | None:
        """Until the heads-up ends: the first vetoer as soon as there is one, else None."""
        deadline = self._clock.now() + heads_up
        while True:
            vetoer = self.vetoer(run_id)
            if vetoer is not None:
                return vetoer
            if self.halted():
                return None
            left = (deadline - self._clock.now()).total_seconds()
            if left <= 0:
                return None
            self._wait(min(left, self._step))
