"""Fixtures for journal exports: a home with runbooks, a recorded run, the CLI in-process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.runs import Decision, OutgoingMessage, Run, RunState
from tests.db.factories import make_run

# The real worker on both databases (tests/execution): `gameday` gives a home and workers.
from tests.execution.conftest import gameday  # noqa: F401
from tests.support import CliResult, run_main

ENV_TOKEN = "tok-from-the-environment-42"
INLINE_PASSWORD = "hunter2-inline-password"
HOSTILE_NOTE = "<script>alert('pwned')</script> ping <!channel> | *bold* & more"
SECRET_RUNBOOK = f"""\
title: Talk to the API
description: Uses two secrets.
secrets:
  api:
    token: {{type: env, key: GD_JOURNAL_TOKEN}}
  db:
    password: {INLINE_PASSWORD}
method:
  - type: action
    name: poke
    provider: {{type: process, path: "true"}}
"""

# A Chaos Toolkit journal as the worker stores it (already redacted).
CHAOS_JOURNAL: dict[str, Any] = {
    "chaoslib-version": "1.44.0",
    "platform": "Linux",
    "node": "worker-1",
    "experiment": {"title": "Reviews stay fast", "secrets": {"db": {"password": "***"}}},
    "start": "2026-03-02T14:00:01.000001",
    "end": "2026-03-02T14:00:09.500000",
    "duration": 8.5,
    "status": "completed",
    "deviated": False,
    "steady_states": {
        "before": {
            "steady_state_met": True,
            "probes": [
                {
                    "activity": {"type": "probe", "name": "reviews-answer"},
                    "status": "succeeded",
                    "output": 200,
                    "start": "2026-03-02T14:00:01.100000",
                    "end": "2026-03-02T14:00:01.350000",
                    "duration": 0.25,
                    "tolerance_met": True,
                }
            ],
        },
        "after": {"steady_state_met": True, "probes": []},
        "during": [],
    },
    "run": [
        {
            "activity": {"type": "action", "name": "inject-latency"},
            "status": "succeeded",
            "output": None,
            "start": "2026-03-02T14:00:02",
            "end": "2026-03-02T14:00:07",
            "duration": 5.0,
        }
    ],
    "rollbacks": [
        {
            "activity": {"type": "action", "name": "remove-latency"},
            "status": "succeeded",
            "output": None,
            "start": "2026-03-02T14:00:08",
            "end": "2026-03-02T14:00:09",
            "duration": 1.0,
        }
    ],
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder whose runbook `secretive` declares an env and an inline secret."""
    folder = tmp_path / "journal-home"
    (folder / "runbooks").mkdir(parents=True)
    (folder / "runbooks" / "secretive.yaml").write_text(SECRET_RUNBOOK, encoding="utf-8")
    return folder


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(
    home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """Run `gameday ARGS...` in-process against this test's database (home: `home`
    unless given)."""
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", db_url)
    monkeypatch.setenv("GAMEDAY_TIMEZONE", "Asia/Tokyo")

    def run(*args: str, at: Path | None = None) -> CliResult:
        return run_main(monkeypatch, capsys, "--home", at or home, *args)

    return run


def recorded_gameday(database: Database, clock: FixedClock, **overrides: Any) -> Run:
    """A completed GameDay with an approval, an announcement, a note and a stored journal."""
    runs = database.runs
    run = make_run(runs, RunState.AWAITING_APPROVAL, **overrides)
    clock.advance(timedelta(minutes=1))
    runs.record_approval(run.id, "U0APPROVER", Decision.APPROVE)
    announcement = OutgoingMessage(
        channel="#gameday", text="GameDay soon", thread_of_run=run.id, kind="announcement"
    )
    runs.transition(
        run.id, RunState.APPROVED, actor="U0APPROVER", reason="quorum", messages=[announcement]
    )
    delivered = database.outbox.due(now=clock.now())
    for item in delivered:
        database.outbox.mark_delivered(item.id, at=clock.now(), remote_id="1700000000.000100")
    runs.transition(run.id, RunState.RUNNING, actor="test:worker", reason="started")
    runs.append_event(run.id, "activity_finished", actor="worker", payload={"name": "inject"})
    runs.store_journal(run.id, CHAOS_JOURNAL)
    clock.advance(timedelta(minutes=1))
    runs.transition(run.id, RunState.COMPLETED, actor="worker", reason="completed")
    runs.add_note(run.id, author="U0SRE", text=HOSTILE_NOTE)
    return runs.get(run.id)
