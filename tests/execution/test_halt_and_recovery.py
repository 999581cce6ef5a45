"""The kill switch, the time limit and crash recovery, on real worker processes."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from typing import Any

from gameday.domain.clock import FixedClock
from gameday.domain.execution import worker_of
from gameday.domain.runs import RunEvent, RunKind, RunState
from gameday.services import execution, halting, recovery
from tests.db.factories import make_run
from tests.execution.conftest import Gameday, experiment, python_activity
from tests.support import run_gameday


def undo(gameday: Gameday) -> dict[str, Any]:
    """A rollback that leaves the file `undone` as evidence."""
    return python_activity("action", "undo", "touch", path=str(gameday.file("undone")))


def slow_undo(gameday: Gameday, release: str) -> dict[str, Any]:
    """A rollback that writes `rollback-started`, then blocks until the file `release` exists."""
    return python_activity(
        "action",
        "slow undo",
        "block_until",
        started=str(gameday.file("rollback-started")),
        release=str(gameday.file(release)),
    )


def blocking_runbook(gameday: Gameday, *, rollback_blocks: bool = False) -> dict[str, Any]:
    """Steady state, then an action that runs until released; rollbacks leave evidence."""
    rollbacks = [undo(gameday)]
    if rollback_blocks:
        rollbacks.insert(0, slow_undo(gameday, "never"))
    return experiment(
        probes=[python_activity("probe", "answer", "value", tolerance=1, value=1)],
        method=[
            python_activity(
                "action",
                "inject fault",
                "block_until",
                started=str(gameday.file("started")),
                release=str(gameday.file("release")),
            ),
            python_activity("action", "after the fault", "touch", path=str(gameday.file("next"))),
        ],
        rollbacks=rollbacks,
    )


def halt(gameday: Gameday, **kwargs: Any) -> list[halting.HaltResult]:
    return halting.halt_running(
        gameday.runs, gameday.workers, actor="test:sre", reason="kill switch", **kwargs
    )


def test_events_stream_while_an_action_runs(gameday: Gameday) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.start("slow")
    gameday.wait_for_file(gameday.file("started"))

    # The action is still running, and its start is recorded already (events are written
    # by the worker as they happen, a moment after the provider began).
    def recorded() -> list[RunEvent]:
        return [e for e in gameday.events(run.id) if e.payload.get("name") == "inject fault"]

    deadline = time.monotonic() + 10
    while not recorded():
        assert time.monotonic() < deadline, "the action's start was never recorded"
        time.sleep(0.01)
    assert [e.type for e in recorded()] == ["activity_started"]
    assert gameday.events(run.id)[-1].type == "activity_started"
    assert gameday.runs.get(run.id).state is RunState.RUNNING

    gameday.file("release").touch()
    ended = gameday.watch(run.id)
    assert ended.state is RunState.COMPLETED
    assert gameday.file("next").exists()


def test_halt_during_an_action_rolls_back_and_aborts_within_5_seconds(gameday: Gameday) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.start("slow")
    gameday.wait_for_file(gameday.file("started"))

    began = time.monotonic()
    results = halt(gameday)
    elapsed = time.monotonic() - began

    assert elapsed <= 5.0  # the kill switch's promise
    assert [(r.run_id, r.action, r.state) for r in results] == [
        (run.id, "signalled", RunState.ABORTED)
    ]
    assert gameday.file("undone").read_text() == "ran\n"
    assert not gameday.file("next").exists()
    types = gameday.types(run.id)
    assert types.index("halt_requested") < types.index("interrupted")
    assert types.index("interrupted") < types.index("rollback_finished")
    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]


def test_a_second_halt_hard_stops_and_the_run_is_still_recorded(gameday: Gameday) -> None:
    gameday.write_runbook("stuck", blocking_runbook(gameday, rollback_blocks=True))
    run = gameday.start("stuck")
    gameday.wait_for_file(gameday.file("started"))

    first = halt(gameday, wait=timedelta(0))
    gameday.wait_for_file(gameday.file("rollback-started"))
    second = halt(gameday)

    assert [r.action for r in first] == ["signalled"]
    assert [r.action for r in second] == ["hard_stopped"]
    assert second[0].state is RunState.ABORTED
    types = gameday.types(run.id)
    assert types.count("halt_requested") == 2
    assert "hard_stopped" in types
    assert gameday.runs.get(run.id).state is RunState.ABORTED


def test_a_halt_during_the_rollbacks_lets_them_finish(gameday: Gameday) -> None:
    doc = experiment(
        method=[undo(gameday)],
        rollbacks=[slow_undo(gameday, "rollback-release"), undo(gameday)],
    )
    gameday.write_runbook("quick", doc)
    run = gameday.start("quick")
    gameday.wait_for_file(gameday.file("rollback-started"))

    halted = halt(gameday, wait=timedelta(0))
    gameday.file("rollback-release").touch()
    ended = gameday.watch(run.id)

    assert [r.action for r in halted] == ["signalled"]
    assert ended.state is RunState.COMPLETED  # nothing was left to interrupt
    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded", "succeeded"]
    assert gameday.file("undone").read_text() == "ran\nran\n"


def test_the_time_limit_halts_the_run(gameday: Gameday) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.start("slow")
    clock = FixedClock()

    def time_flies(event: RunEvent) -> None:
        # The clock jumps past the limit as soon as the fault is being injected.
        if event.type == "activity_started" and event.payload["name"] == "inject fault":
            clock.advance(timedelta(minutes=31))

    ended = gameday.watch(run.id, timeout=timedelta(minutes=30), clock=clock, on_event=time_flies)

    assert ended.state is RunState.ABORTED
    assert gameday.file("undone").read_text() == "ran\n"
    timed_out = next(e for e in gameday.events(run.id) if e.type == "timed_out")
    assert timed_out.payload == {"timeout_seconds": 1800.0}


def test_the_kill_switch_halts_a_watched_run(gameday: Gameday) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.start("slow")

    def engage(event: RunEvent) -> None:
        if event.type == "activity_started" and event.payload["name"] == "inject fault":
            gameday.database.control.engage_kill_switch(actor="test:sre", reason="incident")

    ended = execution.watch_run(
        gameday.runs,
        gameday.workers,
        gameday.clock,
        run.id,
        timeout=timedelta(minutes=5),
        actor="test:supervisor",
        control=gameday.database.control,
        on_event=engage,
    )

    assert ended.state is RunState.ABORTED
    assert gameday.file("undone").read_text() == "ran\n"
    halted = next(e for e in gameday.events(run.id) if e.type == "halt_requested")
    assert halted.payload["reason"] == "kill switch engaged: incident"


def test_kill_9_then_recovery_rolls_back_once_and_keeps_every_event(gameday: Gameday) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.start("slow")
    gameday.wait_for_file(gameday.file("started"))
    before = gameday.events(run.id)
    worker = worker_of(before)
    assert worker is not None
    os.kill(worker.pid, signal.SIGKILL)
    gameday.workers.wait_gone([(worker, run.id)], timedelta(seconds=10))
    assert gameday.workers.is_alive(worker, run.id) is False
    written = gameday.events(run.id)

    results = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service")
    again = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service")

    assert [(r.run_id, r.rollbacks_played, r.exit_code, r.state) for r in results] == [
        (run.id, True, 0, RunState.INTERRUPTED)
    ]
    assert again == []
    assert gameday.file("undone").read_text() == "ran\n"
    after = gameday.events(run.id)
    assert after[: len(written)] == written
    types = [e.type for e in after[len(written) :]]
    assert types[0] == "recovery_started"
    assert types.index("rollback_finished") < types.index("recovery_finished")
    assert types[-1] == "state_changed"
    assert "died" in after[-1].payload["reason"]
    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert journal["status"] == "interrupted"


def test_recovery_does_not_replay_rollbacks_the_worker_already_played(gameday: Gameday) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.plan("slow")
    assert gameday.runs.claim(run.id, actor="test")
    # A worker that finished the experiment (rollbacks included) and died before it
    # could record the final state; pid 2**22 + 1 is above Linux's pid_max default.
    gone = {"host": gameday.workers.host, "pid": 4194305}
    gameday.runs.append_event(run.id, "worker_started", actor="worker", payload=gone)
    gameday.runs.append_event(run.id, "finished", actor="worker", payload={"status": "completed"})

    results = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service")

    assert [(r.rollbacks_played, r.state) for r in results] == [(False, RunState.INTERRUPTED)]
    assert not gameday.file("undone").exists()
    assert "recovery_started" not in gameday.types(run.id)


def test_recovery_leaves_live_workers_alone(gameday: Gameday) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.start("slow")
    gameday.wait_for_file(gameday.file("started"))

    results = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service")

    assert results == []
    gameday.file("release").touch()
    assert gameday.watch(run.id).state is RunState.COMPLETED


def test_a_worker_on_another_host_is_left_to_its_own_supervisor(gameday: Gameday) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.plan("slow")
    assert gameday.runs.claim(run.id, actor="test")
    elsewhere = {"host": "another-replica", "pid": os.getpid()}
    gameday.runs.append_event(run.id, "worker_started", actor="worker", payload=elsewhere)

    halted = halt(gameday, wait=timedelta(0))
    recovered = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service")

    assert [(r.action, r.state) for r in halted] == [("elsewhere", RunState.RUNNING)]
    assert recovered == []
    assert gameday.types(run.id)[-1] == "halt_requested"


def test_gameday_halt_command_halts_running_runs_with_rollbacks(
    gameday: Gameday, db_url: str
) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.start("slow")
    gameday.wait_for_file(gameday.file("started"))

    done = run_gameday(
        "--home",
        gameday.home,
        "halt",
        "--reason",
        "drill",
        env={"GAMEDAY_DATABASE_URL": db_url},
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "kill switch engaged: drill" in done.stdout
    assert f"run {run.id}: signalled, now aborted" in done.stdout
    assert gameday.runs.get(run.id).state is RunState.ABORTED
    assert gameday.file("undone").read_text() == "ran\n"
    assert gameday.database.control.kill_switch() == (True, "drill")


def test_recovery_ends_an_orphaned_monkey_kill_without_rollbacks(gameday: Gameday) -> None:
    run = make_run(gameday.runs, RunState.RUNNING, kind=RunKind.MONKEY, runbook=None)

    results = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:recovery")

    assert [(r.run_id, r.rollbacks_played, r.state) for r in results] == [
        (run.id, False, RunState.INTERRUPTED)
    ]
    assert gameday.runs.get(run.id).state is RunState.INTERRUPTED
    types = gameday.types(run.id)
    assert "recovery_started" not in types
    assert "terminations have no rollback" in gameday.events(run.id)[-1].payload["reason"]
