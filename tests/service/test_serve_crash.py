"""`kill -9` of `gameday serve` during a GameDay: the worker does not carry on alone, it
interrupts the run with its rollbacks and ends it `interrupted`; the next start recovers
nothing twice, and tells the run's channel (the console here)."""

from __future__ import annotations

import signal
from collections.abc import Callable

from gameday.domain.runs import RunState
from tests.service.serving import Home, Serve, wait_until
from tests.service.test_serve import home, open_db, serve_db, serves

__all__ = ["home", "serve_db", "serves"]  # fixtures shared with test_serve


def test_kill_9_of_serve_during_a_gameday_interrupts_it_rolled_back_and_told(
    home: Home, serve_db: str, serves: Callable[..., Serve]
) -> None:
    slow = home.slow_runbook()
    first = serves(home, serve_db, args=["--live"])
    name = first.start_slow_gameday(slow)
    db = open_db(serve_db)
    try:
        (run,) = db.runs.list_runs(schedule=name)
        wait_until(
            "the action's start to be recorded",
            lambda: any(e.payload.get("name") == "hold" for e in db.runs.events(run.id)),
        )
        before = db.runs.events(run.id)

        first.signal(signal.SIGKILL)
        first.wait_exit()
        ended = wait_until(
            "the worker to end the run",
            lambda: (r := db.runs.get(run.id)).state is not RunState.RUNNING and r,
        )

        assert ended.state is RunState.INTERRUPTED
        assert slow.rolled.read_text(encoding="utf-8").splitlines() == ["ran"]
        assert not slow.release.exists()
        events = db.runs.events(run.id)
        assert events[: len(before)] == before  # nothing lost
        types = [e.type for e in events]
        assert types.index("supervisor_lost") < types.index("rollback_finished")
        assert "died" in events[-1].payload["reason"]

        second = serves(home, serve_db, args=["--live"])
        second.wait_ready()

        def told() -> bool:
            items = db.outbox.of_run(run.id)
            return any(
                "interrupted" in i.message.text and i.delivered_at is not None for i in items
            )

        second.wait("the interrupted message to be delivered", told)
        second.stop()
        assert second.process is not None
        assert second.process.stdout is not None
        printed = second.process.stdout.read()
        assert "finished: *interrupted*" in printed
        # Recovery found a final run: the rollbacks were not played again.
        assert db.runs.get(run.id).state is RunState.INTERRUPTED
        assert slow.rolled.read_text(encoding="utf-8").splitlines() == ["ran"]
        assert db.runs.events(run.id) == events
        assert db.runs.list_runs(schedule=name) == [db.runs.get(run.id)]
    finally:
        db.close()
