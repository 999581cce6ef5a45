"""Two `gameday serve` replicas on one PostgreSQL database: the leader is killed with
SIGKILL half-way through a series of occurrences; the follower takes over and every
occurrence runs exactly once."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday.adapters.db import Database
from gameday.domain.runs import RunState
from tests.service.serving import Home, Serve, soon, wait_until

OCCURRENCES = 10
FINAL = {
    RunState.COMPLETED,
    RunState.DEVIATED,
    RunState.FAILED,
    RunState.ABORTED,
    RunState.INTERRUPTED,
}


@pytest.fixture
def pg_url(postgres_schemas: object) -> Iterator[str]:
    name, url = postgres_schemas.create()  # type: ignore[attr-defined]
    yield url
    postgres_schemas.drop(name)  # type: ignore[attr-defined]


def test_the_follower_takes_over_and_every_occurrence_runs_exactly_once(
    tmp_path: Path, pg_url: str
) -> None:
    home = Home(tmp_path / "home")
    runbook = home.quick_runbook()
    leader = Serve(home, pg_url, args=["--live"]).start()
    follower: Serve | None = None
    try:
        leader.wait_log("elected leader")
        follower = Serve(home, pg_url, args=["--live"]).start()
        follower.wait_ready()
        assert not any("elected leader" in e["event"] for e in follower.logs)
        # Planned once both are up (a reload on each), so a slow start cannot make it late.
        names = home.gamedays(runbook, soon(3, count=OCCURRENCES, every=1.5))
        for replica in (leader, follower):
            replica.signal(signal.SIGHUP)
        leader.wait_log("reloaded specs")
        follower.wait_log("reloaded specs")

        db = Database.open(pg_url, upgrade=False)
        try:

            def started() -> int:
                return sum(
                    1
                    for r in db.runs.list_runs(limit=100)
                    if r.state not in (RunState.PLANNED, RunState.APPROVED)
                )

            wait_until("half the occurrences to start", lambda: started() >= OCCURRENCES // 2)
            leader.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            leader.wait_exit()
            follower.wait_log("elected leader", limit=15)

            def all_final() -> bool:
                runs = db.runs.list_runs(limit=100)
                return len(runs) == OCCURRENCES and all(r.state in FINAL for r in runs)

            wait_until("every occurrence to end", all_final, limit=60)
            runs = db.runs.list_runs(limit=100)
            assert sorted(r.schedule for r in runs) == sorted(names)
            for run in runs:
                events = db.runs.events(run.id)
                running = [
                    e
                    for e in events
                    if e.type == "state_changed" and e.payload.get("to") == RunState.RUNNING.value
                ]
                assert len(running) == 1, (run.schedule, [e.type for e in events])
                assert sum(1 for e in events if e.type == "worker_started") <= 1
            ran = home.evidence("ran.txt").read_text(encoding="utf-8").splitlines()
            completed = [r for r in runs if r.state is RunState.COMPLETED]
            assert len(ran) == len(completed)
            assert len(completed) >= OCCURRENCES - 1
        finally:
            db.close()
    finally:
        leader.stop()
        if follower is not None:
            follower.stop()
