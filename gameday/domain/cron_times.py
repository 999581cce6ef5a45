"""Fire times of APScheduler cron triggers over a horizon, computed per day.

Stepping `CronTrigger.get_next_fire_time` costs tens of microseconds per fire (it walks
field by field, day by day); a year of 600 GameDays took seconds. This module gives the
same instants faster, still with APScheduler's own semantics:

- which dates and which times of day match is decided by the trigger's own field
  expressions (every field must match, as in APScheduler);
- on a day without a UTC-offset change a wall time maps to exactly one instant, so the
  fires are the matching times of that day;
- on a day whose offset changes (DST, zone rule changes) the trigger itself is stepped
  through the day, so gaps and folds are handled by APScheduler exactly as at run time
  (a time in a spring-forward gap fires shifted by the gap; a repeated time fires twice).

`tests/planning/test_cron_times.py` checks the result equals plain stepping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DATE_FIELDS = ("year", "month", "day", "week", "day_of_week")
_TIME_FIELDS = ("hour", "minute", "second")
_ONE_DAY = timedelta(days=1)


class TooManyFires(ValueError):
    """A trigger fires more often over the horizon than the caller allows."""


def _matches(field: Any, value: datetime) -> bool:
    return bool(field.get_next_value(value) == field.get_value(value))


def _key(trigger: CronTrigger, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{f.name}={f}" for f in trigger.fields if f.name in names)


class CronCalendar:
    """Remembers, for one horizon, which dates and times of day each cron pattern matches.

    Rules: `fire_times` returns the same aware instants (and fold) that stepping the trigger
    from `start` would, for those in [start, end).
    """

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start.astimezone(UTC)
        self.end = end.astimezone(UTC)
        self._dates: dict[tuple[str, ...], list[date]] = {}
        self._times: dict[tuple[str, ...], list[time]] = {}
        self._special: dict[str, set[date]] = {}

    def fire_times(self, trigger: CronTrigger, *, limit: int) -> list[datetime]:
        """Fire times in [start, end) in the trigger's zone; TooManyFires beyond `limit`."""
        zone = trigger.timezone
        name = str(zone)
        days = self._matching_dates(trigger, name)
        times = self._matching_times(trigger)
        if len(days) * len(times) > limit + 2 * len(times):
            raise TooManyFires(f"more than {limit} fire times")
        special = self._special_days(zone, name)
        found: list[datetime] = []
        for day in days:
            if day in special:
                found.extend(f for f in _step_through(trigger, day) if self.start <= f < self.end)
                continue
            for at in times:
                fire = datetime.combine(day, at, zone)
                if self.start <= fire < self.end:
                    found.append(fire)
        if len(found) > limit:
            raise TooManyFires(f"more than {limit} fire times")
        return found

    def _local_range(self, zone: Any) -> tuple[date, date]:
        return self.start.astimezone(zone).date(), self.end.astimezone(zone).date()

    def is_special(self, zone: Any, day: date) -> bool:
        """Whether the UTC offset of `zone` changes during local `day` (a DST day)."""
        return day in self._special_days(zone, str(zone))

    def special_days(self, zone: Any) -> frozenset[date]:
        """The local dates of the horizon on which the UTC offset of `zone` changes."""
        return frozenset(self._special_days(zone, str(zone)))

    def _matching_dates(self, trigger: CronTrigger, zone_name: str) -> list[date]:
        # Local dates of any zone lie within a day of the UTC dates, so one list per date
        # pattern serves every zone; fire_times drops instants outside the horizon.
        key = _key(trigger, _DATE_FIELDS)
        found = self._dates.get(key)
        if found is None:
            fields = [f for f in trigger.fields if f.name in _DATE_FIELDS and str(f) != "*"]
            day = self.start.date() - _ONE_DAY
            last = self.end.date() + _ONE_DAY
            found = []
            while day <= last:
                midnight = datetime(day.year, day.month, day.day)
                if all(_matches(f, midnight) for f in fields):
                    found.append(day)
                day += _ONE_DAY
            self._dates[key] = found
        return found

    def _matching_times(self, trigger: CronTrigger) -> list[time]:
        key = _key(trigger, _TIME_FIELDS)
        found = self._times.get(key)
        if found is None:
            by_name = {f.name: f for f in trigger.fields if f.name in _TIME_FIELDS}
            base = datetime(2000, 1, 1)
            hours = [h for h in range(24) if _matches(by_name["hour"], base.replace(hour=h))]
            minutes = [m for m in range(60) if _matches(by_name["minute"], base.replace(minute=m))]
            seconds = [s for s in range(60) if _matches(by_name["second"], base.replace(second=s))]
            found = [time(h, m, s) for h in hours for m in minutes for s in seconds]
            self._times[key] = found
        return found

    def _special_days(self, zone: Any, zone_name: str) -> set[date]:
        found = self._special.get(zone_name)
        if found is None:
            first, last = self._local_range(zone)
            found = set()
            day = first - _ONE_DAY
            offset = datetime.combine(day, time(0), zone).utcoffset()
            while day <= last:
                following = datetime.combine(day + _ONE_DAY, time(0), zone).utcoffset()
                if following != offset:
                    found.add(day)
                offset = following
                day += _ONE_DAY
            self._special[zone_name] = found
        return found


def _step_through(trigger: CronTrigger, day: date) -> list[datetime]:
    """Fires whose wall date is `day`, by stepping the trigger from just before that day."""
    zone: ZoneInfo = trigger.timezone
    now = datetime.combine(day, time(0), zone).astimezone(UTC) - timedelta(seconds=1)
    fire = trigger.get_next_fire_time(None, now)
    while fire is not None and fire.date() < day:
        fire = trigger.get_next_fire_time(fire, fire)
    found: list[datetime] = []
    while fire is not None and fire.date() == day:
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return found
