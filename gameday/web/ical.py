"""Writing the calendar feed as iCalendar (RFC 5545) with the `icalendar` package.

Rules: one VEVENT per feed event with its stable UID, DTSTART/DTEND in the schedule's zone
(TZID) and one VTIMEZONE per zone used, covering the feed's dates; cancelled events say
`STATUS:CANCELLED`; every event links the schedule's page (URL, and in the description for
clients that hide URL); events are transparent (chaos does not make anyone busy).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from icalendar import Calendar, Event

from gameday.services.calendar_feed import FeedEvent

PRODID = "-//gameday//chaos calendar//EN"


def schedule_url(base_url: str, schedule: str) -> str:
    """The absolute address of a schedule's page."""
    return f"{base_url.rstrip('/')}/schedules/{quote(schedule, safe='')}"


def render_calendar(
    events: Sequence[FeedEvent], *, base_url: str, now: datetime, name: str = "gameday"
) -> bytes:
    """The feed as iCalendar bytes (CRLF line ends, folded lines)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for item in events:
        url = schedule_url(base_url, item.schedule)
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        event.add("description", f"{item.description}\n{url}")
        event.add("url", url)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        event.add("categories", ["GameDay" if item.kind == "gameday" else "Chaos Monkey"])
        calendar.add_component(event)
    if events:
        first = min(e.start for e in events).date() - timedelta(days=1)
        last = max(e.end for e in events).date() + timedelta(days=1)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return bytes(calendar.to_ical())
