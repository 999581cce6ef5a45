"""DST transition days of 2026 in Europe/Berlin and America/New_York.

Rules under test (see gameday.domain.windows): a boundary in a spring-forward gap resolves
to the first instant after the gap; in a fall-back fold a start takes the first occurrence
and an end the second.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from gameday.domain.windows import is_open, open_intervals, resolve_wall_time, shift_for
from tests.windows.conftest import local, make_window

EVERY_DAY = "mon tue wed thu fri sat sun"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "hours_text", "day", "start", "end"),
    [
        # Berlin spring forward 2026-03-29: 02:00 CET -> 03:00 CEST (01:00 UTC).
        ("Europe/Berlin", "02:30-04:00", "2026-03-29", "2026-03-29T01:00", "2026-03-29T02:00"),
        ("Europe/Berlin", "01:00-02:30", "2026-03-29", "2026-03-29T00:00", "2026-03-29T01:00"),
        ("Europe/Berlin", "01:00-04:00", "2026-03-29", "2026-03-29T00:00", "2026-03-29T02:00"),
        ("Europe/Berlin", "22:00-02:30", "2026-03-28", "2026-03-28T21:00", "2026-03-29T01:00"),
        ("Europe/Berlin", None, "2026-03-29", "2026-03-28T23:00", "2026-03-29T22:00"),
        # Berlin fall back 2026-10-25: 03:00 CEST -> 02:00 CET (01:00 UTC); 02:xx twice.
        ("Europe/Berlin", "02:30-04:00", "2026-10-25", "2026-10-25T00:30", "2026-10-25T03:00"),
        ("Europe/Berlin", "01:00-02:30", "2026-10-25", "2026-10-24T23:00", "2026-10-25T01:30"),
        ("Europe/Berlin", "02:15-02:45", "2026-10-25", "2026-10-25T00:15", "2026-10-25T01:45"),
        ("Europe/Berlin", None, "2026-10-25", "2026-10-24T22:00", "2026-10-25T23:00"),
        # New York spring forward 2026-03-08: 02:00 EST -> 03:00 EDT (07:00 UTC).
        ("America/New_York", "02:30-04:00", "2026-03-08", "2026-03-08T07:00", "2026-03-08T08:00"),
        ("America/New_York", "01:00-02:30", "2026-03-08", "2026-03-08T06:00", "2026-03-08T07:00"),
        ("America/New_York", None, "2026-03-08", "2026-03-08T05:00", "2026-03-09T04:00"),
        # New York fall back 2026-11-01: 02:00 EDT -> 01:00 EST (06:00 UTC); 01:xx twice.
        ("America/New_York", "01:30-03:00", "2026-11-01", "2026-11-01T05:30", "2026-11-01T08:00"),
        ("America/New_York", "00:00-01:30", "2026-11-01", "2026-11-01T04:00", "2026-11-01T06:30"),
        ("America/New_York", None, "2026-11-01", "2026-11-01T04:00", "2026-11-02T05:00"),
    ],
)
def test_shift_boundaries_on_transition_days(
    zone: str, hours_text: str | None, day: str, start: str, end: str
) -> None:
    window = make_window(timezone=zone, weekdays=EVERY_DAY, hours_text=hours_text)
    expected = (utc(start), utc(end))
    assert shift_for(window, date.fromisoformat(day)) == expected
    # The listing and is_open agree with the shift at both edges.
    assert open_intervals(window, *expected) == [expected]
    assert is_open(window, expected[0]).open
    assert is_open(window, expected[1] - timedelta(microseconds=1)).open
    if hours_text is not None:
        assert not is_open(window, expected[0] - timedelta(microseconds=1)).open
        assert not is_open(window, expected[1]).open


@pytest.mark.parametrize(
    ("zone", "day", "wall", "start", "end"),
    [
        ("Europe/Berlin", "2026-03-29", "02:30", "2026-03-29T01:00", "2026-03-29T01:00"),
        ("Europe/Berlin", "2026-10-25", "02:30", "2026-10-25T00:30", "2026-10-25T01:30"),
        ("America/New_York", "2026-03-08", "02:00", "2026-03-08T07:00", "2026-03-08T07:00"),
        ("America/New_York", "2026-11-01", "01:00", "2026-11-01T05:00", "2026-11-01T06:00"),
        ("America/New_York", "2026-11-01", "03:00", "2026-11-01T08:00", "2026-11-01T08:00"),
    ],
)
def test_resolve_wall_time(zone: str, day: str, wall: str, start: str, end: str) -> None:
    d, w, z = date.fromisoformat(day), time.fromisoformat(wall), ZoneInfo(zone)
    assert resolve_wall_time(d, w, z) == utc(start)
    assert resolve_wall_time(d, w, z, end=True) == utc(end)


def test_repeated_hour_stays_open_until_the_second_end() -> None:
    # 01:00-02:30 Berlin on fall-back day: the first 02:45 (CEST) is still inside the shift,
    # which closes at the second 02:30 (CET); the second 02:45 is after it.
    window = make_window(timezone="Europe/Berlin", weekdays=EVERY_DAY, hours_text="01:00-02:30")
    assert is_open(window, local("Europe/Berlin", "2026-10-25T02:45", fold=0)).open
    assert is_open(window, local("Europe/Berlin", "2026-10-25T02:29", fold=1)).open
    assert is_open(window, local("Europe/Berlin", "2026-10-25T02:45", fold=1)) == (
        False,
        "closed: outside hours 01:00-02:30 Europe/Berlin",
    )
