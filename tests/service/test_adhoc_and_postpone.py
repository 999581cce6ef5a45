"""Ad-hoc runs (requested in Slack) are started by the leader as soon as they are approved,
never late and never under the kill switch; a run `gameday run` carries itself is left to
it; a postponed run survives every re-plan. On a real database with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.runs import NewRun, Run, RunKind, RunState
from gameday.services import execution
from gameday.services.catch_up import CatchUp
from gameday.services.scheduler import Scheduler
from tests.service.conftest import ClaimingStarter, MemoryQueue, gameday_rules, occurrences

Make = Callable[..., Scheduler]
MakeCatchUp = Callable[..., CatchUp]
MINUTE = timedelta(minutes=1)


def adhoc(database: Database, clock: FixedClock, **approval: object) -> Run:
    """An ad-hoc run requested and approved now (as the approval service does)."""
    run = database.runs.create(
        NewRun(kind=RunKind.GAMEDAY, schedule=None, runbook="runbooks/quick.json",
               planned_at=clock.now(), requester="UCAROL"),
        actor="UCAROL", reason="requested",
    )  # fmt: skip
    return database.runs.transition(
        run.id, RunState.APPROVED, actor="UALICE", reason="approved", payload=approval or None
    )


def test_an_approved_adhoc_run_is_started_once(
    make_scheduler: Make, make_catch_up: MakeCatchUp, database: Database, db_clock: FixedClock
) -> None:
    starter = ClaimingStarter(database)
    catch_up = make_catch_up(make_scheduler(starter), starter)
    run = adhoc(database, db_clock)

    assert catch_up.start_adhoc() == [run.id]
    assert catch_up.start_adhoc() == []  # claimed: running now
    assert starter.started == [run.id]


def test_a_run_its_requester_carries_is_left_to_it(
    make_scheduler: Make, make_catch_up: MakeCatchUp, database: Database, db_clock: FixedClock
) -> None:
    starter = ClaimingStarter(database)
    run = adhoc(database, db_clock, **{execution.CARRIER: execution.CARRIED_BY_REQUESTER})

    assert make_catch_up(make_scheduler(starter), starter).start_adhoc() == []
    assert database.runs.get(run.id).state is RunState.APPROVED


def test_the_kill_switch_skips_an_approved_adhoc_run(
    make_scheduler: Make, make_catch_up: MakeCatchUp, database: Database, db_clock: FixedClock
) -> None:
    run = adhoc(database, db_clock)
    database.control.engage_kill_switch(actor="USRE", reason="incident")

    assert make_catch_up(make_scheduler()).start_adhoc() == []
    ended = database.runs.get(run.id)
    assert ended.state is RunState.SKIPPED
    reason = database.runs.events(run.id)[-1].payload["reason"]
    assert reason == "kill switch engaged: incident"


def test_an_approval_no_service_acted_on_in_time_is_never_run_late(
    make_scheduler: Make, make_catch_up: MakeCatchUp, database: Database, db_clock: FixedClock
) -> None:
    run = adhoc(database, db_clock)
    db_clock.advance(timedelta(minutes=5))  # the service was down

    scheduler = make_scheduler()
    assert scheduler.skip_missed() == []  # ad-hoc runs are not the planner's to skip
    assert make_catch_up(scheduler).start_adhoc() == []
    reason = database.runs.events(run.id)[-1].payload["reason"]
    assert database.runs.get(run.id).state is RunState.SKIPPED
    assert "approved 5m ago, but no service was running to start it" in reason


def test_a_postponed_run_survives_every_replan(
    make_scheduler: Make, database: Database, db_clock: FixedClock, queue: MemoryQueue
) -> None:
    plan = occurrences("weekly", db_clock.now() + 10 * MINUTE, 1, MINUTE)
    rules = {"weekly": gameday_rules()}
    scheduler = make_scheduler(horizon=timedelta(hours=48))
    (first,) = scheduler.reconcile(plan, rules).created
    original = database.runs.get(first)
    later = database.runs.create(
        NewRun(kind=RunKind.GAMEDAY, schedule="weekly", runbook="noop",
               planned_at=original.planned_at + timedelta(hours=1), postponed_from=first),
        actor="UALICE", reason=f"postponed from run #{first}",
    )  # fmt: skip
    database.runs.transition(first, RunState.SKIPPED, actor="UALICE", reason="postponed")

    for _ in range(3):
        result = scheduler.reconcile(plan, rules)
        assert later.id not in result.cancelled
    assert database.runs.get(later.id).state is RunState.PLANNED
    assert f"run-{later.id}-start" in queue.jobs()
