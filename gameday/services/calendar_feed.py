"""The calendar feed's events: each planned GameDay and each monkey window period over the
next days, as data an iCalendar writer turns into VEVENTs.

Rules:
- the span is [now, now + days), 1 <= days <= MAX_FEED_DAYS; an event already under way at
  now (a GameDay within its time limit, an open window period) is listed whole;
- a GameDay event starts at the occurrence's local time in the schedule's zone and lasts its
  runbook's time limit; a monkey event is one window period (one per local start date);
- times are local wall-clock times in the schedule's zone (its own, else its window's), so a
  weekly 10:00 stays at 10:00 across a DST change;
- the UID is the schedule's name and the local start with its UTC offset: a re-fetch gives
  the same UIDs (calendar clients update instead of duplicating), and the two readings of a
  repeated wall time (DST fall-back) never share one;
- a skipped occurrence (window closed, repeated wall time, paused schedule, a run rejected,
  expired or skipped) is an event marked cancelled, with the reason; a paused monkey's
  periods are cancelled too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gameday.domain.durations import format_duration
from gameday.domain.errors import GamedayError, InvalidInput
from gameday.domain.execution import DEFAULT_TIMEOUT
from gameday.domain.runs import Pause
from gameday.services.outlook import Outlook
from gameday.services.outlook_items import (
    approval_text,
    approvers_of,
    gameday_policy,
    pause_reason,
)

DEFAULT_FEED_DAYS = 30
MAX_FEED_DAYS = 400


@dataclass(frozen=True)
class FeedEvent:
    """One calendar event; `start` and `end` are aware, in `timezone`."""

    uid: str
    schedule: str
    kind: str
    start: datetime
    end: datetime
    timezone: str
    summary: str
    description: str
    cancelled: bool
    runbook: str | None = None
    approvers: tuple[str, ...] = ()


def feed_days(text: str | None) -> int:
    """The `days` of a feed request (default DEFAULT_FEED_DAYS); InvalidInput otherwise."""
    if text is None or text == "":
        return DEFAULT_FEED_DAYS
    if not text.isdigit() or not 1 <= int(text) <= MAX_FEED_DAYS:
        raise InvalidInput(f"days must be a whole number from 1 to {MAX_FEED_DAYS}, not {text!r}")
    return int(text)


def event_uid(schedule: str, local_start: datetime, domain: str) -> str:
    """`{schedule}-{local start}{offset}@{domain}`: stable for one occurrence."""
    return f"{schedule}-{local_start:%Y%m%dT%H%M%S%z}@{domain}"


def feed_events(
    outlook: Outlook,
    now: datetime,
    *,
    days: int,
    schedule: str | None = None,
    domain: str = "gameday",
) -> list[FeedEvent]:
    """The events of the next `days` days, soonest first; only `schedule`'s when given
    (NotFound, with a suggestion, when there is no such schedule)."""
    if not 1 <= days <= MAX_FEED_DAYS:
        raise InvalidInput(f"days must be from 1 to {MAX_FEED_DAYS}, not {days}")
    catalog = outlook.catalog()
    if schedule is not None:
        catalog.schedule(schedule)
    end = now + timedelta(days=days)
    # A GameDay that started less than its time limit ago is still under way: list it.
    longest = max(
        [DEFAULT_TIMEOUT, *(r.extension.timeout for r in catalog.runbooks.values() if r.extension)]
    )
    found: list[FeedEvent] = []
    for item in outlook.planned(now - longest, end, schedule=schedule):
        if item.kind != "gameday" or item.at + item.duration <= now:
            continue
        spec = catalog.gamedays.get(item.schedule)
        if spec is None:  # an ad-hoc or postponed run of a schedule no longer there
            continue
        policy = gameday_policy(catalog, spec)
        runbook = item.runbook or spec.runbook
        title = _runbook_title(outlook, runbook)
        lines = [
            f"GameDay {item.schedule}: runbook {runbook}" + (f" ({title})" if title else ""),
            f"approval: {approval_text(policy)}",
            f"window: {spec.window or 'none (always allowed)'}",
            f"time limit: {format_duration(item.duration)}",
        ]
        if item.run_id is not None:
            lines.append(f"run #{item.run_id}: {item.state_label}")
        if item.skipped:
            lines.append(f"cancelled: {item.reason}")
        found.append(
            FeedEvent(
                uid=event_uid(item.schedule, item.local, domain),
                schedule=item.schedule,
                kind="gameday",
                start=item.local,
                end=item.local + item.duration,
                timezone=item.timezone,
                summary=f"GameDay: {item.schedule}" + (" (cancelled)" if item.skipped else ""),
                description="\n".join(lines),
                cancelled=item.skipped,
                runbook=runbook,
                approvers=approvers_of(policy),
            )
        )
    pauses: dict[str, Pause] = {p.schedule: p for p in outlook.pauses()}
    for shift in outlook.shifts(now, end, schedule=schedule):
        zone = ZoneInfo(shift.timezone)
        for monkey in shift.monkeys:
            spec_m = catalog.monkeys[monkey]
            pause = pauses.get(monkey)
            targets = ", ".join(spec_m.targets.namespaces)
            selector = f" (selector {spec_m.targets.selector})" if spec_m.targets.selector else ""
            lines = [
                f"Chaos Monkey {monkey} may kill pods in {targets}{selector} while window "
                f"{shift.window} is open",
                f"mean time between kills {format_duration(spec_m.mtbf)}; heads-up "
                f"{format_duration(spec_m.heads_up)} before each kill, with a Veto",
            ]
            if pause is not None:
                lines.append(f"cancelled: {pause_reason(pause)}")
            start = shift.start.astimezone(zone)
            found.append(
                FeedEvent(
                    uid=event_uid(monkey, start, domain),
                    schedule=monkey,
                    kind="monkey",
                    start=start,
                    end=shift.end.astimezone(zone),
                    timezone=shift.timezone,
                    summary=f"Chaos Monkey window: {monkey}"
                    + (" (cancelled)" if pause is not None else ""),
                    description="\n".join(lines),
                    cancelled=pause is not None,
                )
            )
    found.sort(key=lambda e: (e.start, e.schedule))
    return found


def _runbook_title(outlook: Outlook, ref: str) -> str | None:
    try:
        return outlook.catalog().runbook(ref).title
    except GamedayError:  # a runbook gone since the plan was made: no title, still an event
        return None
