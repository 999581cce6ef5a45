"""Clocks: the real one and a settable one for tests and simulations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


class SystemClock:
    """The wall clock, always aware and in UTC."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to; for tests and deterministic replays."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        """Return the instant this clock was set to."""
        return self.current

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by delta (never backwards)."""
        if delta < timedelta(0):
            raise ValueError("a clock does not go backwards")
        self.current += delta
