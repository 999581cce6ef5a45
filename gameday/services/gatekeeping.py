"""Health gates as the service applies them: which gates a run must pass, evaluating them
(recorded on the run, counted in the metrics), and the first one that blocks a start.

Rules: a run's gates are the default ones, its runbook's and its schedule's (a narrower
gate replaces a wider one of the same name); the gates of one evaluation are checked side
by side, so a decision waits for the slowest check, not their sum; before a start an
unreachable endpoint is tried once more (`retry`), a stop condition never is; every
evaluation made for a run is an event of that run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from gameday.domain import execution as ex
from gameday.domain.errors import GamedayError, NotFound
from gameday.domain.gate_specs import GateSpec
from gameday.domain.gates import GateResult, first_failure
from gameday.domain.ports import GateChecker, MetricsSink, Outbox, RunRepository
from gameday.domain.runs import Run
from gameday.services.catalog import Catalog
from gameday.services.run_updates import RunUpdates

_MAX_PARALLEL = 8


class GateKeeper:
    """Evaluates the gates of runs, schedules and runbooks (see the module rules)."""

    def __init__(
        self,
        *,
        checker: GateChecker,
        runs: RunRepository,
        catalog: Callable[[], Catalog],
        metrics: MetricsSink | None = None,
        actor: str = "gameday",
    ) -> None:
        self._checker = checker
        self._runs = runs
        self._catalog = catalog
        self._metrics = metrics
        self._actor = actor

    def gates_for(self, run: Run) -> list[GateSpec]:
        """The gates a run must pass, as the specs say now."""
        catalog = self._catalog()
        schedule = (
            catalog.monkeys.get(run.schedule) or catalog.gamedays.get(run.schedule)
            if run.schedule
            else None
        )
        runbook = None
        if run.runbook:
            try:
                runbook = catalog.runbook(run.runbook)
            except GamedayError:
                runbook = None
        return catalog.gates_of(schedule, runbook)

    def gates_named(self, name: str) -> list[GateSpec]:
        """The gates of the schedule or runbook called `name` (with the default ones);
        NotFound when neither exists."""
        catalog = self._catalog()
        if name in catalog.monkeys:
            return catalog.gates_of(catalog.monkeys[name], None)
        if name in catalog.gamedays:
            gameday = catalog.gamedays[name]
            return catalog.gates_of(gameday, catalog.runbook_of(gameday))
        try:
            return catalog.gates_of(None, catalog.runbook(name))
        except NotFound:
            raise NotFound(f"no schedule or runbook named {name!r}") from None

    def evaluate(
        self, gates: Sequence[GateSpec], *, run_id: int | None = None, retry: bool = True
    ) -> list[GateResult]:
        """Evaluate `gates` now, side by side; results in the gates' order."""
        if not gates:
            return []
        workers = min(_MAX_PARALLEL, len(gates))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gate") as pool:
            results = list(pool.map(lambda g: self._checker.check(g, retry=retry), gates))
        for result in results:
            if self._metrics is not None:
                self._metrics.gate_evaluated(result.gate, passed=result.passed)
            if run_id is not None:
                self._runs.append_event(
                    run_id, ex.GATE_EVALUATED, actor=self._actor, payload=result.as_dict()
                )
        return results

    def blocking(self, run: Run) -> GateResult | None:
        """The first gate that keeps `run` from starting now (None: all pass or none)."""
        return first_failure(self.evaluate(self.gates_for(run), run_id=run.id))

    def stop_conditions(self, run: Run) -> list[GateSpec]:
        """The gates polled while `run` runs."""
        return [g for g in self.gates_for(run) if g.stop_condition]


class GateNotice:
    """Tells a run's thread how its gates stand when it is announced (information: the
    decision is taken again when the run starts)."""

    def __init__(self, keeper: GateKeeper, updates: RunUpdates, outbox: Outbox) -> None:
        self._keeper = keeper
        self._updates = updates
        self._outbox = outbox

    def __call__(self, run: Run) -> None:
        """Evaluate the run's gates and queue the thread line (nothing without gates)."""
        gates = self._keeper.gates_for(run)
        if gates:
            results = self._keeper.evaluate(gates, run_id=run.id)
            self._outbox.enqueue(self._updates.messages_for_gates(run, results))
