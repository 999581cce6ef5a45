"""Chaos-Monkey-style kill times: inside open time, spaced, reproducible, open-time mean."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.domain.monkey_timing import PERIOD, draw_kill_times, period_start

DAY0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: a period starts here
Intervals = list[tuple[datetime, datetime]]


def daily(hours: int, days: int, first: datetime = DAY0) -> Intervals:
    """One open interval of `hours` hours starting 09:00 each day."""
    return [
        (first + timedelta(days=d, hours=9), first + timedelta(days=d, hours=9 + hours))
        for d in range(days)
    ]


def seeded(seed: int) -> Callable[[datetime], random.Random]:
    return lambda period: random.Random(f"{seed}:{period.isoformat()}")


def test_mean_gap_is_measured_in_open_time_not_wall_time() -> None:
    # One open hour a day for 2,000 days with mtbf 1h: about one kill per day; counting
    # wall time would give one per 24 days.
    kills = draw_kill_times(
        daily(1, 2000), mtbf=timedelta(hours=1), min_gap=timedelta(seconds=1), rng_for=seeded(7)
    )
    assert 1800 <= len(kills) <= 2200


def test_open_time_gaps_average_to_mtbf_across_periods() -> None:
    intervals = [(DAY0, DAY0 + timedelta(days=3000))]
    kills = draw_kill_times(
        intervals, mtbf=timedelta(days=2), min_gap=timedelta(seconds=1), rng_for=seeded(3)
    )
    gaps = [(b - a).total_seconds() / 86400 for a, b in pairwise(kills)]
    assert statistics.mean(gaps) == pytest.approx(2.0, rel=0.1)


def test_kills_too_close_to_the_previous_draw_are_dropped() -> None:
    def draw(gap: timedelta) -> list[datetime]:
        return draw_kill_times(
            daily(8, 60), mtbf=timedelta(minutes=30), min_gap=gap, rng_for=seeded(1)
        )

    free, spaced = draw(timedelta(seconds=1)), draw(timedelta(hours=4))
    assert set(spaced) < set(free)
    assert all(b - a >= timedelta(hours=4) for a, b in pairwise(spaced))


def test_a_later_start_keeps_the_kills_of_the_periods_it_covers() -> None:
    def draw(intervals: Intervals) -> list[datetime]:
        return draw_kill_times(
            intervals, mtbf=timedelta(hours=5), min_gap=timedelta(hours=2), rng_for=seeded(9)
        )

    full = draw(daily(6, 70))
    # Start three weeks in (one period early, as planning does) and compare what follows.
    later = period_start(DAY0 + timedelta(days=21))
    part = draw([i for i in daily(6, 70) if i[0] >= later - PERIOD])
    assert [k for k in part if k >= later] == [k for k in full if k >= later]
    assert any(k >= later for k in full)


def test_no_open_time_means_no_kills() -> None:
    hour = timedelta(hours=1)
    assert draw_kill_times([], mtbf=hour, min_gap=hour, rng_for=seeded(1)) == []


def test_mtbf_must_be_positive() -> None:
    with pytest.raises(ValueError, match="mtbf"):
        draw_kill_times(daily(1, 1), mtbf=timedelta(0), min_gap=timedelta(1), rng_for=seeded(1))


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    hours=st.integers(1, 23),
    mtbf_minutes=st.integers(1, 5000),
    gap_minutes=st.integers(1, 2000),
)
def test_kills_lie_inside_open_time_in_order_and_repeat_with_the_seed(
    seed: int, hours: int, mtbf_minutes: int, gap_minutes: int
) -> None:
    intervals = daily(hours, 30)
    mtbf, gap = timedelta(minutes=mtbf_minutes), timedelta(minutes=gap_minutes)
    kills = draw_kill_times(intervals, mtbf=mtbf, min_gap=gap, rng_for=seeded(seed))
    assert kills == draw_kill_times(intervals, mtbf=mtbf, min_gap=gap, rng_for=seeded(seed))
    for kill in kills:
        assert any(a <= kill < b for a, b in intervals)
        assert kill.microsecond == 0
    for a, b in pairwise(kills):
        assert b - a >= gap
