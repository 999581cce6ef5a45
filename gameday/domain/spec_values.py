"""Checks and parsers for single spec values: timezones, cron, hours, blackouts, holidays.

Each raises ValueError with a message that says what was expected; the spec parser turns
it into a `PATH:LINE:COL: message` line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holidays_lib
from apscheduler.triggers.cron import CronTrigger

_HOURS = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_BLACKOUT = re.compile(rf"({_DATE})(?:\.\.({_DATE}))?")
_NUMERIC_WEEKDAY = re.compile(r"\d")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ` (did you mean 'x'?)` suffix when a close match exists, else an empty string."""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """Return `name` if it is a known IANA timezone (`Asia/Tokyo`), else raise ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = did_you_mean(name, _zone_names())
        raise ValueError(f"unknown timezone {name!r}{hint}: expected an IANA name") from None
    return name


def check_cron(expr: str) -> str:
    """Return `expr` if it is a valid 5-field crontab line, else raise ValueError.

    Rules: minute hour day-of-month month day-of-week; the day-of-week field takes names
    only (`mon-fri`), because numbers mean different days in different cron dialects.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"invalid cron {expr!r}: expected 5 fields (minute hour day month weekday), "
            f"got {len(fields)}"
        )
    if _NUMERIC_WEEKDAY.search(fields[4].split("/")[0]):
        raise ValueError(
            f"invalid cron {expr!r}: write the weekday field with names (mon..sun), "
            "numbers are ambiguous between cron dialects"
        )
    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"invalid cron {expr!r}: {exc}") from None
    return expr


def localize(wall: datetime, zone: str) -> datetime:
    """Attach `zone` to a naive wall-clock time, deliberately for DST days.

    Rules: a wall time that does not exist (the clocks jump over it) is refused with
    ValueError; one that happens twice (the clocks fall back) is its first occurrence.
    """
    tz = ZoneInfo(zone)
    aware = wall.replace(tzinfo=tz, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != wall.replace(fold=0):
        raise ValueError(
            f"{wall.isoformat()} does not exist in {zone} (the clocks skip it for daylight "
            "saving time): choose another time or give an offset"
        )
    return aware


def parse_hours(text: str) -> tuple[time, time]:
    """Parse `HH:MM-HH:MM`; an end before the start crosses midnight, an equal end is refused."""
    m = _HOURS.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"invalid hours {text!r}: expected HH:MM-HH:MM such as 10:00-16:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"invalid hours {text!r}: times run from 00:00 to 23:59")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ValueError(
            f"invalid hours {text!r}: start equals end; leave hours out for the whole day"
        )
    return start, end


def parse_blackout(text: str) -> tuple[date, date]:
    """Parse `YYYY-MM-DD..YYYY-MM-DD` or a single `YYYY-MM-DD` into inclusive (first, last)."""
    m = _BLACKOUT.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(
            f"invalid blackout {text!r}: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"
        )
    try:
        first = date.fromisoformat(m.group(1))
        last = date.fromisoformat(m.group(2)) if m.group(2) else first
    except ValueError as exc:
        raise ValueError(f"invalid blackout {text!r}: {exc}") from None
    if last < first:
        raise ValueError(f"invalid blackout {text!r}: ends before it starts")
    return first, last


def check_holiday_country(country: str, subdivision: str | None = None) -> str:
    """Return `country` if the holidays package knows it (and the subdivision), else raise."""
    supported: dict[str, list[str]] = holidays_lib.list_supported_countries()
    if country not in supported:
        hint = did_you_mean(country.upper(), supported)
        raise ValueError(f"unknown holiday country {country!r}{hint}: expected a code like JP")
    if subdivision is not None and subdivision not in supported[country]:
        hint = did_you_mean(subdivision, supported[country])
        raise ValueError(f"unknown subdivision {subdivision!r} of {country}{hint}")
    return country


_DNS = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_KEY = rf"({_DNS}(\.{_DNS})*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{{0,61}}[A-Za-z0-9])?"
_LABEL_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
_REQUIREMENT = re.compile(
    rf"\s*(!\s*{_LABEL_KEY}"
    rf"|{_LABEL_KEY}\s*(==|=|!=)\s*{_LABEL_VALUE}"
    rf"|{_LABEL_KEY}\s+(in|notin)\s*\((?!\s*\))\s*{_LABEL_VALUE}(\s*,\s*{_LABEL_VALUE})*\s*\)"
    rf"|{_LABEL_KEY})\s*"
)


def check_label_selector(text: str) -> str:
    """Return `text` if it is a Kubernetes label selector (`app in (a, b),tier!=db`)."""
    rest = text
    while True:
        m = _REQUIREMENT.match(rest)
        if not m or not m.group(0).strip():
            break
        rest = rest[m.end() :]
        if not rest:
            return text
        if not rest.startswith(","):
            break
        rest = rest[1:]
    raise ValueError(
        f"invalid label selector {text!r}: expected requirements such as app=web, "
        "app in (a, b), !canary, joined by commas"
    )


def check_channel(name: str) -> str:
    """Return `name` if it looks like a Slack channel (`#chaos` or an ID `C0123`)."""
    if not re.fullmatch(r"#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]+", name):
        raise ValueError(f"invalid channel {name!r}: expected #name or a channel ID such as C0123")
    return name
