"""Window factories and time helpers shared by the window tests."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from gameday.domain.windows import Window

WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def hours(text: str) -> tuple[time, time]:
    """`10:00-16:00` as a pair of times (the spec parser's job; kept tiny here)."""
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def local(zone: str, text: str, *, fold: int = 0) -> datetime:
    """An aware datetime from a local ISO text in `zone`."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold)


def make_window(
    *,
    timezone: str = "Asia/Tokyo",
    weekdays: str = "mon tue wed thu fri",
    hours_text: str | None = "10:00-16:00",
    holidays: str | None = None,
    subdivision: str | None = None,
    blackouts: tuple[str, ...] = (),
    name: str = "w",
) -> Window:
    """A Window built from the same short forms people write in specs."""
    pairs = []
    for item in blackouts:
        first, _, last = item.partition("..")
        pairs.append((date.fromisoformat(first), date.fromisoformat(last or first)))
    return Window(
        name=name,
        timezone=timezone,
        weekdays=frozenset(WEEKDAY_INDEX[d] for d in weekdays.split()),
        hours=None if hours_text is None else hours(hours_text),
        holidays=holidays,
        subdivision=subdivision,
        blackouts=tuple(pairs),
    )
