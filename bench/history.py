"""How fast `gameday history --limit 50` and `gameday journal show` answer on a big database.

Fills a throwaway PostgreSQL schema (and, with `--backend both|sqlite`, a temporary SQLite
file) with RUNS runs and EVENTS events, one run holding 1,000 of them, then times the
service calls behind the two commands. Prints p50/p99 in milliseconds; target < 50 ms.

    python -m bench history [--runs 100000] [--events 1000000] [--repeat 200]
                            [--backend postgresql|sqlite|both] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from gameday.adapters.db import Database
from gameday.adapters.db.engine import make_engine
from gameday.adapters.db.migrate import upgrade
from gameday.domain.runs import RunState
from gameday.services.history import history, journal_of
from gameday.wiring import settle_heap

DEFAULT_URL = os.environ.get(
    "GAMEDAY_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BIG_RUN_EVENTS = 1000
SCHEDULES = [f"schedule-{i:02d}" for i in range(40)]
STATES = [s.value for s in RunState]
START = datetime(2024, 1, 1, tzinfo=UTC)


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench history")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    return parser.parse_args(argv)


def _runs(count: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(7)
    for i in range(1, count + 1):
        planned = START + timedelta(minutes=15 * i)
        yield (
            i, "monkey" if i % 3 else "gameday", SCHEDULES[i % len(SCHEDULES)],
            None if i % 3 else "bookinfo-reviews-latency", planned, rng.choice(STATES),
            True, rng.getrandbits(62), None, "sha256:" + "ab" * 32, 0, planned, planned,
        )  # fmt: skip


def _events(runs: int, events: int, big_run: int) -> Iterator[tuple[Any, ...]]:
    # The big run gets BIG_RUN_EVENTS; the rest are spread evenly over the other runs.
    per_run, extra = divmod(events - BIG_RUN_EVENTS, runs - 1)
    for run_id in range(1, runs + 1):
        n = BIG_RUN_EVENTS if run_id == big_run else per_run + (1 if run_id <= extra else 0)
        at = START + timedelta(minutes=15 * run_id)
        for seq in range(1, n + 1):
            payload = json.dumps({"activity": f"probe-{seq}", "status": "succeeded"})
            yield run_id, seq, at + timedelta(seconds=seq), "activity_finished", "worker", payload


RUN_COLUMNS = (
    "id, kind, schedule, runbook, planned_at, state, dry_run, seed, requester, "
    "runbook_digest, last_seq, created_at, updated_at"
)
EVENT_COLUMNS = "run_id, seq, at, type, actor, payload"


def _fill_postgres(url: str, runs: int, events: int, big_run: int) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    options = make_url(url).query.get("options")
    with psycopg.connect(conninfo.split("?")[0], options=options) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY runs ({RUN_COLUMNS}) FROM STDIN") as copy:
            for row in _runs(runs):
                copy.write_row(row)
        with cur.copy(f"COPY run_events ({EVENT_COLUMNS}) FROM STDIN") as copy:
            for row in _events(runs, events, big_run):
                copy.write_row(row)
        cur.execute(
            "UPDATE runs SET last_seq = c.n FROM (SELECT run_id, max(seq) AS n FROM run_events"
            " GROUP BY run_id) AS c WHERE c.run_id = runs.id"
        )
        cur.execute("SELECT setval('runs_id_seq', %s)", (runs,))
        cur.execute("ANALYZE")


def _sqlite_time(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _fill_sqlite(path: Path, runs: int, events: int, big_run: int) -> None:
    # Column lists are constants of this module; values go through placeholders.
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 13)})",  # noqa: S608
            (
                (*r[:4], _sqlite_time(r[4]), *r[5:11], _sqlite_time(r[11]), _sqlite_time(r[12]))
                for r in _runs(runs)
            ),
        )
        conn.executemany(
            f"INSERT INTO run_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
            ((r[0], r[1], _sqlite_time(r[2]), *r[3:]) for r in _events(runs, events, big_run)),
        )
    conn.execute("ANALYZE")
    conn.close()


def _timed(name: str, call: Callable[[], object], repeat: int) -> dict[str, Any]:
    call()  # warm the pool and the caches once
    samples, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    samples.sort()
    cpu.sort()
    # CPU time of this process alone: comparable across runs on a busy machine, where
    # wall-clock percentiles mostly measure the other processes.
    return {
        "operation": name,
        "repeat": repeat,
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
        "max_ms": round(samples[-1], 3),
        "cpu_p50_ms": round(statistics.median(cpu), 3),
        "cpu_p99_ms": round(cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))], 3),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def _measure(db: Database, big_run: int, repeat: int) -> Iterator[dict[str, Any]]:
    assert len(journal_of(db.runs, big_run).events) == BIG_RUN_EVENTS
    assert len(history(db.runs, limit=50)) == 50
    yield _timed("history --limit 50", lambda: history(db.runs, limit=50), repeat)
    yield _timed(
        "history --schedule S --limit 50",
        lambda: history(db.runs, schedule=SCHEDULES[3], limit=50),
        repeat,
    )
    yield _timed(
        "history --state skipped --limit 50",
        lambda: history(db.runs, state=RunState.SKIPPED, limit=50),
        repeat,
    )
    yield _timed(
        f"journal show (run with {BIG_RUN_EVENTS} events)",
        lambda: journal_of(db.runs, big_run),
        repeat,
    )


def _fill_and_measure(
    backend: str, url: str, fill: Callable[[], None], args: argparse.Namespace, big_run: int
) -> Iterator[dict[str, Any]]:
    """Fill the migrated, empty database at `url` (timed), then time the operations on it."""
    t0 = time.perf_counter()
    fill()
    filled = time.perf_counter() - t0
    db = Database.open(url, upgrade=False)
    settle_heap()  # as gameday.wiring.database_for does for the CLI and the service
    try:
        for result in _measure(db, big_run, args.repeat):
            yield {"backend": backend, "runs": args.runs, "events": args.events,
                   "fill_s": round(filled, 1), **result}  # fmt: skip
    finally:
        db.close()


def _postgres(args: argparse.Namespace, big_run: int) -> Iterator[dict[str, Any]]:
    admin = make_engine(args.database_url, isolation_level="AUTOCOMMIT")
    schema = f"gameday_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(args.database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    try:
        upgrade(make_engine(url_text))
        fill = partial(_fill_postgres, url_text, args.runs, args.events, big_run)
        yield from _fill_and_measure("postgresql", url_text, fill, args, big_run)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def _sqlite(args: argparse.Namespace, big_run: int) -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="gameday-bench-") as folder:
        path = Path(folder) / "gameday.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        fill = partial(_fill_sqlite, path, args.runs, args.events, big_run)
        yield from _fill_and_measure("sqlite", url, fill, args, big_run)


def run(args: list[str]) -> Iterable[dict[str, Any]]:
    """Fill, time, clean up; one result per backend and operation."""
    parsed = _args(args)
    big_run = parsed.runs // 2
    if parsed.backend in ("postgresql", "both"):
        yield from _postgres(parsed, big_run)
    if parsed.backend in ("sqlite", "both"):
        yield from _sqlite(parsed, big_run)
