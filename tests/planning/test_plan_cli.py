"""`gameday plan --json` end to end on DST days, Japanese holidays and blackout edges."""

from __future__ import annotations

from typing import Any

import pytest

from tests.planning.conftest import Cli, HomeFactory, gameday_yaml, monkey_yaml, window_yaml

EVERY_DAY = "[mon, tue, wed, thu, fri, sat, sun]"


def rows(result: Any) -> list[tuple[str, str, str, str]]:
    """(schedule, at, status, reason) of each occurrence, in plan order."""
    return [(o["schedule"], o["at"], o["status"], o["reason"]) for o in result]


def plan_json(cli: Cli, home: Any, *args: str) -> list[dict[str, Any]]:
    result = cli("--home", home, "plan", "--json", "--seed", "1", *args)
    assert result.code == 0, result.err
    data = result.json()
    assert isinstance(data, list)
    return data


REPEAT_BERLIN = (
    "skipped: 02:30 occurs twice on 2026-10-25 in Europe/Berlin (daylight saving time ends); "
    "it runs once, at the first occurrence"
)
REPEAT_NEW_YORK = (
    "skipped: 01:30 occurs twice on 2026-11-01 in America/New_York (daylight saving time "
    "ends); it runs once, at the first occurrence"
)


@pytest.mark.parametrize(
    ("zone", "hours", "cron", "start", "expected"),
    [
        pytest.param(
            "Europe/Berlin",
            "01:00-04:00",
            "30 2 * * *",
            "2026-03-28T00:00+01:00",
            [
                ("2026-03-28T02:30:00+01:00", "planned"),
                # 02:30 does not exist on 2026-03-29: APScheduler fires 03:30 CEST.
                ("2026-03-29T03:30:00+02:00", "planned"),
                ("2026-03-30T02:30:00+02:00", "planned"),
            ],
            id="berlin-spring-forward",
        ),
        pytest.param(
            "Europe/Berlin",
            "02:00-03:00",
            "30 2 * * *",
            "2026-10-24T00:00+02:00",
            [
                ("2026-10-24T02:30:00+02:00", "planned"),
                ("2026-10-25T02:30:00+02:00", "planned"),
                ("2026-10-25T02:30:00+01:00", REPEAT_BERLIN),
                ("2026-10-26T02:30:00+01:00", "planned"),
            ],
            id="berlin-fall-back",
        ),
        pytest.param(
            "America/New_York",
            "01:00-03:00",
            "15 2 * * *",
            "2026-03-07T00:00-05:00",
            [
                ("2026-03-07T02:15:00-05:00", "planned"),
                # 02:15 does not exist: fired 03:15 EDT, after the window's 03:00 end.
                ("2026-03-08T03:15:00-04:00", "closed: outside hours 01:00-03:00 America/New_York"),
                ("2026-03-09T02:15:00-04:00", "planned"),
            ],
            id="new-york-spring-forward",
        ),
        pytest.param(
            "America/New_York",
            "01:00-03:00",
            "30 1 * * *",
            "2026-10-31T00:00-04:00",
            [
                ("2026-10-31T01:30:00-04:00", "planned"),
                ("2026-11-01T01:30:00-04:00", "planned"),
                ("2026-11-01T01:30:00-05:00", REPEAT_NEW_YORK),
                ("2026-11-02T01:30:00-05:00", "planned"),
            ],
            id="new-york-fall-back",
        ),
    ],
)
def test_cron_gamedays_on_dst_days(
    cli: Cli,
    make_home: HomeFactory,
    zone: str,
    hours: str,
    cron: str,
    start: str,
    expected: list[tuple[str, str]],
) -> None:
    home = make_home(
        window_yaml(timezone=zone, hours=hours),
        gameday_yaml("nightly", cron=cron, timezone=zone, window="w"),
    )
    got = plan_json(cli, home, "--from", start, "--days", "3")
    assert [(o["at"], o["status"] if o["status"] == "planned" else o["reason"]) for o in got] == (
        expected
    )
    assert all(o["status"] == "skipped" for o in got if not o["reason"].startswith("open: "))


@pytest.mark.parametrize(
    ("zone", "day", "start", "end"),
    [
        # A window opening at 02:30 opens at the end of the gap on spring-forward day ...
        ("Europe/Berlin", "2026-03-29", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"),
        (
            "America/New_York",
            "2026-03-08",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T04:00:00-04:00",
        ),
        # ... and at its first occurrence on fall-back day, closing at 04:00 standard time.
        ("Europe/Berlin", "2026-10-25", "2026-10-25T02:30:00+02:00", "2026-10-25T04:00:00+01:00"),
    ],
)
def test_window_edges_on_dst_days(
    cli: Cli, make_home: HomeFactory, zone: str, day: str, start: str, end: str
) -> None:
    home = make_home(window_yaml(timezone=zone, hours="02:30-04:00"))
    before = cli("--home", home, "window", "w", "--at", f"{day}T00:00", "--json").json()
    assert (before["open"], before["next_open"]) == (False, start)
    inside = cli("--home", home, "window", "w", "--at", start, "--json").json()
    assert (inside["open"], inside["next_close"]) == (True, end)


JP_WINDOW = window_yaml(
    name="tokyo-business-hours",
    timezone="Asia/Tokyo",
    weekdays="[mon, tue, wed, thu, fri]",
    hours="10:00-16:00",
    holidays="JP",
    blackouts='["2026-12-24..2027-01-04"]',
)


def test_japanese_public_holidays_are_skipped_with_their_name(
    cli: Cli, make_home: HomeFactory
) -> None:
    home = make_home(
        JP_WINDOW,
        gameday_yaml("daily-check", cron="0 11 * * *", window="tokyo-business-hours"),
        gameday_yaml("culture", at="2026-11-03T12:00", window="tokyo-business-hours"),
    )
    got = plan_json(cli, home, "--from", "2026-11-01T00:00+09:00", "--days", "7")
    holiday = "closed: 2026-11-03 is a holiday in JP (Culture Day)"

    def opened(weekday: str, day: str) -> str:
        return f"open: {weekday} 2026-11-{day}, within hours 10:00-16:00 Asia/Tokyo"

    def at(day: str, hour: str = "11") -> str:
        return f"2026-11-{day}T{hour}:00:00+09:00"

    assert rows(got) == [
        ("daily-check", at("01"), "skipped", "closed: Sunday is not an allowed weekday"),
        ("daily-check", at("02"), "planned", opened("Monday", "02")),
        ("daily-check", at("03"), "skipped", holiday),
        ("culture", at("03", "12"), "skipped", holiday),
        ("daily-check", at("04"), "planned", opened("Wednesday", "04")),
        ("daily-check", at("05"), "planned", opened("Thursday", "05")),
        ("daily-check", at("06"), "planned", opened("Friday", "06")),
        ("daily-check", at("07"), "skipped", "closed: Saturday is not an allowed weekday"),
    ]
    # The same instants in UTC, for scripts.
    assert got[0]["at_utc"] == "2026-11-01T02:00:00+00:00"


def test_blackout_edges_include_both_dates(cli: Cli, make_home: HomeFactory) -> None:
    home = make_home(
        window_yaml(timezone="Europe/Berlin", blackouts='["2026-12-24..2026-12-26"]'),
        gameday_yaml("midnight", cron="0 0 * * *", timezone="Europe/Berlin", window="w"),
        gameday_yaml("last-minute", cron="59 23 * * *", timezone="Europe/Berlin", window="w"),
    )
    got = plan_json(cli, home, "--from", "2026-12-23T00:00+01:00", "--days", "5")
    blackout = "closed: blackout 2026-12-24..2026-12-26"
    assert [(o["schedule"], o["at"], o["status"], o["reason"][:7]) for o in got] == [
        ("midnight", "2026-12-23T00:00:00+01:00", "planned", "open: W"),
        ("last-minute", "2026-12-23T23:59:00+01:00", "planned", "open: W"),
        ("midnight", "2026-12-24T00:00:00+01:00", "skipped", "closed:"),
        ("last-minute", "2026-12-24T23:59:00+01:00", "skipped", "closed:"),
        ("midnight", "2026-12-25T00:00:00+01:00", "skipped", "closed:"),
        ("last-minute", "2026-12-25T23:59:00+01:00", "skipped", "closed:"),
        ("midnight", "2026-12-26T00:00:00+01:00", "skipped", "closed:"),
        ("last-minute", "2026-12-26T23:59:00+01:00", "skipped", "closed:"),
        ("midnight", "2026-12-27T00:00:00+01:00", "planned", "open: S"),
        ("last-minute", "2026-12-27T23:59:00+01:00", "planned", "open: S"),
    ]
    assert {o["reason"] for o in got if o["status"] == "skipped"} == {blackout}


def test_gameday_without_window_is_always_planned(cli: Cli, make_home: HomeFactory) -> None:
    home = make_home(gameday_yaml("anytime", cron="0 3 * * sun", timezone="UTC"))
    got = plan_json(cli, home, "--from", "2026-11-01T00:00Z", "--days", "14")
    assert rows(got) == [
        ("anytime", "2026-11-01T03:00:00+00:00", "planned", "open: no window, always allowed"),
        ("anytime", "2026-11-08T03:00:00+00:00", "planned", "open: no window, always allowed"),
    ]


def test_horizon_is_half_open(cli: Cli, make_home: HomeFactory) -> None:
    home = make_home(gameday_yaml("hourly", cron="0 * * * *", timezone="UTC"))
    got = plan_json(cli, home, "--from", "2026-11-01T10:00Z", "--days", "1")
    assert got[0]["at"] == "2026-11-01T10:00:00+00:00"
    assert got[-1]["at"] == "2026-11-02T09:00:00+00:00"
    assert len(got) == 24


def test_display_zone_changes_at_not_the_instant(cli: Cli, make_home: HomeFactory) -> None:
    home = make_home(
        JP_WINDOW, gameday_yaml("g", cron="0 11 * * mon", window="tokyo-business-hours")
    )
    got = plan_json(
        cli, home, "--from", "2026-11-01T00:00+09:00", "--days", "7", "--tz", "America/New_York"
    )
    assert [(o["at"], o["at_utc"], o["timezone"]) for o in got] == [
        ("2026-11-01T21:00:00-05:00", "2026-11-02T02:00:00+00:00", "America/New_York")
    ]  # fmt: skip


def test_naive_from_is_read_in_the_display_zone(cli: Cli, make_home: HomeFactory) -> None:
    home = make_home(gameday_yaml("g", cron="0 * * * *", timezone="UTC"))
    got = plan_json(cli, home, "--from", "2026-11-01T10:00", "--days", "1", "--tz", "Asia/Tokyo")
    assert got[0]["at_utc"] == "2026-11-01T01:00:00+00:00"


def test_monkey_plan_is_reproducible_from_its_seed(cli: Cli, make_home: HomeFactory) -> None:
    home = make_home(
        JP_WINDOW,
        monkey_yaml("chaos", window="tokyo-business-hours", mtbf="4h", min_time_between_kills="1h"),
    )
    args = ("--home", home, "plan", "--json", "--from", "2026-11-01T00:00+09:00", "--days", "30")
    first = cli(*args)
    seed = first.err.split("seed ")[1].split()[0]
    again = cli(*args, "--seed", seed)
    assert first.code == again.code == 0
    assert again.out == first.out
    other = cli(*args, "--seed", str(int(seed) + 1))
    assert other.out != first.out
    kills = first.json()
    # 18 weekdays of 6 open hours with mtbf 4h: about 27 kills; far fewer than wall time gives.
    assert 10 <= len(kills) <= 50
    for kill in kills:
        assert (kill["kind"], kill["status"]) == ("monkey", "planned")
        status = cli("--home", home, "window", "tokyo-business-hours", "--at", kill["at"], "--json")
        assert status.json()["open"] is True, kill


def test_table_output_shows_times_with_offsets_and_the_seed(
    cli: Cli, make_home: HomeFactory
) -> None:
    home = make_home(
        JP_WINDOW, gameday_yaml("g", cron="0 11 * * tue", window="tokyo-business-hours")
    )
    result = cli("--home", home, "plan", "--from", "2026-11-01T00:00+09:00", "--seed", "99")
    assert result.code == 0, result.err
    assert "2026-11-03 11:00:00+09:00" in result.out
    assert "Culture Day" in result.out
    assert "seed 99 (repeat this plan with --seed 99)" in result.out


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        # A repeated wall time means its first occurrence (summer time).
        ("Europe/Berlin", "2026-10-25T02:30", "2026-10-25T02:30:00+02:00"),
        ("America/New_York", "2026-11-01T01:30", "2026-11-01T01:30:00-04:00"),
    ],
)
def test_at_gamedays_on_fall_back_days(
    cli: Cli, make_home: HomeFactory, zone: str, at: str, expected: str
) -> None:
    home = make_home(gameday_yaml("once", at=at, timezone=zone))
    got = plan_json(cli, home, "--from", f"{at[:10]}T00:00Z", "--days", "2")
    assert [(o["at"], o["status"]) for o in got] == [(expected, "planned")]


@pytest.mark.parametrize(
    ("zone", "at"),
    [("Europe/Berlin", "2026-03-29T02:30"), ("America/New_York", "2026-03-08T02:30")],
)
def test_at_gamedays_in_a_spring_forward_gap_are_refused(
    cli: Cli, make_home: HomeFactory, zone: str, at: str
) -> None:
    home = make_home(gameday_yaml("once", at=at, timezone=zone))
    result = cli("--home", home, "plan", "--json", "--from", f"{at[:10]}T00:00Z")
    assert (result.code, result.out) == (1, "")
    assert f"at: {at}:00 does not exist in {zone}" in result.err.splitlines()[0]
