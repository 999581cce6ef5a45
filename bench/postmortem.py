"""How fast the HTML postmortem of a big run renders (`gameday journal export --format html`,
and `/runs/ID`).

A drill run with EVENTS events (by default 10,000: 2,400 activities started and finished,
their steady-state checks, 2,000 notes, alerts, acks, a resolve, rollbacks) and a Chaos
Toolkit journal of 1,200 activities is stored in a temporary SQLite database, beside nine
earlier runs of its runbook. Each repetition does what the command does after opening the
database: read the run (export_journal), build the document, read the trend, render the
HTML. Prints percentiles in milliseconds and the HTML's size; target p50 < 1 s. Markdown is
timed the same way.

    python -m bench postmortem [--events 10000] [--repeat 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench._stats import latency_ms
from gameday.adapters.db import Database
from gameday.adapters.postmortem.render import render
from gameday.domain import drills
from gameday.domain.clock import FixedClock
from gameday.domain.runs import NewRun, Run, RunKind, RunState
from gameday.services.journal_export import export_document, export_journal
from gameday.services.postmortem_trend import trend_of

TARGET_MS = 1000.0
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Tokyo")
RUNBOOK = "bookinfo-reviews-latency"


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench postmortem")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    return parser.parse_args(argv)


def _moves(db: Database, clock: FixedClock, run: Run, *, drill: bool) -> None:
    for state in (RunState.ANNOUNCED, RunState.AWAITING_APPROVAL):
        db.runs.transition(run.id, state, actor="planner", reason="announced")
    db.runs.record_approval(run.id, "U0APPROVER", _approve())
    db.runs.transition(run.id, RunState.APPROVED, actor="U0APPROVER", reason="quorum")
    clock.advance(timedelta(minutes=10))
    record = {"drill": drills.DrillSpec(responders=("S0ONCALL",)).to_json()} if drill else None
    db.runs.claim(run.id, actor="flow", payload=record)
    clock.advance(timedelta(seconds=1))
    db.runs.append_event(run.id, drills.FAULT_STARTED, actor="worker", payload={"activity": "a"})


def _approve() -> Any:
    from gameday.domain.runs import Decision

    return Decision.APPROVE


def _big_run(db: Database, clock: FixedClock, events: int) -> Run:
    run = db.runs.create(
        NewRun(RunKind.GAMEDAY, "reviews-latency", RUNBOOK, START), actor="planner", reason="plan"
    )
    _moves(db, clock, run, drill=True)
    written = len(db.runs.events(run.id))
    i = 0
    while written < events - 4:
        clock.advance(timedelta(milliseconds=250))
        name = f"probe-{i % 40}"
        phase = ("hypothesis_before", "method", "hypothesis_after")[i % 3]
        if i % 6 == 5:
            db.runs.add_note(run.id, author=f"U{i % 7}", text=f"action: look at <b>{name}</b> & co")
            written += 1
        elif i % 97 == 0:
            db.runs.append_event(
                run.id,
                drills.ALERT_FIRED,
                actor="alertmanager",
                payload={
                    "alertname": "HighLatency",
                    "labels": {"service": name},
                    "starts_at": clock.now().isoformat(),
                    "fingerprint": str(i),
                },
            )
            written += 1
        else:
            kind = "probe" if i % 2 else "action"
            db.runs.append_event(
                run.id,
                "activity_started",
                actor="worker",
                payload={"name": name, "type": kind, "phase": phase},
            )
            clock.advance(timedelta(milliseconds=100))
            db.runs.append_event(
                run.id,
                "activity_finished",
                actor="worker",
                payload={
                    "name": name,
                    "type": kind,
                    "phase": phase,
                    "status": "succeeded",
                    "duration": 0.1,
                    "output": {"status": 200 + i % 3},
                    "tolerance_met": i % 50 != 0,
                },
            )
            written += 2
        i += 1
    db.runs.append_event(run.id, drills.DRILL_ACKED, actor="U0SRE", payload={"by": "U0SRE"})
    db.runs.append_event(run.id, drills.DRILL_RESOLVED, actor="U0SRE", payload={"by": "U0SRE"})
    db.runs.append_event(run.id, "rollback_started", actor="worker")
    db.runs.store_journal(run.id, _journal(1200))
    db.runs.transition(run.id, RunState.DEVIATED, actor="worker", reason="deviated")
    return db.runs.get(run.id)


def _journal(activities: int) -> dict[str, Any]:
    def item(i: int, kind: str) -> dict[str, Any]:
        at = START + timedelta(minutes=10, seconds=i)
        return {
            "activity": {"type": kind, "name": f"probe-{i % 40}", "tolerance": 200},
            "status": "succeeded",
            "output": {"status": 200 + i % 3},
            "start": at.replace(tzinfo=None).isoformat(),
            "end": (at + timedelta(seconds=0.8)).replace(tzinfo=None).isoformat(),
            "duration": 0.8,
            "tolerance_met": i % 50 != 0,
        }

    third = activities // 3
    return {
        "chaoslib-version": "1.44.0",
        "experiment": {"title": "Reviews stay fast under latency", "method": []},
        "status": "completed",
        "deviated": True,
        "start": START.replace(tzinfo=None).isoformat(),
        "end": (START + timedelta(hours=1)).replace(tzinfo=None).isoformat(),
        "duration": 3600.0,
        "steady_states": {
            "before": {
                "steady_state_met": True,
                "probes": [item(i, "probe") for i in range(third)],
            },
            "after": {
                "steady_state_met": False,
                "probes": [item(i, "probe") for i in range(2 * third, activities)],
            },
            "during": [],
        },
        "run": [item(i, "action" if i % 2 else "probe") for i in range(third, 2 * third)],
        "rollbacks": [item(activities, "action")],
    }


def _earlier_runs(db: Database, clock: FixedClock, count: int) -> None:
    for n in range(count):
        run = db.runs.create(
            NewRun(
                RunKind.GAMEDAY, "reviews-latency", RUNBOOK, START - timedelta(days=7 * (n + 1))
            ),
            actor="planner",
            reason="plan",
        )
        _moves(db, clock, run, drill=True)
        clock.advance(timedelta(seconds=30 + n))
        db.runs.append_event(run.id, drills.DRILL_ACKED, actor="U0SRE", payload={"by": "U0SRE"})
        clock.advance(timedelta(seconds=60 + n))
        db.runs.transition(run.id, RunState.COMPLETED, actor="worker", reason="completed")


def _time(db: Database, run_id: int, fmt: str, repeat: int) -> tuple[list[float], int]:
    took, size = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        export = export_journal(db.runs, db.outbox, run_id)
        trend = trend_of(db.runs, export.journal.run, ZONE)
        text = render(export_document(export), fmt, ZONE, trend=trend)
        took.append(time.perf_counter() - began)
        size = len(text.encode())
    return took, size


def run(argv: list[str]) -> Iterable[dict[str, Any]]:
    """Store the runs, then time the postmortem in HTML and in Markdown."""
    args = _args(argv)
    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(START - timedelta(days=80))
        db = Database.open(f"sqlite:///{Path(folder) / 'bench.db'}", clock=clock)
        try:
            _earlier_runs(db, clock, 9)
            clock.advance(max(START - timedelta(minutes=30) - clock.now(), timedelta(0)))
            big = _big_run(db, clock, args.events)
            events = len(db.runs.events(big.id))
            render(export_document(export_journal(db.runs, db.outbox, big.id)), "html", ZONE)
            for fmt in ("html", "markdown"):
                took, size = _time(db, big.id, fmt, args.repeat)
                yield {
                    "format": fmt,
                    "events": events,
                    "repeat": args.repeat,
                    "bytes": size,
                    **latency_ms(took),
                    "target_ms": TARGET_MS,
                    "met": latency_ms(took)["p50_ms"] < TARGET_MS,
                }
        finally:
            db.close()
