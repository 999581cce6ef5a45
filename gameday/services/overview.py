"""What the read-only web pages show: the kill switch and the week ahead, a page of run
history, and each schedule with its window, approvers and last runs.

Rules:
- the week ahead is `services.outlook`'s (the live catalog's plan merged with the waiting
  runs) from now for `WEEK` days, its GameDays and its monkey window shifts;
- recent runs are runs that started or ended before now (ended, running), newest planned
  first: one query per such state through the `(state, planned_at)` index, merged;
- history is `gameday history`'s list (newest planned first, optional schedule and state)
  cut to runs planned at or after `since`, in pages of `limit`; a page reaches at most the
  newest `MAX_HISTORY_DEPTH` runs of the filter (InvalidInput past that: narrow it);
- schedules are listed by name, `SCHEDULES_PER_PAGE` a page, each with its next window
  periods and its last `LAST_RUNS` runs that started or ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from heapq import merge
from zoneinfo import ZoneInfo

from gameday.domain.durations import format_duration
from gameday.domain.errors import InvalidInput
from gameday.domain.ports import Clock, ControlState, Outbox, RunRepository
from gameday.domain.runs import KillSwitch, Pause, Run, RunState
from gameday.domain.specs import GamedaySpec, MonkeySpec
from gameday.domain.windows import Window
from gameday.services.catalog import Catalog
from gameday.services.history import MAX_HISTORY_LIMIT, parse_state
from gameday.services.outlook import Outlook
from gameday.services.outlook_items import (
    Planned,
    Shift,
    approval_text,
    approvers_of,
    gameday_policy,
    schedule_zone,
    window_shifts,
)

WEEK = 7
RECENT = 20
MAX_HISTORY_DEPTH = 10_000
DEFAULT_PAGE_SIZE = 50
SCHEDULES_PER_PAGE = 100
LAST_RUNS = 5
NEXT_PERIODS = 5
# Runs that started or ended: what "recent runs" and "last runs" list.
HAPPENED = (
    RunState.RUNNING,
    RunState.COMPLETED,
    RunState.DEVIATED,
    RunState.FAILED,
    RunState.ABORTED,
    RunState.INTERRUPTED,
    RunState.SKIPPED,
    RunState.REJECTED,
    RunState.EXPIRED,
)
# States a run planned in the future may already be in (ended before its time).
_MAYBE_AHEAD = (RunState.SKIPPED, RunState.REJECTED, RunState.EXPIRED)


@dataclass(frozen=True)
class Sources:
    """What the pages read: the run rows, the control state, the outbox (a postmortem's
    announcements), the live catalog and the clock."""

    runs: RunRepository
    control: ControlState
    outbox: Outbox
    catalog: Callable[[], Catalog]
    clock: Clock


@dataclass(frozen=True)
class Overview:
    """The front page: the kill switch, the week ahead and the most recent runs."""

    now: datetime
    kill_switch: KillSwitch
    pauses: list[Pause]
    planned: list[Planned]
    shifts: list[Shift]
    recent: list[Run]
    days: int = WEEK


@dataclass(frozen=True)
class HistoryQuery:
    """A page of history: optional schedule, state and earliest planned time."""

    schedule: str | None = None
    state: RunState | None = None
    since: datetime | None = None
    page: int = 1
    limit: int = DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class HistoryPage:
    """The runs of one page, newest planned first, and whether another page follows."""

    query: HistoryQuery
    runs: list[Run]
    has_next: bool


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as people read it: when it runs, its window's next periods, who
    approves, whether it is paused, and its last runs."""

    name: str
    kind: str
    timezone: str
    window: str | None
    when: str
    runbook: str | None
    approval: str
    approvers: tuple[str, ...]
    channel: str | None
    periods: list[tuple[datetime, datetime]]
    pause: Pause | None
    last_runs: list[Run] = field(default_factory=list)
    upcoming: list[Planned] = field(default_factory=list)


@dataclass(frozen=True)
class SchedulePage:
    """One page of schedules, by name."""

    schedules: list[ScheduleView]
    page: int
    pages: int
    total: int


class Pages:
    """The read-only use cases behind the web pages."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.outlook = Outlook(sources.catalog, sources.runs, sources.control)

    def now(self) -> datetime:
        """The clock's now."""
        return self.sources.clock.now()

    def overview(self) -> Overview:
        """The kill switch, the next `WEEK` days and the `RECENT` most recent runs."""
        now = self.now()
        end = now + timedelta(days=WEEK)
        pauses = self.sources.control.pauses()
        return Overview(
            now=now,
            kill_switch=self.sources.control.kill_switch_detail(),
            pauses=pauses,
            planned=self.outlook.planned(now, end, pauses=pauses),
            shifts=self.outlook.shifts(now, end),
            recent=self.recent(now),
        )

    def recent(
        self, now: datetime, *, schedule: str | None = None, count: int = RECENT
    ) -> list[Run]:
        """The `count` runs that started or ended most recently (by planned time)."""
        runs = self.sources.runs
        lists = []
        for state in HAPPENED:
            limit = count
            while True:
                found = runs.list_runs(schedule=schedule, state=state, limit=limit)
                if state not in _MAYBE_AHEAD:
                    break
                # Rows of these states may be planned ahead (rejected before their time):
                # read past them, in growing batches.
                past = [r for r in found if r.planned_at <= now]
                if len(past) >= count or len(found) < limit or limit >= MAX_HISTORY_DEPTH:
                    found = past
                    break
                limit = min(MAX_HISTORY_DEPTH, limit * 4)
            lists.append(found)
        newest = merge(*lists, key=lambda r: (r.planned_at, r.id), reverse=True)
        return [run for _, run in zip(range(count), newest, strict=False)]

    def history(self, query: HistoryQuery) -> HistoryPage:
        """One page of history (see the module's rules)."""
        if query.page < 1:
            raise InvalidInput(f"page must be 1 or more, not {query.page}")
        if not 1 <= query.limit <= MAX_HISTORY_LIMIT:
            raise InvalidInput(
                f"limit must be between 1 and {MAX_HISTORY_LIMIT}, not {query.limit}"
            )
        first = (query.page - 1) * query.limit
        depth = first + query.limit + 1  # one more tells whether a next page exists
        if depth > MAX_HISTORY_DEPTH + 1:
            raise InvalidInput(
                f"page {query.page} reaches past the newest {MAX_HISTORY_DEPTH} runs; "
                "narrow the list with schedule, state or since"
            )
        found = self.sources.runs.list_runs(
            schedule=query.schedule, state=query.state, limit=min(depth, MAX_HISTORY_DEPTH)
        )
        if query.since is not None:
            since = query.since
            found = [r for r in found if r.planned_at >= since]
        return HistoryPage(
            query=query,
            runs=found[first : first + query.limit],
            has_next=len(found) > first + query.limit,
        )

    def schedules(self, page: int = 1) -> SchedulePage:
        """One page of every schedule (GameDays and monkeys) by name."""
        catalog = self.sources.catalog()
        names = sorted([*catalog.gamedays, *catalog.monkeys])
        pages = max(1, -(-len(names) // SCHEDULES_PER_PAGE))
        if not 1 <= page <= pages:
            raise InvalidInput(f"page must be between 1 and {pages}, not {page}")
        now = self.now()
        paused = {p.schedule: p for p in self.sources.control.pauses()}
        chosen = names[(page - 1) * SCHEDULES_PER_PAGE : page * SCHEDULES_PER_PAGE]
        views = [self._view(catalog, n, now, paused, last=1) for n in chosen]
        return SchedulePage(views, page, pages, len(names))

    def schedule(self, name: str) -> ScheduleView:
        """One schedule with its next occurrences; NotFound when the catalog has none."""
        catalog = self.sources.catalog()
        catalog.schedule(name)  # NotFound with a suggestion
        now = self.now()
        paused = {p.schedule: p for p in self.sources.control.pauses()}
        view = self._view(catalog, name, now, paused, last=LAST_RUNS)
        end = now + timedelta(days=WEEK * 2)
        upcoming = self.outlook.planned(now, end, schedule=name, pauses=list(paused.values()))
        return ScheduleView(**{**view.__dict__, "upcoming": upcoming})

    def _view(
        self, catalog: Catalog, name: str, now: datetime, paused: dict[str, Pause], *, last: int
    ) -> ScheduleView:
        spec = catalog.schedule(name)
        window = catalog.windows.get(spec.window or "")
        policy = gameday_policy(catalog, spec) if isinstance(spec, GamedaySpec) else None
        return ScheduleView(
            name=name,
            kind=spec.kind,
            timezone=schedule_zone(catalog, spec),
            window=spec.window,
            when=_when(spec),
            runbook=spec.runbook if isinstance(spec, GamedaySpec) else None,
            approval=approval_text(policy)
            if isinstance(spec, GamedaySpec)
            else "not needed (a Veto during the heads-up stops a kill)",
            approvers=approvers_of(policy),
            channel=spec.channel,
            periods=next_periods(window, now) if window is not None else [],
            pause=paused.get(name),
            last_runs=self.recent(now, schedule=name, count=last),
        )


def _when(spec: GamedaySpec | MonkeySpec) -> str:
    if isinstance(spec, MonkeySpec):
        return (
            f"random kills, mean time between kills {_minutes(spec.mtbf)}, at least "
            f"{_minutes(spec.min_time_between_kills)} apart; heads-up {_minutes(spec.heads_up)}"
        )
    if spec.cron:
        return f"cron {spec.cron}"
    return f"once at {spec.at.isoformat() if spec.at else '?'}"


def _minutes(delta: timedelta) -> str:
    return format_duration(delta)


def next_periods(
    window: Window, now: datetime, count: int = NEXT_PERIODS, days: int = 2 * WEEK
) -> list[tuple[datetime, datetime]]:
    """The window's next `count` open periods (one already open included) within `days`."""
    return window_shifts(window, now, now + timedelta(days=days))[:count]


def parse_since(text: str, zone: str = "UTC") -> datetime:
    """An ISO date (midnight in `zone`) or ISO date and time (UTC unless it has an offset);
    InvalidInput saying what is expected otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"since {text!r} is not an ISO date (2026-03-01) or date and time "
            "(2026-03-01T10:00:00+00:00)"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo("UTC"))


def history_query(
    *,
    schedule: str | None,
    state: str | None,
    since: str | None,
    page: str | None,
    limit: str | None,
    zone: str = "UTC",
) -> HistoryQuery:
    """A HistoryQuery from query-string text; InvalidInput naming the bad value."""
    return HistoryQuery(
        schedule=schedule or None,
        state=parse_state(state) if state else None,
        since=parse_since(since, zone) if since else None,
        page=_number("page", page, 1),
        limit=_number("limit", limit, DEFAULT_PAGE_SIZE),
    )


def _number(name: str, text: str | None, default: int) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput(f"{name} must be a whole number, not {text!r}")
    return int(text)
