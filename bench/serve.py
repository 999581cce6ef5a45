"""`gameday serve` as a deployed service: scheduler lag, idle memory, start-up time, and
CLI start-up next to `chaos --help`.

    python -m bench serve [--occurrences 20] [--every 0.5] [--schedules 100] [--repeat 5]

Each result is one JSON line: scheduler lag p50/p99 (planned instant to the run's claim,
target p99 < 1 s), idle RSS with SCHEDULES schedules after a restart (target < 100 MB;
the first start, which also migrates the database, is printed beside it), start-up to
ready (target < 3 s), and `gameday --help` / `chaos --help` wall time (median of REPEAT).
Runs on a temporary SQLite home in dry run; nothing touches a cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._stats import percentile

RUNBOOK = {
    "version": "1.0.0",
    "title": "a probe that always holds",
    "description": "benchmark runbook",
    "steady-state-hypothesis": {
        "title": "fine",
        "probes": [
            {
                "type": "probe",
                "name": "ok",
                "tolerance": 0,
                "provider": {"type": "process", "path": "true"},
            }
        ],
    },
    "method": [],
}


WAITING = ("planned", "announced", "awaiting_approval", "approved")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _home(root: Path, schedules: list[str]) -> Path:
    (root / "runbooks").mkdir(parents=True)
    (root / "schedules").mkdir()
    (root / "runbooks" / "probe.json").write_text(json.dumps(RUNBOOK), encoding="utf-8")
    (root / "schedules" / "bench.yaml").write_text("---\n".join(schedules), encoding="utf-8")
    return root


def _gameday(name: str, when: str) -> str:
    return f"kind: gameday\nname: {name}\nrunbook: runbooks/probe.json\n{when}\n"


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@contextmanager
def _serve(
    home: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], int, float]]:
    port = _free_port()
    full = dict(os.environ, GAMEDAY_HOME=str(home), **(env or {}))
    full.pop("GAMEDAY_DATABASE_URL", None)
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gameday", "serve", "--port", str(port), "--json-logs"],
        cwd=home,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=(home / "serve.log").open("ab"),
    )
    try:
        while not _ready(port):
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}")
            if time.monotonic() - began > 60:
                raise RuntimeError("serve not ready within 60 s")
            time.sleep(0.02)
        yield proc, port, time.monotonic() - began
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def lag(occurrences: int, every: float) -> dict[str, Any]:
    """Scheduler lag: from each run's planned instant to its claim (state -> running)."""
    from gameday.adapters.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=8)
        times = [start + timedelta(seconds=i * every) for i in range(occurrences)]
        home = _home(
            Path(tmp) / "home",
            [_gameday(f"lag-{i}", f'at: "{t.isoformat()}"') for i, t in enumerate(times)],
        )
        with _serve(home):
            db = Database.open(f"sqlite:///{home / 'gameday.db'}", upgrade=False)
            try:
                deadline = time.monotonic() + 60 + occurrences * every
                while time.monotonic() < deadline:
                    runs = db.runs.list_runs(limit=occurrences + 10)
                    if len(runs) == occurrences and all(r.state.value not in WAITING for r in runs):
                        break
                    time.sleep(0.2)
                lags = []
                for run in db.runs.list_runs(limit=occurrences + 10):
                    claim = next(
                        (
                            e
                            for e in db.runs.events(run.id)
                            if e.type == "state_changed" and e.payload.get("to") == "running"
                        ),
                        None,
                    )
                    if claim is not None:
                        lags.append((claim.at - run.planned_at).total_seconds())
            finally:
                db.close()
    return {
        "metric": "scheduler_lag_seconds",
        "runs": len(lags),
        "p50": round(statistics.median(lags), 4) if lags else None,
        "p99": round(percentile(lags, 0.99), 4) if lags else None,
        "max": round(max(lags), 4) if lags else None,
        "target_p99": 1.0,
    }


def idle(schedules: int) -> Iterable[dict[str, Any]]:
    """Idle RSS and start-up to ready with `schedules` daily GameDay schedules."""
    with tempfile.TemporaryDirectory() as tmp:
        home = _home(
            Path(tmp) / "home",
            [_gameday(f"daily-{i}", f'cron: "{i % 60} {i % 24} * * *"') for i in range(schedules)],
        )
        with _serve(home) as (proc, _port, ready_after):
            time.sleep(3)  # idle: nothing due; let start-up garbage settle
            rss = _rss_mb(proc.pid)
        # A second start on the same (now migrated) database, as after a restart: the
        # steady state of a deployed service, which never loads the migration tool.
        with _serve(home) as (proc, _port, warm_ready):
            time.sleep(3)
            warm_rss = _rss_mb(proc.pid)
    yield {
        "metric": "idle_rss_mb",
        "schedules": schedules,
        "first_start": round(rss, 1),
        "value": round(warm_rss, 1),
        "target": 100,
    }
    yield {
        "metric": "startup_to_ready_seconds",
        "schedules": schedules,
        "first_start": round(ready_after, 3),
        "restart": round(warm_ready, 3),
        "target": 3.0,
    }


def cli_help(repeat: int) -> Iterable[dict[str, Any]]:
    """Wall time of `gameday --help` and `chaos --help` (median of `repeat`)."""
    for command in (["gameday", "--help"], ["chaos", "--help"]):
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            subprocess.run(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
            )
            times.append(time.perf_counter() - began)
        yield {
            "metric": "help_seconds",
            "command": " ".join(command),
            "median": round(statistics.median(times), 3),
            "min": round(min(times), 3),
        }


def run(args: list[str]) -> Iterable[dict[str, Any]]:
    """See the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench serve")
    parser.add_argument("--occurrences", type=int, default=20)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args(args)
    yield from cli_help(opts.repeat)
    yield from idle(opts.schedules)
    yield lag(opts.occurrences, opts.every)
