"""What the scheduler decides without touching anything: which jobs should exist for the
runs in the database, and whether a run may start at the moment its job fires.

Every safety rule (docs/safety.md) that can be checked before a run starts is re-checked here at
fire time, not only at planning time: a plan made hours ago knows nothing of a kill switch
engaged a minute ago.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gameday.domain.runs import Run, RunKind, RunState

# Why a window is closed at an instant, or None when it is open.
WindowCheck = Callable[[datetime], str | None]

DEFAULT_TOLERANCE = timedelta(seconds=30)


def kill_switch_reason(why: str | None) -> str:
    """Why a run does not start or is halted: `kill switch engaged: WHY`."""
    return f"kill switch engaged: {why or 'no reason given'}"


def kill_switch_refusal(why: str | None) -> str:
    """What a person asking to start something is told while the kill switch is engaged."""
    return (
        f"the kill switch is engaged ({why or 'no reason given'}): nothing new starts until "
        "it is released"
    )


# Runs whose start is still ahead of them: the scheduler keeps jobs for these only.
WAITING_STATES = frozenset(
    {RunState.PLANNED, RunState.ANNOUNCED, RunState.AWAITING_APPROVAL, RunState.APPROVED}
)


class JobAction(StrEnum):
    """What a job does when it fires."""

    ANNOUNCE = "announce"
    EXPIRE = "expire"
    START = "start"


class SkipCode(StrEnum):
    """Reasons a run does not start, as a small fixed set (a metrics label)."""

    KILL_SWITCH = "kill_switch"
    PAUSED = "paused"
    LATE = "late"
    WINDOW_CLOSED = "window_closed"
    NOT_APPROVED = "not_approved"
    PLANNING = "planning"
    REMOVED = "removed"
    MISSED = "missed"


@dataclass(frozen=True)
class ScheduleRules:
    """What the scheduler must know of a schedule to time and guard its runs.

    `announce` holds the leads before the start at which the run is announced (a monkey's
    heads-up is its one lead); `approval_deadline` is None when no approval is needed,
    otherwise how long approvers have once asked; `window` says why the schedule's window is
    closed at an instant (None: no window, always open); `digest` changes when the spec
    does; `min_gap` is the least time between two runs (a monkey's min_time_between_kills).
    """

    name: str
    kind: RunKind
    runbook: str | None = None
    window: WindowCheck | None = None
    window_name: str | None = None
    announce: tuple[timedelta, ...] = ()
    approval_deadline: timedelta | None = None
    channel: str | None = None
    digest: str | None = None
    min_gap: timedelta = timedelta(0)

    @property
    def needs_approval(self) -> bool:
        """True when a quorum of approvers must say yes before the run may start."""
        return self.approval_deadline is not None


@dataclass(frozen=True)
class PlannedOccurrence:
    """One occurrence the plan wants (schedule, instant); `skip_reason` when the plan
    already knows it will not run (for instance its window is closed then)."""

    schedule: str
    kind: RunKind
    at: datetime
    runbook: str | None = None
    seed: int | None = None
    skip_reason: str | None = None

    @property
    def key(self) -> tuple[str, datetime]:
        """The identity of an occurrence: a schedule runs at most once at an instant."""
        return (self.schedule, self.at)


@dataclass(frozen=True)
class Job:
    """A timed action on one run; the id is stable, so re-deriving jobs after a restart or
    a reload yields the same ids and only the differences are applied."""

    run_id: int
    action: JobAction
    at: datetime
    lead: timedelta | None = None

    @property
    def id(self) -> str:
        """`run-<id>-<action>[-<lead seconds>]`."""
        suffix = "" if self.lead is None else f"-{int(self.lead.total_seconds())}"
        return f"run-{self.run_id}-{self.action.value}{suffix}"


def parse_job_id(job_id: str) -> tuple[int, JobAction, timedelta | None]:
    """Invert Job.id; ValueError on anything else."""
    parts = job_id.split("-")
    if len(parts) not in (3, 4) or parts[0] != "run":
        raise ValueError(f"not a scheduler job id: {job_id!r}")
    lead = timedelta(seconds=int(parts[3])) if len(parts) == 4 else None
    return int(parts[1]), JobAction(parts[2]), lead


def approval_expires_at(planned_at: datetime, rules: ScheduleRules) -> datetime | None:
    """When an unanswered approval request lapses: its deadline after it is asked (with the
    first announcement, else `deadline` before the start), never after the start."""
    if rules.approval_deadline is None:
        return None
    asked = planned_at - (max(rules.announce) if rules.announce else rules.approval_deadline)
    return min(asked + rules.approval_deadline, planned_at)


def jobs_for_run(run: Run, rules: ScheduleRules, now: datetime) -> list[Job]:
    """The jobs one waiting run needs from `now` on.

    Rules: every waiting run has a start job, even when its time has passed (it fires at once
    and the guards record why it is skipped, so nothing is lost silently); announcements lie
    ahead, except that a run not yet announced whose first lead has passed gets one
    announcement now, not one per missed lead.
    """
    if run.state not in WAITING_STATES:
        return []
    jobs = [Job(run.id, JobAction.START, run.planned_at)]
    if run.planned_at <= now:
        return jobs
    passed = False
    for lead in sorted(set(rules.announce), reverse=True):
        at = run.planned_at - lead
        if at > now:
            jobs.append(Job(run.id, JobAction.ANNOUNCE, at, lead))
        else:
            passed = True
    if passed and run.state is RunState.PLANNED:
        jobs.append(Job(run.id, JobAction.ANNOUNCE, now, timedelta(0)))
    if rules.needs_approval and run.state in (
        RunState.PLANNED,
        RunState.ANNOUNCED,
        RunState.AWAITING_APPROVAL,
    ):
        expires = approval_expires_at(run.planned_at, rules)
        if expires is not None and expires < run.planned_at:
            jobs.append(Job(run.id, JobAction.EXPIRE, max(expires, now)))
    return jobs


def desired_jobs(
    runs: Iterable[Run], rules: Mapping[str, ScheduleRules], now: datetime
) -> dict[str, Job]:
    """Every job the waiting runs need, by id (runs of unknown schedules get none)."""
    jobs: dict[str, Job] = {}
    for run in runs:
        if run.schedule is None or run.schedule not in rules:
            continue
        for job in jobs_for_run(run, rules[run.schedule], now):
            jobs[job.id] = job
    return jobs


@dataclass(frozen=True)
class JobDiff:
    """What to change in a job queue: add (or move) these, remove those."""

    add: tuple[Job, ...] = ()
    remove: tuple[str, ...] = ()


def diff_jobs(current: Mapping[str, datetime], desired: Mapping[str, Job]) -> JobDiff:
    """Only the differences: new or moved jobs to add, vanished ones to remove."""
    add = tuple(job for job_id, job in sorted(desired.items()) if current.get(job_id) != job.at)
    remove = tuple(sorted(job_id for job_id in current if job_id not in desired))
    return JobDiff(add=add, remove=remove)


@dataclass(frozen=True)
class FireContext:
    """Everything the guards look at when a start job fires."""

    now: datetime
    tolerance: timedelta = DEFAULT_TOLERANCE
    kill_switch: tuple[bool, str | None] = (False, None)
    paused: bool = False
    window_closed: str | None = None
    planning_skip: str | None = None


@dataclass(frozen=True)
class StartVerdict:
    """Go, or the reason (code and words) the run must not start."""

    go: bool
    code: SkipCode | None = None
    reason: str | None = None
    final_state: RunState = RunState.SKIPPED


GO = StartVerdict(go=True)


def start_verdict(run: Run, rules: ScheduleRules, ctx: FireContext) -> StartVerdict:
    """May this run start now? Every rule is checked, in the order a person would ask.

    Rules: kill switch engaged, schedule paused, more than `tolerance` past its moment (never
    run late), window closed now, the plan marked it skipped, approval required and not
    given (an unanswered request ends `expired`, anything else `skipped`).
    """
    engaged, why = ctx.kill_switch
    if engaged:
        return StartVerdict(False, SkipCode.KILL_SWITCH, kill_switch_reason(why))
    if ctx.paused:
        return StartVerdict(False, SkipCode.PAUSED, f"schedule {rules.name} is paused")
    late = ctx.now - run.planned_at
    if late > ctx.tolerance:
        return StartVerdict(
            False,
            SkipCode.LATE,
            f"missed its moment by {_human(late)} (tolerance {_human(ctx.tolerance)});"
            " never run late",
        )
    if ctx.window_closed is not None:
        return StartVerdict(
            False, SkipCode.WINDOW_CLOSED, f"window closed at fire time: {ctx.window_closed}"
        )
    if ctx.planning_skip is not None:
        return StartVerdict(False, SkipCode.PLANNING, ctx.planning_skip)
    if rules.needs_approval and run.state is not RunState.APPROVED:
        if run.state is RunState.AWAITING_APPROVAL:
            return StartVerdict(
                False,
                SkipCode.NOT_APPROVED,
                "approval deadline passed without a quorum",
                final_state=RunState.EXPIRED,
            )
        return StartVerdict(
            False, SkipCode.NOT_APPROVED, f"approval required but the run is {run.state.value}"
        )
    return GO


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
