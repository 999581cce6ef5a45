"""Per-day cron expansion gives the instants that stepping APScheduler's trigger gives.

One known difference, on purpose: APScheduler 3.x adds day increments in UTC, so after a
spring-forward it lands an hour late on the next day and skips fires in that day's first
hour (for example `0 0 * * *` in Europe/Berlin never fires on 2026-03-30). The per-day
expansion plans those fires; the test checks every extra is exactly such a fire.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from gameday.domain.cron_times import CronCalendar, TooManyFires

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago"]
CRONS = [
    "30 2 * * *",
    "0 0 * * *",
    "*/20 1-3 * * *",
    "0 14 * * wed",
    "0 10 last * *",
    "15 0-3 * * sat,sun",
]
HORIZONS = [
    (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 15, tzinfo=UTC)),
    (datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 11, 10, tzinfo=UTC)),
]


def stepped(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    found = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        found.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire)
    return found


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("start", "end"), HORIZONS)
def test_per_day_expansion_matches_stepping(zone: str, start: datetime, end: datetime) -> None:
    calendar = CronCalendar(start, end)
    for cron in CRONS:
        trigger = CronTrigger.from_crontab(cron, timezone=zone)
        fast = [f.astimezone(UTC) for f in calendar.fire_times(trigger, limit=100_000)]
        slow = stepped(trigger, start, end)
        assert fast == sorted(set(fast)), cron
        assert set(slow) <= set(fast), cron
        for extra in sorted(set(fast) - set(slow)):
            local = extra.astimezone(trigger.timezone)
            # Only fires in the first hour of the day after an offset change.
            assert calendar.is_special(trigger.timezone, local.date() - timedelta(days=1)), (
                cron,
                local,
            )
            assert local.hour == 0, (cron, local)


def test_fall_back_repeats_and_spring_forward_shifts_follow_apscheduler() -> None:
    start, end = datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC)
    trigger = CronTrigger.from_crontab("30 2 25,29 3,10 *", timezone="Europe/Berlin")
    fires = CronCalendar(start, end).fire_times(trigger, limit=100)
    assert [f.astimezone(UTC).isoformat() for f in fires] == [
        "2026-03-29T01:30:00+00:00",  # 02:30 does not exist: fired at 03:30 CEST
        "2026-10-25T00:30:00+00:00",  # 02:30 CEST
        "2026-10-25T01:30:00+00:00",  # 02:30 CET, the repeat (planning skips it)
    ]


def test_too_many_fires_is_refused_before_expanding() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    calendar = CronCalendar(start, start + timedelta(days=366))
    trigger = CronTrigger.from_crontab("* * * * *", timezone="UTC")
    with pytest.raises(TooManyFires):
        calendar.fire_times(trigger, limit=10_000)
