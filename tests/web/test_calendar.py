"""`/calendar.ics`: an iCalendar feed of the planned GameDays and monkey window periods,
parsed back with `icalendar`: zones, DST, stable UIDs, cancellations, filters and limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from icalendar import Calendar

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.services.catalog import Catalog
from tests.web.seed import Seeded, seed
from tests.web.support import Served, served


def feed(web: Served, query: str = "") -> Calendar:
    response = requests.get(f"{web.url}/calendar.ics{query}", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar, schedule: str | None = None) -> list[Any]:
    found = list(calendar.walk("VEVENT"))
    if schedule is None:
        return found
    return [e for e in found if str(e["UID"]).startswith(f"{schedule}-")]


def test_150_days_keep_the_local_time_across_berlins_dst_change(web: Served) -> None:
    calendar = feed(web, "?days=150")
    daily = events(calendar, "berlin-daily")
    # One a day from 2027-01-25 10:00 CET (now) on; the span ends 2027-06-24 09:00 UTC,
    # after that day's 10:00 CEST (08:00 UTC): 151 fit in 150 days across the change.
    assert len(daily) == 151
    for event in daily:
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        start = event.decoded("DTSTART")
        assert (start.hour, start.minute) == (10, 0)
        assert str(start.tzinfo) == "Europe/Berlin"
        assert event.decoded("DTEND") - start == timedelta(minutes=45)  # the runbook's limit
    by_day = {e.decoded("DTSTART").date().isoformat(): e for e in daily}
    before, after = by_day["2027-03-27"], by_day["2027-03-29"]
    assert before.decoded("DTSTART").astimezone(UTC).hour == 9  # CET, +01:00
    assert after.decoded("DTSTART").astimezone(UTC).hour == 8  # CEST, +02:00
    zones = {str(tz["TZID"]): tz for tz in calendar.walk("VTIMEZONE")}
    assert {"Europe/Berlin", "Asia/Tokyo"} <= set(zones)
    berlin = zones["Europe/Berlin"]
    transitions = [str(c["TZNAME"]) for c in berlin.subcomponents]
    assert "CEST" in transitions
    assert "CET" in transitions
    assert "DTSTART;TZID=Europe/Berlin:20270329T100000" in calendar.to_ical().decode()


def test_a_refetch_gives_the_same_uids_even_an_hour_later(web: Served) -> None:
    first = {str(e["UID"]) for e in events(feed(web, "?days=150"))}
    assert first == {str(e["UID"]) for e in events(feed(web, "?days=150"))}
    web.clock.current += timedelta(hours=1)  # the window period open now keeps its start
    later = {str(e["UID"]) for e in events(feed(web, "?days=150"))}
    assert later <= first
    assert "berlin-daily-20270329T100000+0200@gameday" in first
    assert len(first) == len(set(first))


def test_each_gameday_event_says_runbook_approvers_and_links_its_schedule(web: Served) -> None:
    event = events(feed(web, "?days=2"), "berlin-daily")[0]
    description = str(event["DESCRIPTION"])
    assert "runbook runbooks/reviews-latency.yaml (Reviews get slow)" in description
    assert "approval: 2 of SOPS, UALICE, UBOB within 30 min" in description
    assert f"{web.url}/schedules/berlin-daily" in description
    assert str(event["URL"]) == f"{web.url}/schedules/berlin-daily"
    assert str(event["SUMMARY"]) == "GameDay: berlin-daily"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_monkey_window_periods_are_events_in_the_windows_zone(web: Served) -> None:
    monkey = events(feed(web, "?days=7"), "bookinfo-monkey")
    starts = [e.decoded("DTSTART") for e in monkey]
    assert [s.date().isoformat() for s in starts] == [
        "2027-01-26", "2027-01-28", "2027-01-29", "2027-02-01",
    ]  # fmt: skip
    for event in monkey:
        assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
        assert (event.decoded("DTSTART").hour, event.decoded("DTEND").hour) == (10, 16)
        assert "may kill pods in bookinfo (selector app in (reviews))" in str(event["DESCRIPTION"])


def test_skipped_occurrences_are_cancelled_with_their_reason(
    web: Served, database: Database, clock: FixedClock
) -> None:
    seeded: Seeded = seed(database, clock)
    calendar = feed(web, "?days=7")
    tokyo = events(calendar, "tokyo-weekly")
    assert [str(e["STATUS"]) for e in tokyo] == ["CANCELLED"]  # 2027-01-27: blacked out
    assert "closed: blackout 2027-01-27" in str(tokyo[0]["DESCRIPTION"])
    rejected = [e for e in events(calendar, "berlin-daily") if e["STATUS"] == "CANCELLED"]
    assert len(rejected) == 1
    assert rejected[0].decoded("DTSTART").date().isoformat() == "2027-01-27"
    assert "rejected by UBOB: release freeze" in str(rejected[0]["DESCRIPTION"])
    assert f"run #{seeded.rejected_ahead}: rejected" in str(rejected[0]["DESCRIPTION"])
    database.control.pause("bookinfo-monkey", actor="UBOB", reason="incident")
    paused = events(feed(web, "?days=7"), "bookinfo-monkey")
    assert {str(e["STATUS"]) for e in paused} == {"CANCELLED"}
    assert "paused by UBOB" in str(paused[0]["DESCRIPTION"])


def test_the_schedule_filter(web: Served) -> None:
    calendar = feed(web, "?schedule=tokyo-weekly&days=30")
    assert {str(e["UID"]).split("-2027")[0] for e in events(calendar)} == {"tokyo-weekly"}
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]


def test_the_default_is_30_days_and_400_is_the_most(web: Served) -> None:
    default = events(feed(web), "berlin-daily")
    assert len(default) == 30
    longest = events(feed(web, "?days=400"), "berlin-daily")
    assert len(longest) == 400


@pytest.mark.parametrize(
    ("query", "status", "reason"),
    [
        ("?days=0", 400, "days must be a whole number from 1 to 400"),
        ("?days=401", 400, "days must be a whole number from 1 to 400"),
        ("?days=ten", 400, "days must be a whole number from 1 to 400"),
        ("?schedule=nope", 404, "no schedule named 'nope'"),
    ],
)
def test_a_bad_query_is_refused_with_the_reason(
    web: Served, query: str, status: int, reason: str
) -> None:
    response = requests.get(f"{web.url}/calendar.ics{query}", timeout=10)
    assert response.status_code == status
    assert reason in response.json()["error"]


def test_uids_and_links_use_the_public_url(
    database: Database, catalog: Catalog, clock: FixedClock
) -> None:
    with served(database, catalog, clock, public_url="https://gameday.example.com/") as web:
        event = events(feed(web, "?days=1"), "berlin-daily")[0]
    assert str(event["UID"]) == "berlin-daily-20270125T100000+0100@gameday.example.com"
    assert str(event["URL"]) == "https://gameday.example.com/schedules/berlin-daily"


def test_an_event_under_way_stays_in_the_feed(web: Served) -> None:
    web.clock.current = datetime(2027, 1, 25, 9, 30, tzinfo=UTC)  # 10:30 in Berlin
    daily = events(feed(web, "?days=1"), "berlin-daily")
    assert daily[0].decoded("DTSTART").isoformat() == "2027-01-25T10:00:00+01:00"
