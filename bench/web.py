"""How fast the overview page `/` answers on a big installation.

1,000 schedules (900 GameDays in four zones, 100 monkeys) and 100,000 runs: the past ones
ended in every state, plus the rows `gameday serve` keeps for the next 48 hours (planned,
announced, approved, a few rejected ahead). The real app (Flask under waitress, 8 threads)
serves from a child process over a throwaway PostgreSQL schema (or a SQLite file); 500
requests at concurrency 8 after a warm-up. Prints latency percentiles; target p99 < 150 ms.
The overview's render is kept 2 s as in `gameday serve` (gameday/web/freshness.py);
`--overview-ttl 0` renders it on every request, to see what one render costs.

    python -m bench web [--schedules 1000] [--runs 100000] [--requests 500]
                        [--concurrency 8] [--backend postgresql|sqlite]
                        [--database-url URL] [--path /] [--overview-ttl 2]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import multiprocessing
import os
import random
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from sqlalchemy.engine import make_url

from bench._stats import percentile
from bench.history import RUN_COLUMNS
from gameday import wiring
from gameday.adapters.db.engine import make_engine
from gameday.adapters.db.migrate import upgrade
from gameday.domain.runs import RunState

DEFAULT_URL = os.environ.get(
    "GAMEDAY_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGET_P99_MS = 150.0
ZONES = ("Europe/Berlin", "Asia/Tokyo", "America/New_York", "UTC")
DAYS = ("mon", "tue", "wed", "thu", "fri")
ENDED = [
    RunState.COMPLETED, RunState.DEVIATED, RunState.FAILED, RunState.ABORTED,
    RunState.INTERRUPTED, RunState.SKIPPED, RunState.REJECTED, RunState.EXPIRED,
]  # fmt: skip
RUNBOOK = """\
title: Nothing happens
description: Only checks a steady state.
steady-state-hypothesis:
  title: Always fine
  probes:
    - type: probe
      name: ok
      tolerance: 0
      provider: {type: process, path: "true"}
method: []
"""


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench web")
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--path", default="/")
    parser.add_argument(
        "--overview-ttl",
        type=float,
        default=2.0,
        help="seconds the overview's render is kept (0: render every request)",
    )
    return parser.parse_args(argv)


def _home(folder: Path, schedules: int) -> tuple[list[str], list[str]]:
    """A home with `schedules` schedules (one in ten a monkey); (GameDays, monkeys)."""
    (folder / "runbooks").mkdir(parents=True)
    (folder / "schedules").mkdir()
    (folder / "runbooks" / "noop.yaml").write_text(RUNBOOK)
    docs = [
        f"kind: window\nname: w{i}\ntimezone: {zone}\nweekdays: [mon, tue, wed, thu, fri]\n"
        f'hours: "09:00-17:00"\n'
        for i, zone in enumerate(ZONES)
    ]
    gamedays, monkeys = [], []
    for i in range(schedules):
        window = f"w{i % len(ZONES)}"
        if i % 10 == 0:
            monkeys.append(f"monkey-{i:04d}")
            docs.append(
                f"kind: monkey\nname: {monkeys[-1]}\nwindow: {window}\n"
                f"targets: {{namespaces: [team-{i % 40}]}}\n"
            )
            continue
        gamedays.append(f"gameday-{i:04d}")
        approval = (
            "approval: {approvers: {users: [UALICE, UBOB], usergroups: [SOPS]}, quorum: 2}\n"
            if i % 3 == 0
            else ""
        )
        docs.append(
            f"kind: gameday\nname: {gamedays[-1]}\nrunbook: runbooks/noop.yaml\n"
            f'cron: "{i % 60} {9 + i % 7} * * {DAYS[i % 5]}"\nwindow: {window}\n{approval}'
        )
    (folder / "schedules" / "all.yaml").write_text("---\n".join(docs))
    return gamedays, monkeys


def _rows(
    count: int, home: Path, gamedays: list[str], monkeys: list[str]
) -> Iterator[tuple[Any, ...]]:
    """`count` runs: the waiting rows of the next 48 hours (from the real plan), the rest
    in the past, newest first, in every ended state."""
    from gameday.services.planning import expand

    catalog = wiring.load_catalog(home).require_valid()
    now = datetime.now(UTC)
    ahead = expand(catalog.windows, catalog.gamedays.values(), (), start=now, days=2, seed=1)
    rng = random.Random(11)
    run_id = 0
    for occurrence in ahead.occurrences:
        run_id += 1
        state = rng.choice(["planned", "announced", "approved", "approved", "rejected"])
        if occurrence.status == "skipped":
            state = "skipped"
        yield (
            run_id, "gameday", occurrence.schedule, "runbooks/noop.yaml", occurrence.at, state,
            True, rng.getrandbits(62), None, "sha256:" + "ab" * 32, 0, now, now,
        )  # fmt: skip
    names = gamedays + monkeys
    for i in range(count - run_id):
        run_id += 1
        schedule = names[i % len(names)]
        kind = "monkey" if schedule.startswith("monkey") else "gameday"
        planned = now - timedelta(minutes=7 * (i + 1))
        yield (
            run_id, kind, schedule, None if kind == "monkey" else "runbooks/noop.yaml",
            planned, rng.choice(ENDED).value, True, rng.getrandbits(62), None,
            "sha256:" + "ab" * 32, 0, planned, planned,
        )  # fmt: skip


def _fill_postgres(url: str, rows: Iterable[tuple[Any, ...]]) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    options = make_url(url).query.get("options")
    with psycopg.connect(conninfo.split("?")[0], options=options) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY runs ({RUN_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute("SELECT setval('runs_id_seq', (SELECT max(id) FROM runs))")
        cur.execute("ANALYZE")


def _sqlite_time(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _fill_sqlite(path: Path, rows: Iterable[tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 13)})",  # noqa: S608
            (
                (*r[:4], _sqlite_time(r[4]), *r[5:11], _sqlite_time(r[11]), _sqlite_time(r[12]))
                for r in rows
            ),
        )
    conn.execute("ANALYZE")
    conn.close()


def _server_main(url: str, home: str, threads: int, ttl: float, conn: Connection) -> None:
    """Child process: serve the app until told to stop (keeps the GIL away from the client)."""
    from gameday.adapters.db import Database
    from gameday.adapters.observability.health import Health
    from gameday.adapters.observability.metrics import Metrics
    from gameday.domain.clock import SystemClock
    from gameday.services.live_catalog import LiveCatalog
    from gameday.services.overview import Sources
    from gameday.web.app import Site, create_app
    from gameday.web.server import HttpServer

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    live = LiveCatalog()
    live.replace(wiring.load_catalog(Path(home)).require_valid(), ())
    database = Database.open(url, upgrade=False)
    wiring.settle_heap()  # as database_for does for serve
    sources = Sources(database.runs, database.control, database.outbox, live, SystemClock())
    site = Site.of(sources, overview_ttl=timedelta(seconds=ttl))
    app = create_app(Health(mode="bench"), Metrics().exposition, site=site)
    server = HttpServer(app, host="127.0.0.1", port=0, threads=threads)
    conn.send(server.url)
    conn.recv()
    server.stop()
    database.close()


@contextmanager
def _served(url: str, home: Path, threads: int, ttl: float) -> Iterator[str]:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_server_main, args=(url, str(home), threads, ttl, child))
    process.start()
    try:
        if not parent.poll(120):
            raise RuntimeError("the web server did not start")
        yield str(parent.recv())
    finally:
        parent.send("stop")
        process.join(15)
        if process.is_alive():
            process.terminate()


def _measure(
    base: str, path: str, total: int, concurrency: int
) -> tuple[list[float], float, int, int]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    local = threading.local()

    def one(_: int) -> tuple[float, int, int]:
        # One keep-alive connection per client thread: the lightest client there is.
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, port, timeout=60)
        start = time.perf_counter()
        conn.request("GET", path, headers={"Accept": "text/html"})
        response = conn.getresponse()
        size = len(response.read())
        return time.perf_counter() - start, response.status, size

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(concurrency * 4)))  # warm up: the plan, the pool, the caches
        started = time.perf_counter()
        results = list(pool.map(one, range(total)))
        elapsed = time.perf_counter() - started
    errors = sum(1 for _, status, _ in results if status != 200)
    return [r[0] for r in results], elapsed, errors, results[-1][2]


@contextmanager
def _database(opts: argparse.Namespace, folder: Path) -> Iterator[tuple[str, Any]]:
    """A migrated, empty database URL and the function that fills it."""
    if opts.backend == "sqlite":
        path = folder / "gameday.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url, lambda rows: _fill_sqlite(path, rows)
        return
    admin = make_engine(opts.database_url, isolation_level="AUTOCOMMIT")
    schema = f"gameday_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(opts.database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    text = url.render_as_string(hide_password=False)
    try:
        engine = make_engine(text)
        upgrade(engine)
        engine.dispose()
        yield text, lambda rows: _fill_postgres(text, rows)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def run(args: list[str]) -> Iterable[dict[str, Any]]:
    """Fill, serve, time `/`; one result."""
    opts = _args(args)
    with tempfile.TemporaryDirectory(prefix="gameday-bench-web-") as tmp:
        folder = Path(tmp)
        home = folder / "home"
        gamedays, monkeys = _home(home, opts.schedules)
        with _database(opts, folder) as (url, fill):
            t0 = time.perf_counter()
            fill(_rows(opts.runs, home, gamedays, monkeys))
            filled = time.perf_counter() - t0
            with _served(url, home, opts.threads, opts.overview_ttl) as base:
                latencies, elapsed, errors, size = _measure(
                    base, opts.path, opts.requests, opts.concurrency
                )
    p99 = percentile(latencies, 0.99) * 1000
    yield {
        "path": opts.path,
        "backend": opts.backend,
        "schedules": opts.schedules,
        "runs": opts.runs,
        "fill_s": round(filled, 1),
        "requests": len(latencies),
        "concurrency": opts.concurrency,
        "server_threads": opts.threads,
        "overview_ttl_s": opts.overview_ttl,
        "errors": errors,
        "page_bytes": size,
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p90_ms": round(percentile(latencies, 0.90) * 1000, 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": p99 < TARGET_P99_MS and errors == 0,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
