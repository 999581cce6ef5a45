"""Invariants of windows, checked with hypothesis over zones with unusual DST rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameday.domain.windows import (
    Window,
    WindowCalendar,
    is_open,
    next_close,
    next_open,
    open_intervals,
)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",  # transitions at local midnight
    "America/Havana",  # transitions at 00:00/01:00
]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 2 * 365 * 86400

quarter_hours = st.builds(
    time, st.integers(min_value=0, max_value=23), st.sampled_from([0, 15, 30, 45])
)


@st.composite
def windows(draw: st.DrawFn) -> Window:
    start = draw(quarter_hours)
    end = draw(quarter_hours.filter(lambda t: t != start))
    first = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
    length = draw(st.integers(min_value=0, max_value=20))
    return Window(
        name="w",
        timezone=draw(st.sampled_from(ZONES)),
        weekdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
        hours=draw(st.sampled_from([None, (start, end)])),
        holidays=draw(st.sampled_from([None, "JP", "DE", "US"])),
        blackouts=draw(st.sampled_from([(), ((first, first + timedelta(days=length)),)])),
    )


instants = st.integers(min_value=0, max_value=YEAR_SECONDS).map(
    lambda s: EPOCH + timedelta(seconds=s)
)
common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(windows(), instants, st.lists(st.floats(0, 1), min_size=8, max_size=8))
def test_next_open_is_open_and_nothing_before_it_is(
    window: Window, t: datetime, fractions: list[float]
) -> None:
    found = next_open(window, t, days=30)
    if found is None:
        points = [t + timedelta(days=30 * f) for f in fractions]
    else:
        assert found >= t
        assert is_open(window, found).open
        span = found - t
        points = [t + span * f for f in fractions if t + span * f < found]
        if found - timedelta(seconds=1) >= t:
            points.append(found - timedelta(seconds=1))
    assert not any(is_open(window, p).open for p in points)


@common
@given(windows(), instants)
def test_next_close_is_closed_and_everything_before_it_open(window: Window, t: datetime) -> None:
    found = next_close(window, t, days=30)
    if found is None:
        assert is_open(window, t).open
        return
    assert found >= t
    assert not is_open(window, found).open
    if found > t:
        assert is_open(window, t).open
        assert is_open(window, found - timedelta(seconds=1)).open
        assert is_open(window, t + (found - t) / 2).open


@common
@given(windows(), instants, st.integers(min_value=1, max_value=20 * 86400), st.data())
def test_listing_agrees_with_is_open_and_is_sorted(
    window: Window, start: datetime, seconds: int, data: st.DataObject
) -> None:
    end = start + timedelta(seconds=seconds)
    found = open_intervals(window, start, end)
    for (_, b), (c, _) in pairwise(found):
        assert b < c, "merged intervals neither overlap nor touch"
    for a, b in found:
        assert start <= a < b <= end
    offsets = data.draw(st.lists(st.integers(0, seconds - 1), min_size=1, max_size=20))
    probes = [start + timedelta(seconds=o) for o in offsets]
    # Edges are where bugs live: probe each interval's first and last second too.
    probes += [a for a, _ in found] + [b - timedelta(seconds=1) for _, b in found]
    probes += [b for _, b in found if b < end]
    for p in probes:
        inside = any(a <= p < b for a, b in found)
        assert is_open(window, p).open == inside, p


@common
@given(windows(), instants)
def test_reasons_match_the_answer(window: Window, t: datetime) -> None:
    ok, reason = is_open(window, t)
    assert reason.startswith("open: " if ok else "closed: ")


@common
@given(windows(), st.lists(instants, min_size=1, max_size=30))
def test_a_reused_calendar_answers_like_a_fresh_one(window: Window, probes: list[datetime]) -> None:
    calendar = WindowCalendar(window)
    zone = ZoneInfo(window.timezone)
    for t in probes:
        expected = is_open(window, t)
        assert calendar.status(t) == expected
        assert calendar.status(t, t.astimezone(zone).date()) == expected
