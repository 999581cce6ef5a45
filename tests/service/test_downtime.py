"""What a service missed while none ran is recorded, never run late; a spec changed while
it was stopped is replanned. On a real database with a fixed clock, and once through a
real `gameday serve` stopped and started again."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.fire_guards import PlannedOccurrence, ScheduleRules
from gameday.domain.lifecycle import is_final
from gameday.domain.runs import RunKind, RunState
from gameday.services.catch_up import MISSED_REASON, CatchUp
from gameday.services.scheduler import Scheduler
from tests.service.conftest import gameday_rules
from tests.service.serving import Home, Serve, wait_until

Make = Callable[..., Scheduler]
MakeCatchUp = Callable[..., CatchUp]
HOUR = timedelta(hours=1)


def hourly(name: str, start: datetime, end: datetime) -> list[PlannedOccurrence]:
    """An occurrence of `name` on every whole hour in [start, end)."""
    at = start.replace(minute=0, second=0, microsecond=0) + HOUR
    found = []
    while at < end:
        found.append(PlannedOccurrence(schedule=name, kind=RunKind.GAMEDAY, at=at, runbook="noop"))
        at += HOUR
    return found


def past_of(name: str) -> Callable[[datetime, datetime], Sequence[PlannedOccurrence]]:
    return lambda since, until: hourly(name, since, until)


def reasons(database: Database, name: str) -> list[tuple[RunState, str]]:
    runs = sorted(database.runs.list_runs(schedule=name, limit=1000), key=lambda r: r.planned_at)
    return [(r.state, database.runs.events(r.id)[-1].payload["reason"]) for r in runs]


def test_occurrences_planned_while_no_service_ran_are_recorded_as_missed(
    make_scheduler: Make, make_catch_up: MakeCatchUp, database: Database, db_clock: FixedClock
) -> None:
    rules = {"hourly": gameday_rules("hourly")}
    before = make_scheduler(marks=database.marks)
    before.reconcile([], rules)
    make_catch_up(before).mark_alive()

    db_clock.advance(timedelta(hours=5, minutes=30))  # the service was down
    after = make_scheduler(marks=database.marks)
    after.reconcile([], rules)
    catch_up = make_catch_up(after)
    recorded = catch_up.record_downtime(past_of("hourly"))

    assert len(recorded) == 5
    assert reasons(database, "hourly") == [(RunState.SKIPPED, MISSED_REASON)] * 5
    assert catch_up.record_downtime(past_of("hourly")) == []  # recorded once


def test_a_first_start_records_nothing_and_the_gap_is_bounded(
    make_scheduler: Make, make_catch_up: MakeCatchUp, database: Database, db_clock: FixedClock
) -> None:
    rules = {"hourly": gameday_rules("hourly")}
    first = make_scheduler(marks=database.marks)
    first.reconcile([], rules)
    assert make_catch_up(first).record_downtime(past_of("hourly")) == []  # no heartbeat yet
    make_catch_up(first).mark_alive()

    db_clock.advance(timedelta(days=45))
    later = make_scheduler(marks=database.marks)
    later.reconcile([], rules)
    recorded = make_catch_up(later).record_downtime(past_of("hourly"))

    since = db_clock.now() - timedelta(days=30)  # the last 30 days only
    expected = hourly("hourly", since, db_clock.now() - timedelta(seconds=30))
    assert [r.planned_at for r in sorted(recorded, key=lambda r: r.planned_at)] == [
        o.at for o in expected
    ]


def monkey_rules(digest: str) -> dict[str, ScheduleRules]:
    return {"m": ScheduleRules(name="m", kind=RunKind.MONKEY, digest=digest)}


def kills(at: Sequence[datetime]) -> list[PlannedOccurrence]:
    return [PlannedOccurrence(schedule="m", kind=RunKind.MONKEY, at=a, seed=1) for a in at]


def test_a_monkey_changed_while_stopped_follows_its_new_spec(
    make_scheduler: Make, database: Database, db_clock: FixedClock
) -> None:
    now = db_clock.now()
    old = [now + timedelta(minutes=m) for m in (10, 20, 30)]
    new = [now + timedelta(minutes=m) for m in (15, 25)]
    make_scheduler(marks=database.marks).reconcile(kills(old), monkey_rules("v1"))

    # A new process, the spec changed meanwhile (another digest, other kill times).
    make_scheduler(marks=database.marks).reconcile(kills(new), monkey_rules("v2"))

    runs = database.runs.list_runs(schedule="m", limit=100)
    waiting = sorted(r.planned_at for r in runs if r.state is RunState.PLANNED)
    cancelled = [r for r in runs if r.state is RunState.SKIPPED]
    assert waiting == new
    assert sorted(r.planned_at for r in cancelled) == old  # history keeps the old plan
    assert all("its spec changed" in reasons(database, "m")[0][1] for _ in cancelled)


def test_an_unchanged_monkey_keeps_its_kills_across_a_restart(
    make_scheduler: Make, database: Database, db_clock: FixedClock
) -> None:
    now = db_clock.now()
    first = [now + timedelta(minutes=m) for m in (10, 20)]
    redrawn = [now + timedelta(minutes=m) for m in (12, 40)]
    make_scheduler(marks=database.marks).reconcile(kills(first), monkey_rules("v1"))
    make_scheduler(marks=database.marks).reconcile(kills(redrawn), monkey_rules("v1"))

    waiting = sorted(
        r.planned_at for r in database.runs.list_runs(schedule="m") if r.state is RunState.PLANNED
    )
    assert waiting == [*first, now + timedelta(minutes=40)]


def test_serve_records_what_it_missed_while_stopped(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    runbook = home.quick_runbook()
    url = f"sqlite:///{tmp_path / 'gameday.db'}"
    env = {"GAMEDAY_FIRE_TOLERANCE": "1"}
    first = Serve(home, url, env=env).start()
    try:
        first.wait_ready()
        first.wait_log("scheduler running")
    finally:
        first.signal(signal.SIGTERM)
        assert first.wait_exit() == 0
    database = Database.open(url, upgrade=False)
    try:
        last = database.marks.last_alive()
        assert last is not None
        at = last.replace(microsecond=0) + timedelta(seconds=1)
        (home.path / "schedules" / "missed.yaml").write_text(
            f'kind: gameday\nname: missed\nrunbook: {runbook}\nat: "{at.isoformat()}"\n'
        )
        # Start again once `at` and the tolerance have passed: the occurrence is in the gap.
        past = at + timedelta(seconds=2)
        wait_until("the occurrence to be past", lambda: datetime.now(UTC) > past)
        second = Serve(home, url, env=env).start()
        try:
            run = second.wait(
                "the missed occurrence to be recorded",
                lambda: next(
                    (r for r in database.runs.list_runs(schedule="missed") if is_final(r.state)),
                    None,
                ),
            )
        finally:
            second.stop()
        assert run.state is RunState.SKIPPED
        assert database.runs.events(run.id)[-1].payload["reason"] == MISSED_REASON
        assert not home.evidence("ran.txt").exists()
    finally:
        database.close()
