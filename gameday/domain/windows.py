"""Safety windows: when chaos is allowed (timezone, weekdays, hours, holidays, blackouts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time


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
