"""The specs a running service works from: replaced whole on each (re)load, read by the
scheduler's rules, Slack, the run flow and the start-up log."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from gameday.domain.drills import DrillSpec
from gameday.domain.errors import GamedayError
from gameday.domain.execution import DEFAULT_TIMEOUT
from gameday.domain.run_policy import drill_for
from gameday.domain.runs import Run
from gameday.services.catalog import Catalog
from gameday.services.execution import timeout_of
from gameday.services.planning import Occurrence


class LiveCatalog:
    """The current catalog and its upcoming occurrences; callable as a catalog source."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._catalog = Catalog()
        self._upcoming: tuple[Occurrence, ...] = ()

    def __call__(self) -> Catalog:
        """The current catalog."""
        with self._lock:
            return self._catalog

    def replace(self, catalog: Catalog, upcoming: Sequence[Occurrence]) -> None:
        """Swap in a freshly loaded, valid catalog and its plan."""
        with self._lock:
            self._catalog = catalog
            self._upcoming = tuple(upcoming)

    def upcoming(self, now: datetime) -> list[Occurrence]:
        """The planned occurrences from `now` on, soonest first."""
        with self._lock:
            return [o for o in self._upcoming if o.at >= now]

    def drill_of(self, run: Run) -> DrillSpec | None:
        """A GameDay run's drill as the specs say now (its schedule's `drill`, else its
        runbook's); None when it is not a drill or its specs are gone."""
        catalog = self()
        try:
            spec = catalog.schedule(run.schedule) if run.schedule else None
        except GamedayError:
            spec = None
        try:
            runbook = catalog.runbook(run.runbook) if run.runbook else None
        except GamedayError:
            runbook = None
        return drill_for(spec, runbook)

    def timeout_of(self, run: Run) -> timedelta:
        """A GameDay run's time limit from its runbook as the specs say now (the runbook's
        `gameday` extension `timeout`, else the default)."""
        try:
            return timeout_of(self().runbook(run.runbook or ""))
        except GamedayError:
            return DEFAULT_TIMEOUT
