"""Chaos-Monkey-style kill times: random, but only inside open window time.

Rules:
- The gaps between kills are drawn from an exponential distribution whose mean is `mtbf`,
  measured in OPEN window time: closed nights, weekends and holidays do not count, so a
  monkey with `mtbf: 2d` over a 6-hour weekday window kills about once every 8 weekdays.
- Time is cut into fixed periods (four UTC weeks, from Monday 2001-01-01 00:00) and each
  period draws from its own generator (`rng_for(period_start)`). The exponential
  distribution has no memory, so restarting at each period changes nothing statistically,
  and it makes the kills of a period the same whichever horizon a plan starts from:
  re-planning never moves a kill. (Four weeks rather than one: each generator costs ~13 us
  to seed, which a year of 400 monkeys felt.)
- A drawn kill closer than `min_gap` (wall time) to the previous drawn kill is dropped, as
  Chaos Monkey skips a termination that comes too soon after the last one. Comparing with
  the previous *drawn* kill keeps the rule independent of where a plan starts, and kept
  kills are still at least `min_gap` apart.
- Kill times are whole seconds and always inside an open interval.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

Interval = tuple[datetime, datetime]
PERIOD = timedelta(weeks=4)
_ORIGIN = datetime(2001, 1, 1, tzinfo=UTC)  # a Monday


def period_start(t: datetime) -> datetime:
    """The start of the draw period (four UTC weeks from a Monday 00:00) holding instant t."""
    return _ORIGIN + PERIOD * ((t - _ORIGIN) // PERIOD)


Seconds = tuple[float, float]


def _chain(intervals: Sequence[Seconds], mean: float, rng: random.Random) -> list[float]:
    """One exponential walk through `intervals` (open time, POSIX seconds) from their start.

    Floats rather than datetimes: this loop runs once per drawn kill and per skipped
    interval, for every monkey over the whole horizon.
    """
    kills: list[float] = []
    index, count = 0, len(intervals)
    cursor = intervals[0][0]
    while True:
        gap = float(int(rng.expovariate(1.0 / mean)))
        while gap >= intervals[index][1] - cursor:
            gap -= intervals[index][1] - cursor
            index += 1
            if index == count:
                return kills
            cursor = intervals[index][0]
        at = float(math.ceil(cursor + gap))
        if at < intervals[index][1]:
            kills.append(at)
        cursor = at


def _by_period(intervals: Sequence[Interval]) -> list[tuple[datetime, list[Seconds]]]:
    """The intervals cut at period boundaries, grouped by period, in one pass."""
    groups: list[tuple[datetime, list[Seconds]]] = []
    period = period_start(intervals[0][0])
    boundary = period + PERIOD
    current: list[Seconds] = []
    for a, b in intervals:
        while a < b:
            if a >= boundary:
                if current:
                    groups.append((period, current))
                period, current = period_start(a), []
                boundary = period + PERIOD
            stop = min(b, boundary)
            current.append((a.timestamp(), stop.timestamp()))
            a = stop
    if current:
        groups.append((period, current))
    return groups


def draw_kill_times(
    intervals: Sequence[Interval],
    *,
    mtbf: timedelta,
    min_gap: timedelta,
    rng_for: Callable[[datetime], random.Random],
) -> list[datetime]:
    """Draw kill instants inside `intervals` (sorted, non-overlapping, as `open_intervals`).

    Rules: see the module docstring. Kills of the period holding the first interval's start
    come out whole only when the intervals begin at that period's start; callers list open
    time from a period earlier than they need and keep the kills they want.
    """
    if mtbf <= timedelta(0):
        raise ValueError("mtbf must be greater than zero")
    if not intervals:
        return []
    mean, gap = mtbf.total_seconds(), min_gap.total_seconds()
    kills: list[datetime] = []
    previous: float | None = None
    for period, open_time in _by_period(intervals):
        for at in _chain(open_time, mean, rng_for(period)):
            if previous is None or at - previous >= gap:
                kills.append(datetime.fromtimestamp(at, UTC))
            previous = at
    return kills
