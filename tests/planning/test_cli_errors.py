"""Bad input to `plan` and `window`: one line, non-zero exit, no traceback, nothing on stdout."""

from __future__ import annotations

import pytest

from tests.planning.conftest import Cli, HomeFactory, gameday_yaml, window_yaml

WINDOW = window_yaml(name="tokyo-business-hours", timezone="Asia/Tokyo", holidays="JP")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("plan", "--from", "2026-13-01"),
            2,
            "gameday: error: --from: invalid time '2026-13-01': expected ISO 8601 such as "
            "2026-11-02T09:00 or 2026-11-02T09:00+09:00",
        ),
        (("plan", "--days", "0"), 2, "gameday: error: --days: must be between 1 and 366, got 0"),
        (
            ("plan", "--days", "367"),
            2,
            "gameday: error: --days: must be between 1 and 366, got 367",
        ),
        (
            ("plan", "--tz", "Asia/Tokio"),
            2,
            "gameday: error: --tz: unknown timezone 'Asia/Tokio' (did you mean 'Asia/Tokyo'?): "
            "expected an IANA name",
        ),
        (
            ("window", "tokyo-busines-hours", "--at", "2026-11-03T12:00"),
            1,
            "gameday: error: no window named 'tokyo-busines-hours' "
            "(did you mean 'tokyo-business-hours'?)",
        ),
        (
            ("window", "tokyo-business-hours", "--at", "tomorrow"),
            2,
            "gameday: error: --at: invalid time 'tomorrow': expected ISO 8601 such as "
            "2026-11-02T09:00 or 2026-11-02T09:00+09:00",
        ),
    ],
)
def test_bad_input_is_one_line(
    cli: Cli, make_home: HomeFactory, args: tuple[str, ...], code: int, message: str
) -> None:
    home = make_home(WINDOW)
    result = cli("--home", home, *args)
    assert (result.code, result.out, result.err) == (code, "", message + "\n")


def test_plan_refuses_invalid_specs_and_lists_every_error(cli: Cli, make_home: HomeFactory) -> None:
    home = make_home(
        window_yaml(timezone="Mars/Olympus"),
        gameday_yaml("g", cron="61 * * * *", timezone="UTC"),
    )
    result = cli("--home", home, "plan", "--json", "--from", "2026-11-01T00:00Z")
    lines = result.err.splitlines()
    assert result.code == 1
    assert result.out == ""
    assert lines[-1] == (
        "gameday: error: the specs have 2 error(s) (listed above); nothing planned"
    )
    assert len(lines) == 3
    assert lines[0].startswith("schedules/test.yaml:3:")
    assert "unknown timezone 'Mars/Olympus'" in lines[0]
    assert lines[1].startswith("schedules/test.yaml:")
    assert "invalid cron" in lines[1]


def test_window_reports_closed_with_the_holiday_and_next_open(
    cli: Cli, make_home: HomeFactory
) -> None:
    home = make_home(WINDOW)
    result = cli("--home", home, "window", "tokyo-business-hours", "--at", "2026-11-03T12:00")
    assert result.code == 0
    assert result.out.splitlines() == [
        "tokyo-business-hours is closed at 2026-11-03T12:00:00+09:00 (Asia/Tokyo)",
        "closed: 2026-11-03 is a holiday in JP (Culture Day)",
        "next open: 2026-11-04T00:00:00+09:00",
    ]


def test_window_json_when_open(cli: Cli, make_home: HomeFactory) -> None:
    home = make_home(window_yaml(name="nights", timezone="Europe/Berlin", hours="22:00-02:00"))
    result = cli("--home", home, "window", "nights", "--at", "2026-11-06T22:30:00Z", "--json")
    assert result.json() == {
        "window": "nights",
        "timezone": "Europe/Berlin",
        "at": "2026-11-06T23:30:00+01:00",
        "open": True,
        "reason": "open: Friday 2026-11-06, within hours 22:00-02:00 Europe/Berlin",
        "next_open": None,
        "next_close": "2026-11-07T02:00:00+01:00",
    }


@pytest.mark.parametrize(("command", "word"), [("plan", "stderr"), ("window", "next_open")])
def test_help_exists(cli: Cli, command: str, word: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    assert "--json" in result.out
    assert word in result.out


def test_plan_help_shows_the_planners_day_limit(cli: Cli) -> None:
    from gameday.services.planning import MAX_DAYS

    result = cli("plan", "--help")
    assert result.code == 0
    assert f"(1..{MAX_DAYS})" in result.out
