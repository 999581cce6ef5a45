"""Real `gameday serve` processes for the end-to-end tests: a home with runbooks and
schedules a few seconds ahead, a free port, JSON logs read line by line, and polling with a
deadline instead of sleeping for the wall clock."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from tests.execution.conftest import experiment, python_activity

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(what: str, check: Callable[[], Any], *, limit: float = 30.0) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `limit` s."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f}s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class SlowGameDay:
    """A runbook whose action blocks until `release` exists; its rollback marks `rolled`."""

    runbook: str
    started: Path
    release: Path
    rolled: Path


@dataclass
class Home:
    """A home folder with test runbooks (JSON) and schedules (YAML)."""

    path: Path

    def __post_init__(self) -> None:
        (self.path / "runbooks").mkdir(parents=True, exist_ok=True)
        (self.path / "schedules").mkdir(parents=True, exist_ok=True)

    def evidence(self, name: str) -> Path:
        return self.path / name

    def runbook(self, name: str, doc: Mapping[str, Any]) -> str:
        (self.path / "runbooks" / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")
        return f"runbooks/{name}.json"

    def quick_runbook(self) -> str:
        """A runbook that only calls a probe and appends one line per run to ran.txt."""
        return self.runbook(
            "quick",
            experiment(
                probes=[python_activity("probe", "ok", "value", value=1, tolerance=1)],
                method=[
                    python_activity("action", "mark", "touch", path=str(self.evidence("ran.txt")))
                ],
            ),
        )

    def slow_runbook(self) -> SlowGameDay:
        """A runbook that holds its one action until released, with a rollback to watch."""
        started, release, rolled = (self.evidence(n) for n in ("started", "release", "rolled-back"))
        runbook = self.runbook(
            "slow",
            experiment(
                method=[
                    python_activity(
                        "action", "hold", "block_until", started=str(started), release=str(release)
                    )
                ],
                rollbacks=[python_activity("action", "undo", "touch", path=str(rolled))],
            ),
        )
        return SlowGameDay(runbook, started, release, rolled)

    def gamedays(self, runbook: str, times: Sequence[datetime], prefix: str = "tick") -> list[str]:
        names = [f"{prefix}-{i}" for i in range(len(times))]
        docs = [
            f'kind: gameday\nname: {name}\nrunbook: {runbook}\nat: "{at.isoformat()}"\n'
            for name, at in zip(names, times, strict=True)
        ]
        (self.path / "schedules" / f"{prefix}.yaml").write_text(
            "---\n".join(docs), encoding="utf-8"
        )
        return names


def soon(seconds: float, count: int = 1, every: float = 1.0) -> list[datetime]:
    """`count` whole-second instants from `seconds` ahead, `every` seconds apart."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    return [start + timedelta(seconds=i * every) for i in range(count)]


@dataclass
class Serve:
    """One `gameday serve` process."""

    home: Home
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    logs: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None

    def start(self) -> Serve:
        env = dict(os.environ)
        env.update(
            {
                "GAMEDAY_HOME": str(self.home.path),
                "GAMEDAY_DATABASE_URL": self.database_url,
                "GAMEDAY_LEADER_RETRY": "0.3",
                "GAMEDAY_CHAOSTOOLKIT_SETTINGS": str(self.home.path / "no-settings.yaml"),
                "PYTHONPATH": str(REPO),
                **self.env,
            }
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gameday",
                "serve",
                "--port",
                str(self.port),
                "--json-logs",
                *self.args,
            ],
            cwd=self.home.path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.raw.append(line.rstrip("\n"))
            with contextlib.suppress(ValueError):
                self.logs.append(json.loads(line))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> requests.Response | None:
        try:
            return requests.get(self.url + path, timeout=2)
        except requests.ConnectionError:
            return None

    def wait(self, what: str, check: Callable[[], Any], limit: float = 30.0) -> Any:
        """wait_until, failing with this process's last log lines for context."""
        try:
            return wait_until(what, check, limit=limit)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; serve said:\n" + "\n".join(self.raw[-25:])) from None

    def start_slow_gameday(self, slow: SlowGameDay) -> str:
        """Plan `slow` once ready and wait until its action runs; the schedule's name."""
        self.wait_ready()
        # Planned once the service is up (a reload), so a slow start cannot make it late.
        (name,) = self.home.gamedays(slow.runbook, soon(2))
        self.signal(signal.SIGHUP)
        self.wait("the GameDay to be running", slow.started.exists)
        return name

    def metrics_with(self, line: str) -> str | None:
        """The /metrics text if it holds `line`, else None."""
        response = self.get("/metrics")
        return response.text if response is not None and line in response.text else None

    def wait_ready(self, limit: float = 30.0) -> None:
        def ready() -> bool:
            self._check_alive()
            response = self.get("/readyz")
            return response is not None and response.status_code == 200

        wait_until(f"serve on port {self.port} to be ready", ready, limit=limit)

    def wait_log(self, event_part: str, limit: float = 30.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            self._check_alive()
            return next((e for e in self.logs if event_part in e.get("event", "")), None)

        return wait_until(f"a log line with {event_part!r}", found, limit=limit)

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"serve exited with {self.process.returncode}:\n" + "\n".join(self.raw[-30:])
            )

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait_exit(self, limit: float = 60.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout=limit)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
