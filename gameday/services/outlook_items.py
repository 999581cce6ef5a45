"""The items of the outlook, read for people: a planned occurrence, a window's shift, and
how a schedule's approval, zone, duration and skip reasons are put into words.

Rules: nothing here reads the database but `end_reason` (the reason a run's last state
change recorded); everything else is a function of the catalog and one run row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gameday.domain.errors import GamedayError
from gameday.domain.execution import DEFAULT_TIMEOUT
from gameday.domain.ports import RunRepository
from gameday.domain.run_policy import approval_for
from gameday.domain.runs import Pause, Run, RunState
from gameday.domain.specs import ApprovalSpec, GamedaySpec, MonkeySpec, Runbook
from gameday.domain.windows import Window, WindowCalendar
from gameday.services.catalog import Catalog
from gameday.services.execution import timeout_of

_DAY = timedelta(days=1)

STATE_LABELS = {
    "planned": "planned",
    "skipped": "skipped",
    RunState.PLANNED.value: "planned",
    RunState.ANNOUNCED.value: "announced",
    RunState.AWAITING_APPROVAL.value: "awaiting approval",
    RunState.APPROVED.value: "approved",
    RunState.REJECTED.value: "rejected",
    RunState.EXPIRED.value: "expired",
    RunState.SKIPPED.value: "skipped",
}


@dataclass(frozen=True)
class Planned:
    """One GameDay occurrence (or an announced monkey kill) as people read it.

    `state` is `planned`/`skipped` (plan only) or the row's state; `skipped` is True for
    every occurrence that will not run (the plan's, a pause's or the row's own reason)."""

    schedule: str
    kind: str
    at: datetime
    local: datetime
    timezone: str
    runbook: str | None
    state: str
    skipped: bool
    reason: str
    approval: str
    run_id: int | None = None
    duration: timedelta = DEFAULT_TIMEOUT

    @property
    def state_label(self) -> str:
        """The state in words."""
        return STATE_LABELS.get(self.state, self.state)


@dataclass(frozen=True)
class Shift:
    """One open period of a window that monkeys use, and the monkeys that may kill in it."""

    window: str
    timezone: str
    start: datetime
    end: datetime
    monkeys: tuple[str, ...]
    paused: tuple[str, ...] = ()

    @property
    def local_start(self) -> datetime:
        """The start in the window's zone."""
        return self.start.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        """The end in the window's zone."""
        return self.end.astimezone(ZoneInfo(self.timezone))


def approvers_of(policy: ApprovalSpec | None) -> tuple[str, ...]:
    """Who may approve (Slack user and group IDs), sorted; empty when none is needed."""
    if policy is None:
        return ()
    return tuple(sorted({*policy.approvers.users, *policy.approvers.usergroups}))


def approval_text(policy: ApprovalSpec | None) -> str:
    """The approval policy in words: `not needed`, or `1 of U1, U2 within 30m`."""
    if policy is None:
        return "not needed"
    deadline = int(policy.deadline.total_seconds() // 60)
    return f"{policy.quorum} of {', '.join(approvers_of(policy))} within {deadline} min"


def schedule_zone(catalog: Catalog, spec: GamedaySpec | MonkeySpec) -> str:
    """The zone a schedule's times are shown in: its own, else its window's, else UTC."""
    if isinstance(spec, GamedaySpec) and spec.timezone:
        return spec.timezone
    window = catalog.windows.get(spec.window or "")
    return window.timezone if window is not None else "UTC"


def gameday_policy(catalog: Catalog, spec: GamedaySpec) -> ApprovalSpec | None:
    """The approval policy of a GameDay's runs (the schedule's, else its runbook's)."""
    return approval_for(spec, runbook_of(catalog, spec.runbook))


def gameday_duration(catalog: Catalog, spec: GamedaySpec) -> timedelta:
    """How long a run of a GameDay may take: its runbook's time limit."""
    runbook = runbook_of(catalog, spec.runbook)
    return timeout_of(runbook) if runbook is not None else DEFAULT_TIMEOUT


def runbook_of(catalog: Catalog, ref: str) -> Runbook | None:
    """The runbook `ref` names; None when it is unknown or broken."""
    try:
        return catalog.runbook(ref)
    except GamedayError:
        return None


def window_shifts(
    window: Window, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The window's shifts (UTC) that are open at some instant of [start, end), whole:
    one per local start date, so a period keeps its start however the span moves."""
    calendar = WindowCalendar(window)
    zone = ZoneInfo(window.timezone)
    day: date = start.astimezone(zone).date() - _DAY
    last = end.astimezone(zone).date()
    found: list[tuple[datetime, datetime]] = []
    while day <= last:
        shift = calendar.shift(day)
        day += _DAY
        if shift is not None and shift[1] > start and shift[0] < end:
            found.append(shift)
    return found


def pause_reason(pause: Pause) -> str:
    """Why a paused schedule's occurrences are skipped."""
    why = f": {pause.reason}" if pause.reason else ""
    return f"schedule paused by {pause.actor} since {pause.at.isoformat(timespec='minutes')}{why}"


def end_reason(runs: RunRepository, run: Run) -> str:
    """The reason the run's move into its current state recorded."""
    for event in reversed(runs.events(run.id)):
        if event.type == "state_changed" and event.payload.get("to") == run.state.value:
            reason = event.payload.get("reason")
            if isinstance(reason, str) and reason:
                return reason
            break
    return f"run {run.state.value}"


def approval_state(policy: ApprovalSpec | None, row: Run | None) -> str:
    """Where a run stands with its approval, in words (`will be asked: …`, `approved`)."""
    if policy is None:
        return "not needed"
    asked = approval_text(policy)
    if row is None or row.state is RunState.PLANNED:
        return f"will be asked: {asked}"
    if row.state is RunState.APPROVED:
        return "approved"
    if row.state in (RunState.ANNOUNCED, RunState.AWAITING_APPROVAL):
        return f"waiting: {asked}"
    return row.state.value
