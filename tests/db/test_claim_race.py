"""Two racers can never both start the same run: threads on both databases, processes on
PostgreSQL (separate interpreters, separate connection pools)."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from gameday.adapters.db import Database
from gameday.adapters.db.engine import make_engine
from gameday.adapters.db.runs import SqlRunRepository
from gameday.domain.errors import IllegalTransition
from gameday.domain.runs import RunState
from tests.db.factories import make_run

RUNS = 50


def _approved_runs(database: Database) -> list[int]:
    return [make_run(database.runs, RunState.APPROVED).id for _ in range(RUNS)]


def _assert_each_claimed_once(database: Database, ids: list[int], wins: list[list[int]]) -> None:
    counts = Counter(run_id for won in wins for run_id in won)
    assert sorted(counts) == sorted(ids)
    assert set(counts.values()) == {1}
    for run_id in ids:
        assert database.runs.get(run_id).state is RunState.RUNNING
        starts = [e for e in database.runs.events(run_id) if e.payload.get("to") == "running"]
        assert len(starts) == 1


def test_threads_racing_claim_each_run_once(database: Database) -> None:
    ids = _approved_runs(database)
    barrier = threading.Barrier(2)

    def racer(name: str, order: list[int]) -> list[int]:
        barrier.wait()
        return [run_id for run_id in order if database.runs.claim(run_id, actor=name)]

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(racer, "racer-1", ids)
        second = pool.submit(racer, "racer-2", ids[::-1])
        wins = [first.result(), second.result()]

    _assert_each_claimed_once(database, ids, wins)


def test_racing_transitions_let_exactly_one_decide(database: Database) -> None:
    run = make_run(database.runs, RunState.AWAITING_APPROVAL)
    barrier = threading.Barrier(2)

    def decide(to: RunState) -> str:
        barrier.wait()
        try:
            database.runs.transition(run.id, to, actor=f"U-{to.value}", reason="clicked")
        except IllegalTransition as exc:
            return str(exc)
        return "won"

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(decide, [RunState.APPROVED, RunState.REJECTED]))

    assert outcomes.count("won") == 1
    final = database.runs.get(run.id).state
    assert final in (RunState.APPROVED, RunState.REJECTED)
    changes = [e for e in database.runs.events(run.id) if e.type == "state_changed"]
    assert changes[-1].payload["to"] == final.value
    assert [e.payload["from"] for e in changes].count("awaiting_approval") == 1


def _process_racer(url: str, name: str, ids: list[int], start: Any, results: Any) -> None:
    engine = make_engine(url)
    runs = SqlRunRepository(engine)
    start.wait(timeout=60)  # a barrier: both interpreters are up before either claims
    won = [run_id for run_id in ids if runs.claim(run_id, actor=name)]
    engine.dispose()
    results.put((name, won))


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_processes_racing_claim_each_run_once(database: Database, db_url: str) -> None:
    ids = _approved_runs(database)
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(2), ctx.Queue()
    racers = [
        ctx.Process(target=_process_racer, args=(db_url, f"proc-{i}", order, start, results))
        for i, order in enumerate([ids, ids[::-1]])
    ]
    for racer in racers:
        racer.start()
    wins = [results.get(timeout=60)[1] for _ in racers]
    for racer in racers:
        racer.join(timeout=30)
        assert racer.exitcode == 0

    _assert_each_claimed_once(database, ids, wins)


def test_two_planners_racing_create_one_occurrence(database: Database) -> None:
    from tests.db.factories import new_run

    spec = new_run()
    barrier = threading.Barrier(2)

    def plan(name: str) -> int:
        barrier.wait()
        return database.runs.create(spec, actor=name, reason="planned").id

    with ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(plan, ["leader-a", "leader-b"]))

    assert ids[0] == ids[1]
    assert len(database.runs.list_runs()) == 1
    assert [e.type for e in database.runs.events(ids[0])] == ["created"]
