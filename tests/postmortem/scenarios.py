"""Runs in every end state, recorded as gameday records them, for postmortem tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gameday.adapters.db import Database
from gameday.domain import drills
from gameday.domain.clock import FixedClock
from gameday.domain.runs import Run, RunState
from tests.db.factories import make_run
from tests.journal.conftest import CHAOS_JOURNAL, HOSTILE_NOTE

ACTION_NOTE = "action: add an alert on <latency> & errors"
Scenario = Callable[[Database, FixedClock], Run]


def started(
    db: Database, clock: FixedClock, drill: drills.DrillSpec | None = None, **kw: Any
) -> Run:
    """A run claimed for execution (a drill's start record when `drill`), its method begun."""
    run = make_run(db.runs, RunState.APPROVED, **kw)
    clock.advance(timedelta(minutes=1))
    record = {"dry_run": True, "mode": "dry run"}
    if drill is not None:
        record[drills.RECORD_KEY] = drill.to_json()
    assert db.runs.claim(run.id, actor="test:flow", payload=record)
    clock.advance(timedelta(seconds=1))
    db.runs.append_event(run.id, "method_started", actor="worker")
    db.runs.append_event(
        run.id,
        "activity_started",
        actor="worker",
        payload={"name": "inject-latency", "type": "action", "phase": "method"},
    )
    if drill is not None:
        db.runs.append_event(
            run.id, drills.FAULT_STARTED, actor="worker", payload={"activity": "x"}
        )
    clock.advance(timedelta(seconds=2))
    return run


def _finish(db: Database, clock: FixedClock, run: Run, state: RunState, reason: str) -> Run:
    db.runs.append_event(
        run.id,
        "activity_finished",
        actor="worker",
        payload={
            "name": "inject-latency",
            "type": "action",
            "phase": "method",
            "status": "succeeded",
            "duration": 2.0,
        },
    )
    db.runs.append_event(run.id, "method_finished", actor="worker")
    clock.advance(timedelta(seconds=1))
    db.runs.append_event(run.id, "rollback_started", actor="worker", payload={"count": 1})
    db.runs.append_event(run.id, "rollback_finished", actor="worker", payload={"count": 1})
    _notes(db, run)
    return db.runs.transition(run.id, state, actor="worker", reason=reason)


def _notes(db: Database, run: Run) -> None:
    db.runs.add_note(run.id, author="U0SRE", text=HOSTILE_NOTE)
    db.runs.add_note(run.id, author="U0LEAD", text=ACTION_NOTE)


def _journal(status: str, deviated: bool) -> dict[str, Any]:
    journal = copy.deepcopy(CHAOS_JOURNAL)
    journal["status"], journal["deviated"] = status, deviated
    if deviated:
        journal["steady_states"]["after"] = {
            "steady_state_met": False,
            "probes": [
                {
                    "activity": {"type": "probe", "name": "reviews-answer", "tolerance": 200},
                    "status": "succeeded",
                    "output": 503,
                    "tolerance_met": False,
                    "start": "2026-03-02T14:00:08",
                    "end": "2026-03-02T14:00:08.2",
                    "duration": 0.2,
                }
            ],
        }
    return journal


def completed(db: Database, clock: FixedClock) -> Run:
    run = started(db, clock)
    db.runs.store_journal(run.id, _journal("completed", False))
    return _finish(db, clock, run, RunState.COMPLETED, "completed")


def deviated(db: Database, clock: FixedClock) -> Run:
    run = started(db, clock)
    db.runs.append_event(
        run.id, "deviated", actor="worker", payload={"phase": "after", "probes": ["reviews-answer"]}
    )
    db.runs.store_journal(run.id, _journal("completed", True))
    return _finish(db, clock, run, RunState.DEVIATED, "deviated")


def failed(db: Database, clock: FixedClock) -> Run:
    run = started(db, clock)
    db.runs.store_journal(run.id, _journal("failed", False))
    return _finish(db, clock, run, RunState.FAILED, "an activity failed")


def aborted_by_halt(db: Database, clock: FixedClock) -> Run:
    run = started(db, clock)
    db.runs.append_event(run.id, "halt_requested", actor="U0HALTER", payload={"reason": "stop"})
    db.runs.store_journal(run.id, _journal("interrupted", False))
    return _finish(db, clock, run, RunState.ABORTED, "halted by U0HALTER: stop")


def aborted_by_stop_condition(db: Database, clock: FixedClock) -> Run:
    run = started(db, clock)
    db.runs.append_event(
        run.id,
        "stop_condition",
        actor="flow",
        payload={"name": "error-rate", "observed": "0.4", "bound": "< 0.05"},
    )
    db.runs.append_event(run.id, "halt_requested", actor="flow", payload={"reason": "breach"})
    db.runs.store_journal(run.id, _journal("interrupted", False))
    return _finish(db, clock, run, RunState.ABORTED, "stop condition error-rate breached")


def interrupted_by_crash(db: Database, clock: FixedClock) -> Run:
    # No Chaos Toolkit journal: the worker died; recovery played the rollbacks.
    run = started(db, clock)
    clock.advance(timedelta(minutes=5))
    db.runs.append_event(run.id, "recovery_started", actor="recovery")
    db.runs.append_event(run.id, "rollback_started", actor="recovery")
    db.runs.append_event(run.id, "recovery_finished", actor="recovery")
    _notes(db, run)
    return db.runs.transition(run.id, RunState.INTERRUPTED, actor="recovery", reason="worker gone")


def skipped(db: Database, clock: FixedClock) -> Run:
    run = make_run(db.runs, RunState.ANNOUNCED)
    _notes(db, run)
    return db.runs.transition(
        run.id,
        RunState.SKIPPED,
        actor="scheduler",
        reason="window closed at fire time",
        payload={"code": "window_closed"},
    )


SCENARIOS: dict[str, Scenario] = {
    "completed": completed,
    "deviated": deviated,
    "failed": failed,
    "aborted by halt": aborted_by_halt,
    "aborted by stop condition": aborted_by_stop_condition,
    "interrupted by a crash": interrupted_by_crash,
    "skipped": skipped,
}
