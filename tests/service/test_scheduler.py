"""The scheduling use case on a real database (SQLite and PostgreSQL) with a fixed clock:
runs per occurrence, jobs derived from rows, guards at fire time, restart and reload."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from gameday.adapters.db import Database
from gameday.adapters.observability.metrics import Metrics
from gameday.domain.clock import FixedClock
from gameday.domain.fire_guards import PlannedOccurrence, ScheduleRules
from gameday.domain.runs import RunKind, RunState
from gameday.services.scheduler import Scheduler
from tests.service.conftest import ClaimingStarter, MemoryQueue, gameday_rules, occurrences

MINUTE = timedelta(minutes=1)
Make = Callable[..., Scheduler]


def fire_due(scheduler: Scheduler, queue: MemoryQueue, clock: FixedClock) -> list[str]:
    fired = queue.due(clock.now())
    for job_id in fired:
        scheduler.fire(job_id)
    return fired


def test_reconcile_plans_each_occurrence_once_and_derives_its_jobs(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    plan = occurrences("weekly", db_clock.now() + 10 * MINUTE, 3, MINUTE)
    scheduler = make_scheduler()
    first = scheduler.reconcile(plan, {"weekly": gameday_rules()})
    assert len(first.created) == 3
    assert sorted(queue.jobs()) == sorted(f"run-{i}-start" for i in first.created)
    again = scheduler.reconcile(plan, {"weekly": gameday_rules()})
    assert (again.created, again.cancelled, again.jobs_added, again.jobs_removed) == (
        (),
        (),
        (),
        (),
    )
    assert len(database.runs.list_runs(schedule="weekly")) == 3


def test_a_restart_neither_loses_nor_repeats_a_run(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    plan = occurrences("weekly", db_clock.now() + MINUTE, 2, MINUTE)
    rules = {"weekly": gameday_rules()}
    before = make_scheduler()
    before.reconcile(plan, rules)
    db_clock.advance(MINUTE)
    starter = ClaimingStarter(database)
    before._starter = starter
    assert fire_due(before, queue, db_clock)
    assert len(starter.started) == 1

    # A new process: an empty queue, the same database.
    queue.waiting.clear()
    after_starter = ClaimingStarter(database)
    after = make_scheduler(after_starter)
    result = after.reconcile(plan, rules)
    assert result.created == ()
    assert list(queue.jobs()) == [f"run-{starter.started[0] + 1}-start"]
    db_clock.advance(MINUTE)
    fire_due(after, queue, db_clock)
    assert after_starter.started == [starter.started[0] + 1]
    states = sorted(r.state for r in database.runs.list_runs(schedule="weekly"))
    assert states == [RunState.RUNNING, RunState.RUNNING]


def test_a_changed_plan_cancels_vanished_runs_and_keeps_the_rest(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    start = db_clock.now() + 10 * MINUTE
    scheduler = make_scheduler()
    created = scheduler.reconcile(
        occurrences("weekly", start, 3, MINUTE), {"weekly": gameday_rules()}
    ).created
    new_plan = occurrences("weekly", start, 2, MINUTE) + occurrences("daily", start, 1, MINUTE)
    result = scheduler.reconcile(
        new_plan, {"weekly": gameday_rules(), "daily": gameday_rules("daily")}
    )
    assert result.cancelled == (created[2],)
    assert len(result.created) == 1
    assert f"run-{created[2]}-start" not in queue.jobs()
    assert f"run-{result.created[0]}-start" in queue.jobs()
    cancelled = database.runs.get(created[2])
    assert cancelled.state is RunState.SKIPPED
    reason = database.runs.events(cancelled.id)[-1].payload
    assert reason.get("code") == "removed"


def test_a_removed_schedule_skips_its_waiting_runs(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    scheduler = make_scheduler()
    created = scheduler.reconcile(
        occurrences("weekly", db_clock.now() + MINUTE, 2, MINUTE), {"weekly": gameday_rules()}
    ).created
    result = scheduler.reconcile([], {})
    assert sorted(result.cancelled) == sorted(created)
    assert queue.jobs() == {}


@pytest.mark.parametrize(
    ("prepare", "expected", "code"),
    [
        (
            lambda db: db.control.engage_kill_switch(actor="sre", reason="incident"),
            RunState.SKIPPED,
            "kill_switch",
        ),
        (lambda db: db.control.pause("weekly", actor="sre"), RunState.SKIPPED, "paused"),
        (lambda db: None, RunState.RUNNING, None),
    ],
    ids=["kill-switch", "paused", "clear"],
)
def test_guards_are_checked_when_the_job_fires(
    make_scheduler: Make,
    database: Database,
    db_clock: FixedClock,
    queue: MemoryQueue,
    metrics: Metrics,
    prepare: Callable[[Database], None],
    expected: RunState,
    code: str | None,
) -> None:
    starter = ClaimingStarter(database)
    scheduler = make_scheduler(starter)
    (run_id,) = scheduler.reconcile(
        occurrences("weekly", db_clock.now() + MINUTE, 1, MINUTE), {"weekly": gameday_rules()}
    ).created
    prepare(database)  # after planning: only the fire-time check can catch it
    db_clock.advance(MINUTE)
    fire_due(scheduler, queue, db_clock)
    assert database.runs.get(run_id).state is expected
    assert starter.started == ([run_id] if code is None else [])
    if code is not None:
        assert metrics.skips.labels(reason=code)._value.get() == 1


def test_a_job_that_fires_late_is_skipped_never_run_late(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    starter = ClaimingStarter(database)
    scheduler = make_scheduler(starter)
    (run_id,) = scheduler.reconcile(
        occurrences("weekly", db_clock.now() + MINUTE, 1, MINUTE), {"weekly": gameday_rules()}
    ).created
    db_clock.advance(5 * MINUTE)
    fire_due(scheduler, queue, db_clock)
    run = database.runs.get(run_id)
    assert run.state is RunState.SKIPPED
    assert starter.started == []
    assert "never run late" in database.runs.events(run_id)[-1].payload.get("reason", "") or any(
        "never run late" in str(e.payload) for e in database.runs.events(run_id)
    )


def test_a_window_closed_at_fire_time_skips_the_run(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    rules = gameday_rules(window=lambda at: "blackout 2026-03-02", window_name="office")
    scheduler = make_scheduler()
    (run_id,) = scheduler.reconcile(
        occurrences("weekly", db_clock.now() + MINUTE, 1, MINUTE), {"weekly": rules}
    ).created
    db_clock.advance(MINUTE)
    fire_due(scheduler, queue, db_clock)
    assert database.runs.get(run_id).state is RunState.SKIPPED


def test_missed_runs_are_recorded_skipped_at_start_up(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    rules = {"weekly": gameday_rules()}
    make_scheduler().reconcile(
        occurrences("weekly", db_clock.now() + MINUTE, 3, 10 * MINUTE), rules
    )
    db_clock.advance(15 * MINUTE)  # the service was down for the first two
    queue.waiting.clear()
    restarted = make_scheduler()
    missed = restarted.skip_missed()
    assert [r.state for r in missed] == [RunState.SKIPPED, RunState.SKIPPED]
    (waiting,) = database.runs.in_state(RunState.PLANNED)
    assert waiting.planned_at == db_clock.now() + 6 * MINUTE


def test_an_approval_policy_announces_asks_and_expires(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    rules = gameday_rules(announce=(10 * MINUTE,), approval_deadline=5 * MINUTE, channel="#chaos")
    scheduler = make_scheduler()
    (run_id,) = scheduler.reconcile(
        occurrences("weekly", db_clock.now() + 20 * MINUTE, 1, MINUTE), {"weekly": rules}
    ).created
    db_clock.advance(10 * MINUTE)
    assert fire_due(scheduler, queue, db_clock) == [f"run-{run_id}-announce-600"]
    assert database.runs.get(run_id).state is RunState.AWAITING_APPROVAL
    assert database.outbox.depth() == 1
    db_clock.advance(5 * MINUTE)
    assert fire_due(scheduler, queue, db_clock) == [f"run-{run_id}-expire"]
    assert database.runs.get(run_id).state is RunState.EXPIRED
    assert queue.jobs() == {}


def test_an_approved_run_starts_and_an_unapproved_one_does_not(
    make_scheduler: Make,
    database: Database,
    db_clock: FixedClock,
    queue: MemoryQueue,
    metrics: Metrics,
) -> None:
    rules = gameday_rules(announce=(10 * MINUTE,), approval_deadline=30 * MINUTE)
    starter = ClaimingStarter(database)
    scheduler = make_scheduler(starter)
    ids = scheduler.reconcile(
        occurrences("weekly", db_clock.now() + 20 * MINUTE, 2, timedelta(seconds=10)),
        {"weekly": rules},
    ).created
    db_clock.advance(11 * MINUTE)
    fire_due(scheduler, queue, db_clock)
    db_clock.advance(2 * MINUTE)
    database.runs.transition(ids[0], RunState.APPROVED, actor="U1", reason="approved")
    db_clock.advance(7 * MINUTE + timedelta(seconds=10))
    fire_due(scheduler, queue, db_clock)
    assert starter.started == [ids[0]]
    assert database.runs.get(ids[1]).state is RunState.EXPIRED


def test_two_leaders_never_start_one_occurrence_twice(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    rules = {"weekly": gameday_rules()}
    plan = occurrences("weekly", db_clock.now() + MINUTE, 1, MINUTE)
    first, second = ClaimingStarter(database), ClaimingStarter(database)
    a, b = make_scheduler(first), make_scheduler(second)
    (run_id,) = a.reconcile(plan, rules).created
    assert b.reconcile(plan, rules).created == ()
    db_clock.advance(MINUTE)
    a.fire(f"run-{run_id}-start")
    b.fire(f"run-{run_id}-start")
    assert first.started + second.started == [run_id]


def test_reconcile_changes_nothing_outside_the_horizon(
    make_scheduler: Make, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    scheduler = make_scheduler(horizon=timedelta(hours=1))
    plan = occurrences("weekly", db_clock.now() + 30 * MINUTE, 3, timedelta(hours=1))
    assert len(scheduler.reconcile(plan, {"weekly": gameday_rules()}).created) == 1
    assert replace(plan[0]).at == db_clock.now() + 30 * MINUTE


def test_an_unchanged_monkey_keeps_its_kills_and_only_grows(
    make_scheduler: Make, database: Database, db_clock: FixedClock
) -> None:
    # Kill times are drawn at random each time the plan is made; re-planning an unchanged
    # monkey must not reshuffle the kills already announced.
    rules = {
        "monkey": ScheduleRules(
            name="monkey", kind=RunKind.MONKEY, digest="v1", min_gap=timedelta(hours=1)
        )
    }
    now = db_clock.now()

    def kills(*hours: float) -> list[PlannedOccurrence]:
        return [
            PlannedOccurrence("monkey", RunKind.MONKEY, now + timedelta(hours=h)) for h in hours
        ]

    scheduler = make_scheduler()
    first = scheduler.reconcile(kills(1, 5), rules)
    again = scheduler.reconcile(kills(2, 5.5, 6, 9), rules)
    assert again.cancelled == ()
    planned = sorted(r.planned_at for r in database.runs.in_state(RunState.PLANNED))
    # 2 and 5.5 fall before the newest kill (5) plus the minimum gap; 6 and 9 extend it.
    assert planned == [now + timedelta(hours=h) for h in (1, 5, 6, 9)]
    assert len(first.created) == 2

    changed = {"monkey": replace(rules["monkey"], digest="v2")}
    result = scheduler.reconcile(kills(3), changed)
    assert len(result.cancelled) == 4
    assert [r.planned_at for r in database.runs.in_state(RunState.PLANNED)] == [
        now + timedelta(hours=3)
    ]
