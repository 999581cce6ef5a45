"""Carrying out the monkey kills a service planned: find the schedule, kill in the mode the
run flow decided, count what was killed.

Rules: a kill whose schedule left the specs ends `skipped` with the reason; the cluster
may be out of reach (no kubeconfig, an outage): the kill cycle has recorded why on the run,
which is returned as it stands; everything else is `MonkeyService.kill_run`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gameday.domain.errors import GamedayError, IllegalTransition, Unavailable
from gameday.domain.ports import MetricsSink, RunRepository
from gameday.domain.run_mode import RunMode
from gameday.domain.runs import Run, RunState
from gameday.services.catalog import Catalog
from gameday.services.monkey import MonkeyService
from gameday.services.run_end import EndMessages

log = logging.getLogger("gameday.runs")


class PlannedKills:
    """The KillCarrier of the run flow."""

    def __init__(
        self,
        *,
        monkey: MonkeyService,
        catalog: Callable[[], Catalog],
        runs: RunRepository,
        metrics: MetricsSink,
        actor: str,
        end_messages: EndMessages | None = None,
    ) -> None:
        self._monkey = monkey
        self._catalog = catalog
        self._runs = runs
        self._metrics = metrics
        self._actor = actor
        self._end_messages = end_messages

    def carry(self, run: Run, mode: RunMode) -> Run:
        """Kill (or not) as the run's schedule says now; the run as it ended."""
        catalog = self._catalog()
        spec = catalog.monkeys.get(run.schedule or "")
        try:
            window = catalog.window(spec.window) if spec is not None else None
        except GamedayError:
            window = None
        if spec is None or window is None:
            reason = f"monkey schedule {run.schedule} is no longer in the specs"
            messages = (
                ()
                if self._end_messages is None
                else self._end_messages(run, RunState.SKIPPED.value, reason)
            )
            return self._runs.transition(
                run.id, RunState.SKIPPED, actor=self._actor, reason=reason, messages=messages
            )
        try:
            report = self._monkey.kill_run(run, spec, window, mode)
        except (Unavailable, IllegalTransition) as exc:
            # Recorded on the run already (skipped or failed, with the reason).
            log.warning("run %s: %s", run.id, exc, extra={"run_id": run.id})
            return self._runs.get(run.id)
        self._metrics.killed(len(report.killed), dry_run=mode.dry_run)
        return report.run
