"""What a running service plans from: load the specs, refuse invalid ones (listing every
problem), plan the horizon, and keep the live catalog the rest of the service reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gameday.domain.errors import GamedayError
from gameday.domain.ports import Clock
from gameday.services.catalog import CatalogLoad
from gameday.services.fire_guards import PlannedOccurrence, ScheduleRules
from gameday.services.live_catalog import LiveCatalog
from gameday.services.planning import plan
from gameday.services.serving import occurrences_of, rules_for, upcoming_lines


class SpecsInvalid(GamedayError):
    """The specs have errors; `problems` lists every one (file:line:col: message)."""

    exit_code = 2

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"the specs have {len(self.problems)} error(s); nothing started"
            + (f" (first: {self.problems[0]})" if self.problems else "")
        )


class ServicePlan:
    """The service's PlanLoader: call it to (re)load the specs and plan the horizon.

    Rules: invalid specs raise SpecsInvalid and change nothing (the previous catalog and
    plan stay); a valid load replaces the live catalog whole; the plan's random draws
    (monkey kills) use the seed drawn once for the service's life.
    """

    def __init__(
        self,
        *,
        load: Callable[[], CatalogLoad],
        live: LiveCatalog,
        clock: Clock,
        seed: int,
        horizon_hours: int,
        default_channel: str,
    ) -> None:
        self._load = load
        self._live = live
        self._clock = clock
        self._seed = seed
        self._days = max(1, -(-horizon_hours // 24))
        self._default_channel = default_channel

    def __call__(self) -> tuple[list[PlannedOccurrence], dict[str, ScheduleRules]]:
        """Load and plan: the occurrences to keep as runs and each schedule's rules."""
        loaded = self._load()
        if loaded.errors:
            raise SpecsInvalid([str(e) for e in loaded.errors])
        catalog = loaded.catalog
        made = plan(catalog, start=self._clock.now(), days=self._days, seed=self._seed)
        rules = rules_for(catalog, default_channel=self._default_channel)
        self._live.replace(catalog, made.occurrences)
        return occurrences_of(made), rules

    def upcoming_lines(self) -> list[str]:
        """The next planned occurrences as lines for the start-up log."""
        return upcoming_lines(self._live.upcoming(self._clock.now()))
