"""Runs written through the real repositories as the service would leave them: a GameDay
that completed (approvals, a Chaos Toolkit journal, a note), one that deviated, a monkey
kill, a skipped run, an announced one waiting for approval and one rejected ahead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.runs import Decision, NewRun, Run, RunKind, RunState
from tests.db.factories import path_to

SERVICE = "gameday-serve@node-1"
HOSTILE_NOTE = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Seeded:
    """The ids of the runs `seed` wrote."""

    completed: int
    deviated: int
    monkey: int
    skipped: int
    waiting: int
    rejected_ahead: int


def _walk(
    database: Database,
    clock: FixedClock,
    new: NewRun,
    state: RunState,
    *,
    reasons: dict[RunState, str] | None = None,
) -> Run:
    """`new` created and moved to `state` through the lifecycle, the clock a little later
    at each step (as if the service did it)."""
    runs = database.runs
    # The row is written a day ahead and each step a minute later, before the planned time.
    clock.current = new.planned_at - timedelta(days=1)
    run = runs.create(new, actor=SERVICE, reason="planned from the schedule")
    for step in path_to(state):
        clock.current = max(clock.current + timedelta(minutes=1), _step_time(new, step))
        reason = (reasons or {}).get(step, f"moved to {step.value}")
        run = runs.transition(run.id, step, actor=SERVICE, reason=reason)
    return run


def _step_time(new: NewRun, step: RunState) -> datetime:
    """When the service takes `step`: approvals an hour ahead, the start on time."""
    if step in (RunState.RUNNING, RunState.SKIPPED):
        return new.planned_at
    if step in (RunState.COMPLETED, RunState.DEVIATED):
        return new.planned_at + timedelta(minutes=4)
    return new.planned_at - timedelta(hours=1)


def _journal(title: str, start: datetime, *, deviated: bool) -> dict[str, Any]:
    def activity(name: str, kind: str, at: datetime, seconds: float, **extra: Any) -> Any:
        return {
            "activity": {"name": name, "type": kind},
            "status": "succeeded",
            "start": at.isoformat(),
            "end": (at + timedelta(seconds=seconds)).isoformat(),
            "duration": seconds,
            **extra,
        }

    return {
        "experiment": {"title": title, "description": "Reviews answer slowly for a while."},
        "status": "completed",
        "deviated": deviated,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=4)).isoformat(),
        "duration": 240.0,
        "steady_states": {
            "before": {
                "steady_state_met": True,
                "probes": [activity("product-page-answers", "probe", start, 0.4)],
            },
            "after": {
                "steady_state_met": not deviated,
                "probes": [
                    activity(
                        "product-page-answers",
                        "probe",
                        start + timedelta(minutes=3),
                        0.5,
                        tolerance_met=not deviated,
                    )
                ],
            },
            "during": [],
        },
        "run": [
            activity("inject-reviews-latency", "action", start + timedelta(seconds=2), 1.2),
            activity("wait-for-traffic", "action", start + timedelta(seconds=4), 170.0),
        ],
        "rollbacks": [
            activity("remove-reviews-latency", "action", start + timedelta(minutes=3), 0.8)
        ],
    }


def seed(database: Database, clock: FixedClock, *, note: str = HOSTILE_NOTE) -> Seeded:
    """Write the runs (see the module docstring) around `clock.now()`; the completed
    GameDay carries `note`."""
    now = clock.now()
    runs = database.runs

    def gameday(schedule: str, at: datetime) -> NewRun:
        return NewRun(
            kind=RunKind.GAMEDAY,
            schedule=schedule,
            runbook="runbooks/reviews-latency.yaml",
            planned_at=at,
            dry_run=True,
            seed=42,
            runbook_digest="sha256:" + "3f" * 32,
        )

    completed = _walk(
        database,
        clock,
        gameday("berlin-daily", now - timedelta(days=1, hours=1)),
        RunState.APPROVED,
    )
    for minutes, user in ((-50, "UALICE"), (-42, "UBOB")):
        clock.current = completed.planned_at + timedelta(minutes=minutes)
        runs.record_approval(completed.id, user, Decision.APPROVE)
    clock.current = completed.planned_at
    runs.transition(completed.id, RunState.RUNNING, actor=SERVICE, reason="started (dry run)")
    clock.current = completed.planned_at + timedelta(minutes=4)
    runs.store_journal(
        completed.id, _journal("Reviews get slow", completed.planned_at, deviated=False)
    )
    runs.transition(completed.id, RunState.COMPLETED, actor="worker", reason="steady state held")
    clock.current = completed.planned_at + timedelta(minutes=20)
    runs.add_note(completed.id, author="UALICE", text=note)

    deviated = _walk(
        database, clock, gameday("tokyo-weekly", now - timedelta(days=5)), RunState.RUNNING
    )
    clock.current = deviated.planned_at + timedelta(minutes=4)
    runs.store_journal(
        deviated.id, _journal("Reviews get slow", deviated.planned_at, deviated=True)
    )
    runs.transition(
        deviated.id, RunState.DEVIATED, actor="worker", reason="steady state not met after"
    )

    kill = NewRun(
        kind=RunKind.MONKEY,
        schedule="bookinfo-monkey",
        runbook=None,
        planned_at=now - timedelta(hours=20),
        seed=7,
    )
    monkey = _walk(database, clock, kill, RunState.COMPLETED)
    skipped = _walk(
        database,
        clock,
        gameday("berlin-daily", now - timedelta(hours=2)),
        RunState.SKIPPED,
        reasons={RunState.SKIPPED: "kill switch engaged"},
    )
    waiting = _walk(
        database, clock, gameday("berlin-daily", _at(now, days=1, hour=9)), RunState.ANNOUNCED
    )
    rejected = _walk(
        database,
        clock,
        gameday("berlin-daily", _at(now, days=2, hour=9)),
        RunState.REJECTED,
        reasons={RunState.REJECTED: "rejected by UBOB: release freeze"},
    )
    clock.current = now
    return Seeded(completed.id, deviated.id, monkey.id, skipped.id, waiting.id, rejected.id)


def _at(now: datetime, *, days: int, hour: int) -> datetime:
    """`days` after now at `hour`:00 UTC (10:00 in Berlin in winter: berlin-daily's time)."""
    return (now + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
