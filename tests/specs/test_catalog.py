"""The catalog: lookups by name or path, resolved times and zones, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gameday.domain.errors import InvalidInput, NotFound
from gameday.services.catalog import Catalog
from gameday.wiring import load_catalog

SCHEDULES = """\
kind: window
name: tokyo
timezone: Asia/Tokyo
weekdays: [mon, wed]
hours: "22:00-02:00"
holidays: JP
blackouts: ["2026-12-24..2027-01-04", 2027-02-11]
---
kind: gameday
name: in-window-zone
runbook: runbooks/noop.yaml
at: 2026-12-02T14:00
window: tokyo
---
kind: gameday
name: own-zone
runbook: ./runbooks/noop.yaml
at: "2026-12-02T14:00:30"
timezone: Europe/Berlin
window: tokyo
---
kind: gameday
name: with-offset
runbook: noop
at: 2026-12-02T14:00:00+01:00
---
kind: gameday
name: utc
runbook: runbooks/noop.yaml
at: 2026-12-02T14:00
---
kind: gameday
name: weekly
runbook: runbooks/noop.yaml
cron: "0 14 * * wed"
window: tokyo
"""


@pytest.fixture
def catalog(make_home: Callable[[dict[str, str | bytes]], Path]) -> Catalog:
    return load_catalog(make_home({"schedules/all.yaml": SCHEDULES})).require_valid()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("in-window-zone", datetime(2026, 12, 2, 14, tzinfo=ZoneInfo("Asia/Tokyo"))),
        ("own-zone", datetime(2026, 12, 2, 14, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))),
        ("with-offset", datetime(2026, 12, 2, 13, tzinfo=UTC)),
        ("utc", datetime(2026, 12, 2, 14, tzinfo=UTC)),
    ],
)
def test_at_is_aware_in_the_zone_the_design_names(
    catalog: Catalog, name: str, expected: datetime
) -> None:
    at = catalog.gamedays[name].at
    assert at is not None
    assert at.utcoffset() is not None
    assert at == expected


def test_offset_given_is_kept(catalog: Catalog) -> None:
    at = catalog.gamedays["with-offset"].at
    assert at is not None
    assert at.utcoffset() == timezone(timedelta(hours=1)).utcoffset(None)


def test_cron_trigger_runs_in_the_effective_zone(catalog: Catalog) -> None:
    weekly = catalog.gamedays["weekly"]
    assert weekly.effective_timezone() == "Asia/Tokyo"
    trigger = weekly.cron_trigger()
    assert trigger is not None
    fire = trigger.get_next_fire_time(None, datetime(2026, 12, 1, tzinfo=UTC))
    assert fire == datetime(2026, 12, 2, 14, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert catalog.gamedays["utc"].cron_trigger() is None


def test_window_spec_becomes_a_window(catalog: Catalog) -> None:
    window = catalog.window("tokyo")
    assert window.weekdays == frozenset({0, 2})
    assert window.hours == (time(22), time(2))
    assert window.blackouts == (
        (date(2026, 12, 24), date(2027, 1, 4)),
        (date(2027, 2, 11), date(2027, 2, 11)),
    )
    assert catalog.window_of(catalog.gamedays["weekly"]) == window
    assert catalog.window_of(catalog.gamedays["utc"]) is None


@pytest.mark.parametrize(
    "key",
    ["noop", "noop.yaml", "runbooks/noop.yaml", "./runbooks/noop.yaml", Path("runbooks/noop.yaml")],
)
def test_runbook_by_name_or_path(catalog: Catalog, key: str | Path) -> None:
    runbook = catalog.runbook(key)
    assert (runbook.name, runbook.path, runbook.title) == (
        "noop",
        "runbooks/noop.yaml",
        "Nothing happens",
    )
    assert len(runbook.digest) == 64


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda c: c.schedule("weekli"), "no schedule named 'weekli' (did you mean 'weekly'?)"),
        (lambda c: c.runbook("nop"), "no runbook 'nop' (did you mean 'noop'?)"),
        (lambda c: c.runbook("runbooks/zzz.yaml"), "no runbook 'runbooks/zzz.yaml'"),
        (lambda c: c.window("tokio"), "no window named 'tokio' (did you mean 'tokyo'?)"),
    ],
)
def test_lookups_name_what_is_missing(
    catalog: Catalog, lookup: Callable[[Catalog], object], message: str
) -> None:
    with pytest.raises(NotFound) as caught:
        lookup(catalog)
    assert str(caught.value) == message


def test_require_valid_names_the_first_error_and_the_count(
    make_home: Callable[[dict[str, str | bytes]], Path],
) -> None:
    home = make_home(
        {"schedules/bad.yaml": "kind: window\nname: a\ntimezone: X\n---\nkind: window\nname: b\n"}
    )
    loaded = load_catalog(home)
    with pytest.raises(InvalidInput) as caught:
        loaded.require_valid()
    assert str(caught.value) == (
        "schedules/bad.yaml:3:11: timezone: unknown timezone 'X': expected an IANA name "
        "(and 1 more; run `gameday validate`)"
    )
    # Valid specs of the same home are still loaded.
    assert list(loaded.catalog.windows) == ["office"]


def test_runbook_names_are_unique_across_suffixes(
    make_home: Callable[[dict[str, str | bytes]], Path],
) -> None:
    json_runbook = '{"title": "T", "description": "D", "method": []}'
    loaded = load_catalog(make_home({"runbooks/noop.json": json_runbook}))
    assert [str(e) for e in loaded.errors] == [
        "runbooks/noop.yaml:1:1: duplicate runbook name 'noop' (also runbooks/noop.json; "
        "names are file stems)"
    ]


def berlin_gameday_at(at: str, via: str) -> str:
    """A window `berlin` and a gameday `g` at `at`, in Berlin time `via` its own timezone or
    the window (the ninth line holds `at`)."""
    return (
        "kind: window\nname: berlin\ntimezone: Europe/Berlin\nweekdays: [sun]\n---\n"
        f"kind: gameday\nname: g\nrunbook: noop\nat: {at}\n{via}\n"
    )


@pytest.mark.parametrize("via", ["timezone: Europe/Berlin", "window: berlin"])
def test_at_in_a_dst_gap_is_refused(
    make_home: Callable[[dict[str, str | bytes]], Path], via: str
) -> None:
    text = berlin_gameday_at("2026-03-29T02:30", via)
    loaded = load_catalog(make_home({"schedules/g.yaml": text}))
    assert [str(e) for e in loaded.errors] == [
        "schedules/g.yaml:9:5: at: 2026-03-29T02:30:00 does not exist in Europe/Berlin (the "
        "clocks skip it for daylight saving time): choose another time or give an offset"
    ]


@pytest.mark.parametrize("via", ["timezone: Europe/Berlin", "window: berlin"])
def test_at_in_a_dst_fold_is_its_first_occurrence(
    make_home: Callable[[dict[str, str | bytes]], Path], via: str
) -> None:
    text = berlin_gameday_at("2026-10-25T02:30", via)
    at = load_catalog(make_home({"schedules/g.yaml": text})).require_valid().gamedays["g"].at
    assert at is not None
    assert at.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
