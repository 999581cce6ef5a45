"""Weekdays, hours, holidays, blackouts and midnight-crossing shifts, with their reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gameday.domain.windows import is_open, next_close, next_open, open_intervals
from tests.windows.conftest import local, make_window

TOKYO = make_window(
    name="tokyo-business-hours",
    holidays="JP",
    blackouts=("2026-12-24..2027-01-04",),
)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            "2026-11-04T12:00",
            (True, "open: Wednesday 2026-11-04, within hours 10:00-16:00 Asia/Tokyo"),
        ),
        (
            "2026-11-04T10:00",
            (True, "open: Wednesday 2026-11-04, within hours 10:00-16:00 Asia/Tokyo"),
        ),
        ("2026-11-04T09:59:59", (False, "closed: outside hours 10:00-16:00 Asia/Tokyo")),
        ("2026-11-04T16:00", (False, "closed: outside hours 10:00-16:00 Asia/Tokyo")),
        ("2026-11-07T12:00", (False, "closed: Saturday is not an allowed weekday")),
        ("2026-11-08T03:00", (False, "closed: Sunday is not an allowed weekday")),
        ("2026-11-03T12:00", (False, "closed: 2026-11-03 is a holiday in JP (Culture Day)")),
        (
            "2026-11-23T11:00",
            (False, "closed: 2026-11-23 is a holiday in JP (Labor Thanksgiving Day)"),
        ),
        (
            "2026-12-23T15:59",
            (True, "open: Wednesday 2026-12-23, within hours 10:00-16:00 Asia/Tokyo"),
        ),
        ("2026-12-24T10:00", (False, "closed: blackout 2026-12-24..2027-01-04")),
        ("2027-01-04T15:00", (False, "closed: blackout 2026-12-24..2027-01-04")),
        (
            "2027-01-05T10:00",
            (True, "open: Tuesday 2027-01-05, within hours 10:00-16:00 Asia/Tokyo"),
        ),
    ],
)
def test_reasons_name_the_rule_that_decides(when: str, expected: tuple[bool, str]) -> None:
    assert tuple(is_open(TOKYO, local("Asia/Tokyo", when))) == expected


def test_any_aware_zone_is_read_in_the_window_zone() -> None:
    # 2026-11-04 01:00 UTC is 10:00 in Tokyo: the first open instant of that day.
    assert is_open(TOKYO, datetime(2026, 11, 4, 1, 0, tzinfo=UTC)).open
    assert not is_open(TOKYO, datetime(2026, 11, 4, 0, 59, 59, tzinfo=UTC)).open


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        is_open(TOKYO, datetime(2026, 11, 4, 12))


def test_subdivision_holidays_apply() -> None:
    # Reformation Day (Oct 31) is a holiday in Saxony but not in Bavaria.
    saxony = make_window(timezone="Europe/Berlin", holidays="DE", subdivision="SN")
    bavaria = make_window(timezone="Europe/Berlin", holidays="DE", subdivision="BY")
    day = local("Europe/Berlin", "2025-10-31T12:00")
    assert is_open(saxony, day) == (
        False,
        "closed: 2025-10-31 is a holiday in DE-SN (Reformation Day)",
    )
    assert is_open(bavaria, day).open


NIGHT = make_window(
    timezone="Europe/Berlin",
    weekdays="fri",
    hours_text="22:00-02:00",
    holidays="DE",
    blackouts=("2026-12-26",),
)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            "2026-11-06T22:00",
            (True, "open: Friday 2026-11-06, within hours 22:00-02:00 Europe/Berlin"),
        ),
        (
            "2026-11-07T01:59",
            (
                True,
                "open: within hours 22:00-02:00 Europe/Berlin "
                "(the shift started Friday 2026-11-06)",
            ),
        ),
        ("2026-11-07T02:00", (False, "closed: Saturday is not an allowed weekday")),
        ("2026-11-06T12:00", (False, "closed: outside hours 22:00-02:00 Europe/Berlin")),
        (
            "2026-11-06T01:00",
            (
                False,
                "closed: Thursday is not an allowed weekday "
                "(the 22:00-02:00 Europe/Berlin shift started on 2026-11-05)",
            ),
        ),
        (
            "2026-11-09T01:00",
            (
                False,
                "closed: Sunday is not an allowed weekday "
                "(the 22:00-02:00 Europe/Berlin shift started on 2026-11-08)",
            ),
        ),
        # Friday 2026-12-25 is Christmas: no shift starts on a holiday, not even its tail.
        ("2026-12-25T23:00", (False, "closed: 2026-12-25 is a holiday in DE (Christmas Day)")),
        (
            "2026-12-26T01:00",
            (False, "closed: blackout 2026-12-26..2026-12-26"),
        ),
    ],
)
def test_midnight_crossing_shift_belongs_to_the_day_it_starts(
    when: str, expected: tuple[bool, str]
) -> None:
    assert tuple(is_open(NIGHT, local("Europe/Berlin", when))) == expected


def test_a_shift_tail_stops_at_a_closed_date() -> None:
    # Friday 2027-01-01 is New Year's Day, so the shift of Thursday would not start anyway;
    # use a Thursday-night window whose tail runs into New Year's Day.
    thursday_night = make_window(
        timezone="Europe/Berlin", weekdays="thu", hours_text="22:00-02:00", holidays="DE"
    )
    start = local("Europe/Berlin", "2026-12-31T00:00")
    found = open_intervals(thursday_night, start, local("Europe/Berlin", "2027-01-02T00:00"))
    assert found == [
        (local("Europe/Berlin", "2026-12-31T22:00"), local("Europe/Berlin", "2027-01-01T00:00"))
    ]
    assert is_open(thursday_night, local("Europe/Berlin", "2027-01-01T00:30")) == (
        False,
        "closed: 2027-01-01 is a holiday in DE (New Year's Day)",
    )


def test_all_day_windows_merge_across_midnight() -> None:
    weekend = make_window(timezone="UTC", weekdays="sat sun", hours_text=None)
    found = open_intervals(
        weekend, datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)
    )
    assert found == [
        (datetime(2026, 11, 7, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC)),
        (datetime(2026, 11, 14, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)),
    ]
    assert is_open(weekend, datetime(2026, 11, 8, 12, tzinfo=UTC)) == (
        True,
        "open: Sunday 2026-11-08, all day UTC",
    )


def test_intervals_are_clipped_to_the_range() -> None:
    found = open_intervals(
        TOKYO, local("Asia/Tokyo", "2026-11-04T12:00"), local("Asia/Tokyo", "2026-11-05T11:00")
    )
    assert found == [
        (local("Asia/Tokyo", "2026-11-04T12:00"), local("Asia/Tokyo", "2026-11-04T16:00")),
        (local("Asia/Tokyo", "2026-11-05T10:00"), local("Asia/Tokyo", "2026-11-05T11:00")),
    ]
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in found)


@pytest.mark.parametrize(
    ("when", "opens", "closes"),
    [
        # Open now: next_open is now, next_close the end of the shift.
        ("2026-11-04T12:00", "2026-11-04T12:00", "2026-11-04T16:00"),
        # Friday evening: over the weekend to Monday 10:00.
        ("2026-11-06T17:00", "2026-11-09T10:00", "2026-11-06T17:00"),
        # The day before Culture Day (a Monday) after hours: skip the holiday.
        ("2026-11-02T16:00", "2026-11-04T10:00", "2026-11-02T16:00"),
        # Inside the blackout: the first weekday after it.
        ("2026-12-24T09:00", "2027-01-05T10:00", "2026-12-24T09:00"),
    ],
)
def test_next_open_and_next_close(when: str, opens: str, closes: str) -> None:
    t = local("Asia/Tokyo", when)
    assert next_open(TOKYO, t) == local("Asia/Tokyo", opens)
    assert next_close(TOKYO, t) == local("Asia/Tokyo", closes)


def test_next_open_gives_up_after_its_search_bound() -> None:
    frozen = make_window(timezone="UTC", blackouts=("2026-01-01..2028-12-31",))
    assert next_open(frozen, datetime(2026, 6, 1, tzinfo=UTC)) is None
    assert next_open(frozen, datetime(2026, 6, 1, tzinfo=UTC), days=1000) == datetime(
        2029, 1, 1, 10, tzinfo=UTC
    )


def test_next_close_is_none_when_always_open() -> None:
    always = make_window(timezone="UTC", weekdays="mon tue wed thu fri sat sun", hours_text=None)
    assert next_close(always, datetime(2026, 6, 1, tzinfo=UTC)) is None


def test_window_methods_delegate() -> None:
    t = local("Asia/Tokyo", "2026-11-03T12:00")
    assert TOKYO.is_open(t) == is_open(TOKYO, t)
    assert TOKYO.next_open(t) == next_open(TOKYO, t)
    assert TOKYO.next_close(t) == next_close(TOKYO, t)
    end = local("Asia/Tokyo", "2026-11-10T00:00")
    assert TOKYO.open_intervals(t, end) == open_intervals(TOKYO, t, end)
