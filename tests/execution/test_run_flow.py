"""The run flow on real worker processes: no worker ever runs unsupervised (a failed watch
releases it, and it interrupts its own run with rollbacks), the safer mode wins at the
worker too, and events survive a database that refuses writes for a while."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from gameday.adapters.chaostoolkit.events import EventWriter
from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
from gameday.domain import execution as ex
from gameday.domain.runs import RunEvent, RunState
from gameday.services.briefs import CatalogBriefs
from gameday.services.catalog import Catalog
from gameday.services.run_flow import FlowOptions, RunFlow
from gameday.services.run_updates import RecordedBriefs, RunUpdates
from tests.execution.conftest import Gameday, experiment, python_activity
from tests.execution.test_halt_and_recovery import blocking_runbook


def flow_for(gameday: Gameday, *, live: bool = True, workers: Any = None) -> RunFlow:
    briefs = CatalogBriefs(Catalog, default_channel="#gameday")
    return RunFlow(
        runs=gameday.runs,
        control=gameday.database.control,
        workers=workers or gameday.workers,
        clock=gameday.clock,
        options=FlowOptions(live=live, actor="test:flow", stop_grace=timedelta(seconds=10)),
        timeout_of=lambda _run: timedelta(minutes=2),
        outbox=gameday.database.outbox,
        updates=RunUpdates(
            RecordedBriefs(gameday.runs, fallback=briefs, default_channel="#gameday")
        ),
    )


def test_a_watch_that_fails_releases_the_worker_which_rolls_back_and_ends_interrupted(
    gameday: Gameday,
) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.plan("slow")

    def broken_consumer(event: RunEvent) -> None:
        # A bug in whatever follows the run (a progress display, say).
        if event.type == ex.ACTIVITY_STARTED:
            raise RuntimeError("the progress display broke")

    ended = flow_for(gameday).carry(run, on_event=broken_consumer)

    assert ended.state is RunState.INTERRUPTED
    assert gameday.file("undone").read_text() == "ran\n"  # the rollback played
    assert not gameday.file("next").exists()
    types = gameday.types(run.id)
    assert types.index(ex.WATCH_FAILED) < types.index(ex.SUPERVISOR_LOST)
    failed = next(e for e in gameday.events(run.id) if e.type == ex.WATCH_FAILED)
    assert failed.payload["error"] == "RuntimeError: the progress display broke"
    end = gameday.events(run.id)[-1]
    assert (
        "could no longer watch the run (RuntimeError: the progress display broke)"
        in (end.payload["reason"])
    )


def test_a_run_planned_live_runs_dry_under_a_worker_whose_service_is_not_live(
    gameday: Gameday, tmp_path: Any, db_url: str
) -> None:
    doc = experiment(
        method=[python_activity("action", "mark", "touch", path=str(gameday.file("ran")))]
    )
    gameday.write_runbook("mark", doc)
    run = gameday.plan("mark", dry_run=False)
    dry_workers = ProcessWorkers(
        home=gameday.home,
        database_url=db_url,
        live=False,
        env=os.environ,
        log_dir=tmp_path / "logs",
    )
    # The flow believes it is live; the worker's own service is not: the safer wins there.
    ended = flow_for(gameday, live=True, workers=dry_workers).carry(run)

    assert ended.state is RunState.COMPLETED
    assert not gameday.file("ran").exists()
    started = next(e for e in gameday.events(run.id) if e.type == ex.WORKER_STARTED)
    assert started.payload["dry_run"] is True


def test_the_flow_tells_the_thread_of_a_halt_a_deviation_and_the_outcome(
    gameday: Gameday,
) -> None:
    doc = experiment(
        probes=[
            python_activity("probe", "file is there", "exists", tolerance=True,
                            path=str(gameday.file("present")))
        ],
        method=[python_activity("action", "remove it", "remove",
                                path=str(gameday.file("present")))],
    )  # fmt: skip
    gameday.file("present").touch()
    gameday.write_runbook("deviate", doc)
    run = gameday.plan("deviate")

    ended = flow_for(gameday).carry(run)

    assert ended.state is RunState.DEVIATED
    texts = [i.message.text for i in gameday.database.outbox.due(now=gameday.clock.now())]
    assert any("started (live)" in t for t in texts)
    assert any("deviated: the steady state was not met" in t for t in texts)
    assert "finished: *deviated*" in texts[-1]


Append = Callable[[str, Any], object]


@pytest.mark.parametrize("failures", [1, 5])
def test_events_that_cannot_be_written_wait_and_keep_their_order(failures: int) -> None:
    written: list[str] = []
    left = [failures]

    def append(type_: str, payload: Any) -> None:
        if left[0] > 0:  # the database refuses writes for a while
            left[0] -= 1
            raise ConnectionError("database unavailable")
        written.append(type_)

    writer = EventWriter(append, give_up_after=30.0)
    for name in ("first", "second", "third"):
        writer.put(name, {})
    writer.close()

    assert written == ["first", "second", "third"]


def test_an_event_never_written_is_logged_in_full(caplog: pytest.LogCaptureFixture) -> None:
    def append(type_: str, payload: Any) -> None:
        raise ConnectionError("database gone")

    writer = EventWriter(append, give_up_after=0.0)
    writer.put("rollback_finished", {"statuses": ["succeeded"]})
    writer.close()

    assert any(
        "rollback_finished could not be recorded" in r.getMessage()
        and "succeeded" in r.getMessage()
        for r in caplog.records
    )
