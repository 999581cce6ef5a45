"""Safety windows: when chaos is allowed (timezone, weekdays, hours, holidays, blackouts).

Every rule is evaluated on the LOCAL wall clock of the window's IANA `timezone` (zoneinfo);
instants are aware datetimes and all arithmetic is done in UTC, never on naive local times.

A window opens one *shift* per allowed local date D:

- hours `HH:MM-HH:MM` with the end after the start: [D start, D end);
- an end before (or equal to) the start crosses midnight: [D start, D+1 end);
- no hours: the whole local day [D 00:00, D+1 00:00).

Rules for a shift (chosen for safety and predictability):

- Weekdays decide which dates a shift *starts* on: `22:00-02:00` on `fri` runs Friday 22:00 to
  Saturday 02:00 even when Saturday is not allowed, and Monday 00:00-02:00 is closed when
  Sunday is not allowed (a shift belongs to the day it starts, the usual on-call convention).
- Holidays and blackout dates close whole local dates: a shift starting on one does not open
  at all, and the after-midnight tail of a shift that began the day before stops at the local
  midnight that starts the closed date. Blackouts are inclusive of both dates.

DST (a deliberate choice, tested on the Berlin and New York transition days of 2026):

- A boundary wall time resolves to the FIRST instant whose local reading is at or past it.
  A start or end inside a spring-forward gap (Berlin 2026-03-29 02:30) therefore resolves to
  the first instant after the gap (03:00 CEST); the shift is as much shorter as the gap.
- In a fall-back fold (Berlin 2026-10-25 02:00-03:00 happens twice) a start uses the first
  occurrence (fold=0) and an end the second (fold=1): a shift never closes and reopens inside
  the repeated hour, and it is as much longer as the fold.

`open_intervals` lists the open time between two instants as sorted, non-overlapping,
merged UTC intervals; `is_open` agrees with it by construction (both come from the shifts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays as holidays_lib

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# How far next_open / next_close look before giving up; a year and a bit covers every
# yearly rule (holidays, blackouts) while keeping the answer bounded.
SEARCH_DAYS = 400
_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Window:
    """A parsed window; all rules are evaluated in `timezone` (an IANA name).

    `weekdays` uses 0=Monday..6=Sunday; `hours` is None for all day, and an end before
    the start crosses midnight (`22:00-02:00`; `10:00-00:00` ends at midnight); `blackouts` are
    inclusive (first, last) date pairs.
    """

    name: str
    timezone: str
    weekdays: frozenset[int] = frozenset(range(7))
    hours: tuple[time, time] | None = None
    holidays: str | None = None
    subdivision: str | None = None
    blackouts: tuple[tuple[date, date], ...] = field(default_factory=tuple)

    def is_open(self, t: datetime) -> WindowStatus:
        """Whether chaos is allowed at instant t, and why (see `is_open`)."""
        return is_open(self, t)

    def next_open(self, t: datetime) -> datetime | None:
        """The earliest open instant at or after t (see `next_open`)."""
        return next_open(self, t)

    def next_close(self, t: datetime) -> datetime | None:
        """The earliest closed instant at or after t (see `next_close`)."""
        return next_close(self, t)

    def open_intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """Open time within [start, end) as sorted merged UTC intervals."""
        return open_intervals(self, start, end)


class WindowStatus(NamedTuple):
    """The answer of `is_open`: unpack as `ok, reason = is_open(window, t)`."""

    open: bool
    reason: str


@lru_cache(maxsize=512)
def _holiday_table(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    # Building a holidays table costs milliseconds; planning asks about every date of a
    # year for many windows, so each (country, subdivision, year) is built once.
    table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    return dict(table.items())


def holiday_name(window: Window, day: date) -> str | None:
    """The holiday's name if `day` is a public holiday under the window's rule, else None."""
    if not window.holidays:
        return None
    return _holiday_table(window.holidays, window.subdivision, day.year).get(day)


def _region(window: Window) -> str:
    country = window.holidays or ""
    return f"{country}-{window.subdivision}" if window.subdivision else country


def closed_date_reason(window: Window, day: date) -> str | None:
    """Why the whole local date is closed (blackout first, then holiday), or None."""
    for first, last in window.blackouts:
        if first <= day <= last:
            return f"blackout {first.isoformat()}..{last.isoformat()}"
    name = holiday_name(window, day)
    if name is not None:
        return f"{day.isoformat()} is a holiday in {_region(window)} ({name})"
    return None


def _hours_text(window: Window) -> str:
    if window.hours is None:
        return f"all day {window.timezone}"
    start, end = window.hours
    return f"{start:%H:%M}-{end:%H:%M} {window.timezone}"


def _zone(window: Window) -> ZoneInfo:
    return ZoneInfo(window.timezone)


def resolve_wall_time(day: date, at: time, zone: tzinfo, *, end: bool = False) -> datetime:
    """The UTC instant of local wall time `day at` in `zone`, with the module's DST rules.

    Rules: an existing unambiguous time is exact; a time in a spring-forward gap resolves
    to the first instant after the gap; a time in a fall-back fold resolves to its first
    occurrence, or to its second when `end` is true.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    early = first.astimezone(UTC)
    late = second.astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == naive:
        # Both readings exist: a fold. PEP 495 maps fold=0 to the earlier instant.
        return max(early, late) if end else min(early, late)
    return _end_of_gap(min(early, late), max(early, late), zone)


def _end_of_gap(before: datetime, after: datetime, zone: tzinfo) -> datetime:
    """The transition instant in (before, after]: the first instant after a DST gap."""
    target = after.astimezone(zone).utcoffset()
    lo, hi = before, after
    # Transitions fall on whole seconds; halve the range until it is one second wide.
    while hi - lo > timedelta(seconds=1):
        mid = (lo + (hi - lo) // 2).replace(microsecond=0)
        if mid.astimezone(zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return hi


def _raw_shift(window: Window, day: date, zone: tzinfo) -> tuple[Interval, date]:
    """The shift starting on local `day` ignoring date rules, and the date its tail ends on."""
    if window.hours is None:
        start = resolve_wall_time(day, _MIDNIGHT, zone)
        return (start, resolve_wall_time(day + _ONE_DAY, _MIDNIGHT, zone)), day
    begin, finish = window.hours
    start = resolve_wall_time(day, begin, zone)
    if finish > begin:
        return (start, resolve_wall_time(day, finish, zone, end=True)), day
    tail_day = day + _ONE_DAY
    # An end at 00:00 is the start of the next day, resolved like every midnight.
    stop = resolve_wall_time(tail_day, finish, zone, end=finish != _MIDNIGHT)
    return (start, stop), tail_day


def _check_aware(t: datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{t.isoformat()} has no UTC offset; windows need aware datetimes")


def _open_reason(window: Window, day: date, today: date) -> str:
    weekday = WEEKDAY_NAMES[day.weekday()]
    if window.hours is None:
        return f"open: {weekday} {day.isoformat()}, {_hours_text(window)}"
    if day == today:
        return f"open: {weekday} {day.isoformat()}, within hours {_hours_text(window)}"
    return (
        f"open: within hours {_hours_text(window)} (the shift started {weekday} {day.isoformat()})"
    )


class WindowCalendar:
    """One window's shifts and date rules, computed once per local date and remembered.

    `is_open` and `open_intervals` build a fresh calendar per call; planning keeps one per
    window for a whole horizon, so a year of occurrences costs a year of shifts, not more.
    """

    def __init__(self, window: Window) -> None:
        self.window = window
        self.zone = _zone(window)
        self._raw: dict[date, tuple[Interval, date]] = {}
        self._shifts: dict[date, Interval | None] = {}
        self._closed: dict[date, str | None] = {}
        self._reasons: dict[tuple[bool, date, date | None], str] = {}
        self._days: dict[date, tuple[tuple[date, Interval | None, Interval], ...]] = {}

    def closed_reason(self, day: date) -> str | None:
        """Why the whole local date is closed (blackout, holiday), or None."""
        if day not in self._closed:
            self._closed[day] = closed_date_reason(self.window, day)
        return self._closed[day]

    def start_day_reason(self, day: date) -> str | None:
        """Why no shift starts on `day` (weekday, blackout, holiday), or None."""
        if day.weekday() not in self.window.weekdays:
            return f"{WEEKDAY_NAMES[day.weekday()]} is not an allowed weekday"
        return self.closed_reason(day)

    def raw_shift(self, day: date) -> tuple[Interval, date]:
        """The shift starting on `day` ignoring date rules, and the date its tail ends on."""
        found = self._raw.get(day)
        if found is None:
            found = self._raw[day] = _raw_shift(self.window, day, self.zone)
        return found

    def shift(self, day: date) -> Interval | None:
        """The open interval (UTC) of the shift starting on `day`, or None if none opens."""
        if day in self._shifts:
            return self._shifts[day]
        found: Interval | None = None
        if self.start_day_reason(day) is None:
            (start, stop), tail_day = self.raw_shift(day)
            if tail_day != day and self.closed_reason(tail_day) is not None:
                stop = min(stop, resolve_wall_time(tail_day, _MIDNIGHT, self.zone))
            found = (start, stop) if stop > start else None
        self._shifts[day] = found
        return found

    def status(self, t: datetime, today: date | None = None) -> WindowStatus:
        """Whether the window is open at aware instant t, and why (see `is_open`).

        `today` is t's local date in the window's zone when the caller already knows it.
        """
        if t.tzinfo is not UTC:
            _check_aware(t)
        if today is None:
            today = t.astimezone(self.zone).date()
        table = self._days.get(today)
        if table is None:
            table = self._days[today] = self._day_table(today)
        for day, shift, _ in table:
            if shift is not None and shift[0] <= t < shift[1]:
                return WindowStatus(True, self._reason(True, today, day))
        covering: date | None = None
        for day, _, raw in table:
            if raw[0] <= t < raw[1]:
                covering = day
                break
        return WindowStatus(False, self._reason(False, today, covering))

    def _day_table(self, today: date) -> tuple[tuple[date, Interval | None, Interval], ...]:
        """The shifts that may cover an instant of local date `today`: its own, the day before."""
        yesterday = today - _ONE_DAY
        return tuple((day, self.shift(day), self.raw_shift(day)[0]) for day in (today, yesterday))

    def _reason(self, is_open: bool, today: date, day: date | None) -> str:
        # Reasons repeat for every occurrence on a date; build each text once.
        key = (is_open, today, day)
        found = self._reasons.get(key)
        if found is None:
            if is_open:
                assert day is not None
                found = _open_reason(self.window, day, today)
            else:
                found = "closed: " + self._closed_because(today, day)
            self._reasons[key] = found
        return found

    def _closed_because(self, today: date, covering: date | None) -> str:
        """Why closed, given the date and the day whose raw shift covers the instant."""
        closed = self.closed_reason(today)
        if closed is not None:
            return closed
        if covering is not None:
            why = self.start_day_reason(covering)
            if why is not None and covering == today:
                return why
            if why is not None:
                hours = _hours_text(self.window)
                return f"{why} (the {hours} shift started on {covering.isoformat()})"
        if today.weekday() not in self.window.weekdays:
            return f"{WEEKDAY_NAMES[today.weekday()]} is not an allowed weekday"
        return f"outside hours {_hours_text(self.window)}"

    def intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """Open time within [start, end) as sorted, non-overlapping, merged UTC intervals."""
        _check_aware(start)
        _check_aware(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        merged: list[Interval] = []
        day = start.astimezone(self.zone).date() - _ONE_DAY
        last = end.astimezone(self.zone).date()
        while day <= last:
            shift = self.shift(day)
            day += _ONE_DAY
            if shift is None:
                continue
            a, b = max(shift[0], start), min(shift[1], end)
            if a >= b:
                continue
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged


def shift_for(window: Window, day: date) -> Interval | None:
    """The open interval (UTC) of the shift starting on local `day`, or None if none opens."""
    return WindowCalendar(window).shift(day)


def is_open(window: Window, t: datetime) -> WindowStatus:
    """Whether chaos is allowed at instant t (any aware datetime), with a human reason.

    Rules: open iff t lies in a shift (see the module docstring); the reason names the
    first rule that closes it: blackout, holiday, weekday, then hours.
    """
    return WindowCalendar(window).status(t)


def open_intervals(window: Window, start: datetime, end: datetime) -> list[Interval]:
    """Open time within [start, end) as sorted, non-overlapping, merged UTC intervals.

    Rules: each interval is half-open [a, b) with a < b; touching shifts (all-day windows
    on consecutive days) merge into one interval.
    """
    return WindowCalendar(window).intervals(start, end)


def next_open(window: Window, t: datetime, *, days: int = SEARCH_DAYS) -> datetime | None:
    """The earliest open instant (UTC) at or after t, or None if none within `days` days."""
    _check_aware(t)
    if is_open(window, t).open:
        return t.astimezone(UTC)
    found = open_intervals(window, t, t + timedelta(days=days))
    return found[0][0] if found else None


def next_close(window: Window, t: datetime, *, days: int = SEARCH_DAYS) -> datetime | None:
    """The earliest closed instant (UTC) at or after t, or None if open for `days` days."""
    _check_aware(t)
    limit = t.astimezone(UTC) + timedelta(days=days)
    found = open_intervals(window, t, limit)
    if not found or found[0][0] > t:
        return t.astimezone(UTC)
    stop = found[0][1]
    return None if stop >= limit else stop
