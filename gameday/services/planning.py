"""Planning: expand the schedules of a catalog into occurrences over a horizon.

Rules:
- A GameDay occurs at each `cron` fire time (APScheduler's CronTrigger in the schedule's
  zone, with its DST handling: a fire time inside a spring-forward gap moves forward by the
  gap, 02:30 -> 03:30) or once `at` its instant. One that falls outside its window is listed
  as `skipped` with the window's reason, never dropped. A wall time that a fall-back fold
  repeats fires once, at its first occurrence; the repeat is listed as `skipped`.
  Fire times come from `gameday.domain.cron_times` (APScheduler's field matching per day,
  the trigger itself on DST days); unlike stepping APScheduler 3.x fire by fire, it does not
  skip fires in the first hour of the day after a spring-forward.
- A monkey's kills are drawn Chaos-Monkey style (`gameday.domain.monkey_timing`) inside the
  open time of its window, each four-week period from a generator seeded with
  `f"{seed}:{schedule}:{period}"`: one plan seed reproduces every schedule's kills, adding a
  schedule changes no other's, and re-planning from a later start keeps the kills already
  planned (the same seed gives the same kill at the same instant).
- Occurrences are sorted by instant, then schedule name. Kill switch and paused schedules
  are runtime state and play no part here.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gameday.domain.cron_times import CronCalendar, TooManyFires
from gameday.domain.durations import format_duration
from gameday.domain.errors import InvalidInput
from gameday.domain.monkey_timing import PERIOD, draw_kill_times, period_start
from gameday.domain.specs import GamedaySpec, MonkeySpec
from gameday.domain.windows import Interval, Window, WindowCalendar
from gameday.services.catalog import Catalog

Kind = Literal["gameday", "monkey"]
Status = Literal["planned", "skipped"]
MAX_DAYS = 366
MAX_PER_SCHEDULE = 20_000
"""More occurrences than this for one schedule is a mistake (a GameDay every minute, a
monkey with `mtbf: 1m`); the plan refuses rather than listing them."""
SEED_LIMIT = 2**31


@dataclass(frozen=True)
class Occurrence:
    """One planned GameDay run or monkey kill; `at` is UTC, `local` in `timezone`."""

    schedule: str
    kind: Kind
    at: datetime
    local: datetime
    timezone: str
    status: Status
    reason: str
    window: str | None = None
    runbook: str | None = None

    def shown_in(self, zone: str | None = None) -> datetime:
        """The instant in `zone`, or in the schedule's own zone when None."""
        return self.local if zone is None else self.at.astimezone(ZoneInfo(zone))

    def as_dict(self, zone: str | None = None) -> dict[str, Any]:
        """Stable snake_case keys for `--json`: `at` in the display zone, `at_utc` in UTC."""
        shown = self.shown_in(zone)
        return {
            "schedule": self.schedule,
            "kind": self.kind,
            "at": shown.isoformat(),
            "at_utc": self.at.isoformat(),
            "timezone": zone or self.timezone,
            "status": self.status,
            "reason": self.reason,
            "window": self.window,
            "runbook": self.runbook,
        }


@dataclass(frozen=True)
class Plan:
    """Occurrences in [start, end), sorted by time, and the seed that drew the kills."""

    start: datetime
    end: datetime
    seed: int
    occurrences: tuple[Occurrence, ...] = field(default_factory=tuple)

    def count(self, status: Status) -> int:
        """How many occurrences have `status`."""
        return sum(1 for o in self.occurrences if o.status == status)


def draw_seed(rng: random.Random) -> int:
    """A fresh plan seed (0 <= seed < 2**31) from `rng`; callers pass a SystemRandom."""
    return rng.randrange(SEED_LIMIT)


def check_horizon(start: datetime, days: int) -> datetime:
    """The end of a horizon of `days` days from aware `start`; InvalidInput otherwise."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidInput(f"start {start.isoformat()} has no UTC offset")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}, got {days}")
    return start.astimezone(UTC) + timedelta(days=days)


def plan(catalog: Catalog, *, start: datetime, days: int, seed: int) -> Plan:
    """Expand every GameDay and monkey of `catalog` over [start, start + days)."""
    return expand(
        catalog.windows,
        catalog.gamedays.values(),
        catalog.monkeys.values(),
        start=start,
        days=days,
        seed=seed,
    )


def expand(
    windows: Mapping[str, Window],
    gamedays: Iterable[GamedaySpec],
    monkeys: Iterable[MonkeySpec],
    *,
    start: datetime,
    days: int,
    seed: int,
) -> Plan:
    """Expand GameDays and monkeys over [start, start + days) into a sorted Plan.

    Rules: see the module docstring; a schedule naming a window missing from `windows` is
    InvalidInput (the catalog never lets one through).
    """
    end = check_horizon(start, days)
    begin = start.astimezone(UTC)
    cache = _Horizon(begin, end)
    found: list[Occurrence] = []
    for spec in gamedays:
        found.extend(_gameday(spec, _window(windows, spec.window, spec.name), cache))
    for monkey in monkeys:
        window = _window(windows, monkey.window, monkey.name)
        assert window is not None
        found.extend(_monkey(monkey, window, cache, seed))
    found.sort(key=attrgetter("at", "schedule"))
    return Plan(begin, end, seed, tuple(found))


def _window(windows: Mapping[str, Window], name: str | None, schedule: str) -> Window | None:
    if name is None:
        return None
    window = windows.get(name)
    if window is None:
        raise InvalidInput(f"schedule {schedule!r} names window {name!r}, which does not exist")
    return window


class _Horizon:
    """Per-plan memory: each window's calendar and open intervals, and cron matches."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start
        self.end = end
        self.cron = CronCalendar(start, end)
        self._calendars: dict[str, WindowCalendar] = {}
        self._intervals: dict[str, list[Interval]] = {}

    def calendar(self, window: Window) -> WindowCalendar:
        found = self._calendars.get(window.name)
        if found is None:
            found = self._calendars[window.name] = WindowCalendar(window)
        return found

    def draw_intervals(self, window: Window) -> list[Interval]:
        """Open intervals from a whole draw period before the horizon to its end."""
        found = self._intervals.get(window.name)
        if found is None:
            first = period_start(self.start) - PERIOD
            found = self.calendar(window).intervals(first, self.end)
            self._intervals[window.name] = found
        return found

    def cron_times(self, spec: GamedaySpec) -> list[datetime]:
        trigger = spec.cron_trigger()
        if trigger is None:
            return []
        try:
            return self.cron.fire_times(trigger, limit=MAX_PER_SCHEDULE)
        except TooManyFires:
            raise InvalidInput(
                f"gameday {spec.name!r}: cron {spec.cron!r} fires more than "
                f"{MAX_PER_SCHEDULE} times in the horizon; is that really a GameDay?"
            ) from None


def _gameday(spec: GamedaySpec, window: Window | None, cache: _Horizon) -> list[Occurrence]:
    zone_name = spec.effective_timezone()
    zone = ZoneInfo(zone_name)
    if spec.at is not None:
        at = spec.at if spec.at.tzinfo is not None else spec.at.replace(tzinfo=zone)
        times: Iterable[datetime] = [at] if cache.start <= at < cache.end else []
    else:
        times = cache.cron_times(spec)
    found: list[Occurrence] = []
    seen: set[datetime] = set()
    calendar = None if window is None else cache.calendar(window)
    same_zone = window is not None and window.timezone == zone_name
    special = cache.cron.special_days(zone)
    exact = spec.at is not None
    for fire in times:
        at = fire.astimezone(UTC)
        day = fire.date()
        status: Status = "planned"
        if exact or day in special:
            local = at.astimezone(zone)
            day = local.date()
            if day in special:
                wall = local.replace(tzinfo=None)
                if local.fold == 1 and wall in seen:
                    status = "skipped"
                elif local.replace(fold=1).utcoffset() != local.utcoffset():
                    # A wall time a fall-back fold repeats: remember its first occurrence.
                    seen.add(wall)
        else:
            # On a day without an offset change the fire is already a valid local time.
            local = fire
        if status == "skipped":
            reason = _repeat_reason(local, zone_name)
        elif calendar is None:
            reason = "open: no window, always allowed"
        else:
            is_open_then, reason = calendar.status(at, day if same_zone else None)
            if not is_open_then:
                status = "skipped"
        # Positional: this runs once per occurrence, up to a hundred thousand times.
        found.append(
            Occurrence(
                spec.name,
                "gameday",
                at,
                local,
                zone_name,
                status,
                reason,
                spec.window,
                spec.runbook,
            )
        )
    return found


def _repeat_reason(local: datetime, zone: str) -> str:
    return (
        f"skipped: {local:%H:%M} occurs twice on {local.date().isoformat()} in {zone} "
        "(daylight saving time ends); it runs once, at the first occurrence"
    )


def _monkey(spec: MonkeySpec, window: Window, cache: _Horizon, seed: int) -> list[Occurrence]:
    # Draw from a whole period before the horizon so the kills of every period, and the
    # minimum gap across period boundaries, do not depend on where the horizon starts.
    intervals: Sequence[Interval] = cache.draw_intervals(window)
    open_time = sum((b - a for a, b in intervals), timedelta(0))
    expected = open_time / spec.mtbf
    if expected > MAX_PER_SCHEDULE:
        raise InvalidInput(
            f"monkey {spec.name!r}: mtbf {format_duration(spec.mtbf)} over "
            f"{format_duration(open_time)} of open window time means about {int(expected)} "
            f"kills, more than {MAX_PER_SCHEDULE}; is that really what you want?"
        )

    def rng_for(period: datetime) -> random.Random:
        return random.Random(f"{seed}:{spec.name}:{period.date().isoformat()}")

    kills = draw_kill_times(
        intervals, mtbf=spec.mtbf, min_gap=spec.min_time_between_kills, rng_for=rng_for
    )
    zone = ZoneInfo(window.timezone)
    reason = (
        f"random kill in open time of window {window.name} "
        f"(mtbf {format_duration(spec.mtbf)}, "
        f"at least {format_duration(spec.min_time_between_kills)} apart)"
    )
    return [
        Occurrence(
            schedule=spec.name,
            kind="monkey",
            at=at,
            local=at.astimezone(zone),
            timezone=window.timezone,
            status="planned",
            reason=reason,
            window=window.name,
        )
        for at in kills
        if cache.start <= at < cache.end
    ]
