"""What a running service plans from: load the specs, refuse invalid ones (listing every
problem), plan the horizon, and keep the live catalog the rest of the service reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from gameday.domain.errors import GamedayError
from gameday.domain.fire_guards import PlannedOccurrence, ScheduleRules
from gameday.domain.mrkdwn import format_when
from gameday.domain.ports import Clock
from gameday.services.catalog import CatalogLoad
from gameday.services.live_catalog import LiveCatalog
from gameday.services.planning import plan
from gameday.services.serving import occurrences_of, rules_for, upcoming_lines

# How far ahead the start-up log looks for the next occurrences.
LOOKAHEAD_DAYS = 35


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
        self._horizon_hours = horizon_hours
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

    def past(self, since: datetime, until: datetime) -> list[PlannedOccurrence]:
        """The occurrences the current specs plan between two past instants (what a
        service that was not running missed)."""
        days = max(1, -(-int((until - since).total_seconds()) // 86400))
        made = plan(self._live(), start=since, days=days, seed=self._seed)
        return [o for o in occurrences_of(made) if since < o.at <= until]

    def upcoming_lines(self, *, limit: int = 5) -> list[str]:
        """What comes next, for the start-up log: the planning horizon and the next
        `limit` planned occurrences however far ahead (up to LOOKAHEAD_DAYS), so a weekend
        start still shows next week's GameDays."""
        now = self._clock.now()
        ahead = plan(self._live(), start=now, days=LOOKAHEAD_DAYS, seed=self._seed)
        planned = [o for o in ahead.occurrences if o.status == "planned" and o.at >= now]
        lines = [
            f"planning horizon {self._horizon_hours}h: runs are recorded up to "
            f"{format_when(now + timedelta(hours=self._horizon_hours), 'UTC')}"
        ]
        if not planned:
            return [*lines, f"nothing planned in the next {LOOKAHEAD_DAYS} days"]
        lines += upcoming_lines(planned[:limit], limit=limit)
        if len(planned) > limit:
            lines.append(f"... and {len(planned) - limit} more in the next {LOOKAHEAD_DAYS} days")
        return lines
