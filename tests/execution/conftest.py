"""Fixtures for running real runbooks through the real worker process on a real database."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
from gameday.adapters.db import Database
from gameday.domain.clock import SystemClock
from gameday.domain.execution import runbook_digest
from gameday.domain.ports import Clock
from gameday.domain.runs import NewRun, Run, RunEvent, RunKind, RunState
from gameday.services import execution
from tests.execution.launcher import launched, warm_launcher  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
PROVIDERS = "tests.execution.providers"


def python_activity(
    kind: str, name: str, func: str, *, tolerance: Any = None, **arguments: Any
) -> dict[str, Any]:
    """A Chaos Toolkit activity calling one of tests/execution/providers.py."""
    activity: dict[str, Any] = {
        "type": kind,
        "name": name,
        "provider": {"type": "python", "module": PROVIDERS, "func": func, "arguments": arguments},
    }
    if tolerance is not None:
        activity["tolerance"] = tolerance
    return activity


def experiment(
    *,
    title: str = "a test runbook",
    probes: Sequence[Mapping[str, Any]] = (),
    method: Sequence[Mapping[str, Any]] = (),
    rollbacks: Sequence[Mapping[str, Any]] = (),
    **extra: Any,
) -> dict[str, Any]:
    """An experiment document in the shape the Chaos Toolkit documentation uses."""
    doc: dict[str, Any] = {"version": "1.0.0", "title": title, "description": "for tests"}
    if probes:
        doc["steady-state-hypothesis"] = {"title": "all is well", "probes": list(probes)}
    doc["method"] = list(method)
    if rollbacks:
        doc["rollbacks"] = list(rollbacks)
    doc.update(extra)
    return doc


@dataclass
class Gameday:
    """A home folder, a database and worker processes: enough to run runbooks for real."""

    home: Path
    database: Database
    workers: ProcessWorkers
    evidence: Path
    clock: Clock = field(default_factory=SystemClock)

    @property
    def runs(self) -> Any:
        return self.database.runs

    def write_runbook(self, name: str, doc: Mapping[str, Any]) -> Path:
        path = self.home / "runbooks" / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        return path

    def plan(self, name: str, *, dry_run: bool = False, digest: str | None = None) -> Run:
        """An approved ad-hoc run of runbook `name`."""
        path = self.home / "runbooks" / f"{name}.json"
        run = self.runs.create(
            NewRun(
                kind=RunKind.GAMEDAY,
                schedule=None,
                runbook=f"runbooks/{name}.json",
                planned_at=self.clock.now(),
                dry_run=dry_run,
                requester="test:runner",
                runbook_digest=digest if digest is not None else runbook_digest(path.read_bytes()),
            ),
            actor="test:runner",
            reason="test run",
        )
        return self.runs.transition(run.id, RunState.APPROVED, actor="test", reason="test")

    def start(self, name: str, *, dry_run: bool = False, var: Sequence[str] = ()) -> Run:
        run = self.plan(name, dry_run=dry_run)
        execution.start_run(
            self.runs, self.workers, run.id, actor="test:runner", options={"var": list(var)}
        )
        return run

    def watch(
        self,
        run_id: int,
        *,
        timeout: timedelta = timedelta(minutes=2),
        clock: Clock | None = None,
        on_event: Callable[[RunEvent], None] = lambda _e: None,
    ) -> Run:
        return execution.watch_run(
            self.runs,
            self.workers,
            clock or self.clock,
            run_id,
            timeout=timeout,
            actor="test:supervisor",
            on_event=on_event,
        )

    def run(self, name: str, **kwargs: Any) -> Run:
        run = self.start(name, **kwargs)
        return self.watch(run.id)

    def events(self, run_id: int) -> list[RunEvent]:
        return list(self.runs.events(run_id))

    def types(self, run_id: int) -> list[str]:
        return [e.type for e in self.events(run_id)]

    def file(self, name: str) -> Path:
        return self.evidence / name

    def wait_for_file(self, path: Path, limit: float = 60.0) -> None:
        """Wait for a file a worker writes (a condition, bounded so a bug cannot hang);
        fails at once, with the workers' logs, when no worker is left to write it."""
        give_up = time.monotonic() + limit
        while not path.exists():
            running = self.runs.in_state(RunState.RUNNING)
            assert running, f"{path} never appeared; no run is running:\n{self.logs()}"
            assert time.monotonic() < give_up, f"{path} never appeared:\n{self.logs()}"
            time.sleep(0.01)

    def logs(self) -> str:
        """The tail of every worker log (for failure messages)."""
        folder = self.home.parent / "logs"
        files = sorted(folder.glob("*.log")) if folder.exists() else []
        return "\n".join(f"== {f.name}\n{f.read_text()[-3000:]}" for f in files)


def sqlite_copy(tmp_path: Path, template: Path) -> str:
    """A migrated SQLite database of its own, for tests whose subject is not the data
    layer (the other execution tests run on both databases)."""
    target = tmp_path / "gameday.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def gameday(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gameday]:
    """Real runbooks through the real worker on SQLite and PostgreSQL."""
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("GAMEDAY_CHAOSTOOLKIT_SETTINGS", str(tmp_path / "no-settings.yaml"))
    database = Database.open(db_url, upgrade=False)
    workers = ProcessWorkers(
        home=home, database_url=db_url, live=True, env=os.environ, log_dir=tmp_path / "logs"
    )
    yield Gameday(home=home, database=database, workers=workers, evidence=evidence)
    database.close()
