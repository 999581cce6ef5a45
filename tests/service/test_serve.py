"""End to end: real `gameday serve` processes on SQLite and PostgreSQL, driven by schedules
a few seconds ahead; assertions read the database the service wrote."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from gameday.adapters.db import Database
from gameday.domain.runs import RunState
from tests.service.serving import Home, Serve, soon, wait_until

PASSWORD = "pw-never-logged"
FINAL = {RunState.COMPLETED, RunState.DEVIATED, RunState.FAILED, RunState.ABORTED}


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home")


@pytest.fixture(params=["sqlite", "postgresql"])
def serve_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema) for serve to migrate itself."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gameday.db'}"
        return
    schemas = request.getfixturevalue("postgres_schemas")
    name, url = schemas.create()
    # Trust auth ignores the password; it is there to prove it never reaches a log line.
    yield make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
    schemas.drop(name)


@pytest.fixture
def serves() -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(home: Home, url: str, **kwargs: object) -> Serve:
        s = Serve(home, url, **kwargs).start()  # type: ignore[arg-type]
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def open_db(url: str) -> Database:
    return Database.open(url, upgrade=False)


def runs_by_schedule(url: str) -> dict[str, list[RunState]]:
    db = open_db(url)
    try:
        found: dict[str, list[RunState]] = {}
        for run in db.runs.list_runs(limit=1000):
            found.setdefault(run.schedule or "", []).append(run.state)
        return found
    finally:
        db.close()


def events_of(url: str) -> list[object]:
    db = open_db(url)
    try:
        return [(r.schedule, db.runs.events(r.id)) for r in db.runs.list_runs(limit=1000)]
    finally:
        db.close()


def test_serve_runs_schedules_unattended_and_answers_health(
    home: Home, serve_db: str, serves: Callable[..., Serve]
) -> None:
    runbook = home.quick_runbook()
    home.gamedays(runbook, soon(3600), prefix="later")
    s = serves(home, serve_db)
    s.wait_ready()
    first = s.wait_log("gameday serve:")
    assert first["mode"] == "dry run"
    assert first["notifier"] == "console"
    assert PASSWORD not in "\n".join(s.raw)
    assert s.wait_log("gameday later-0 (")["event"].startswith("upcoming: ")
    assert s.get("/healthz").json() == {"status": "ok"}  # type: ignore[union-attr]
    # Two more, planned once the service is up (a reload), so a slow start cannot make
    # them late.
    names = home.gamedays(runbook, soon(2, count=2, every=1))
    s.signal(signal.SIGHUP)

    def all_done() -> bool:
        states = runs_by_schedule(serve_db)
        return all(states.get(n) and states[n][0] in FINAL for n in names)

    s.wait("both GameDays to finish", all_done)
    states = runs_by_schedule(serve_db)
    assert {n: states[n] for n in names} == {n: [RunState.COMPLETED] for n in names}, events_of(
        serve_db
    )
    counted = 'gameday_runs_total{kind="gameday",outcome="completed"} 2.0'
    metrics = wait_until("the runs to be counted", lambda: s.metrics_with(counted))
    assert "gameday_leader 1.0" in metrics
    s.signal(signal.SIGTERM)
    assert s.wait_exit() == 0
    assert any(e["event"] == "stopped" for e in s.logs)


def test_a_second_serve_on_the_same_sqlite_file_refuses(
    home: Home, tmp_path: Path, serves: Callable[..., Serve]
) -> None:
    url = f"sqlite:///{tmp_path / 'gameday.db'}"
    first = serves(home, url)
    first.wait_ready()
    second = serves(home, url)
    assert second.wait_exit(limit=30) != 0
    message = "\n".join(second.raw)
    assert f"pid {first.process.pid}" in message  # type: ignore[union-attr]
    assert str(tmp_path / "gameday.db") in message


def test_serve_refuses_invalid_specs_listing_every_error(
    home: Home, serve_db: str, serves: Callable[..., Serve]
) -> None:
    (home.path / "schedules" / "a.yaml").write_text("kind: gameday\nname: a\n", encoding="utf-8")
    (home.path / "schedules" / "b.yaml").write_text("kind: window\nname: b\n", encoding="utf-8")
    s = serves(home, serve_db)
    assert s.wait_exit(limit=30) == 2
    text = "\n".join(s.raw)
    assert "a.yaml" in text
    assert "b.yaml" in text


def test_sigterm_during_a_run_halts_it_with_rollbacks_and_exits_0(
    home: Home, serve_db: str, serves: Callable[..., Serve]
) -> None:
    slow = home.slow_runbook()
    s = serves(home, serve_db, env={"GAMEDAY_SHUTDOWN_GRACE": "0.5"}, args=["--live"])
    name = s.start_slow_gameday(slow)
    s.signal(signal.SIGTERM)
    assert s.wait_exit() == 0
    assert slow.rolled.read_text(encoding="utf-8").splitlines() == ["ran"]
    assert runs_by_schedule(serve_db)[name] == [RunState.ABORTED]


def test_sighup_applies_only_the_differences(
    home: Home, serve_db: str, serves: Callable[..., Serve]
) -> None:
    runbook = home.quick_runbook()
    times = soon(3600, count=3, every=60)
    home.gamedays(runbook, times[:2])
    s = serves(home, serve_db)
    s.wait_ready()
    home.gamedays(runbook, times)  # one more, two unchanged
    s.signal(signal.SIGHUP)
    line = s.wait_log("reloaded specs")
    assert line["event"].startswith("reloaded specs: 1 runs planned, 0 cancelled")
    assert sorted(runs_by_schedule(serve_db)) == ["tick-0", "tick-1", "tick-2"]

    (home.path / "schedules" / "broken.yaml").write_text("kind: gameday\n", encoding="utf-8")
    s.signal(signal.SIGHUP)
    assert "previous plan kept" in s.wait_log("reload refused")["event"]
    assert s.get("/readyz").status_code == 200  # type: ignore[union-attr]
    assert runs_by_schedule(serve_db) == {f"tick-{i}": [RunState.ANNOUNCED] for i in range(3)}


def test_a_crash_during_a_run_is_recovered_on_restart_with_rollbacks(
    home: Home, serve_db: str, serves: Callable[..., Serve]
) -> None:
    slow = home.slow_runbook()
    first = serves(home, serve_db, args=["--live"])
    name = first.start_slow_gameday(slow)
    db = open_db(serve_db)
    try:
        (run,) = db.runs.list_runs(schedule=name)
        worker = next(e for e in db.runs.events(run.id) if e.type == "worker_launched")
        # The machine goes down: the service and its worker die at once, no rollback yet
        # (the worker is frozen first, or it would roll back as its supervisor dies).
        os.kill(int(worker.payload["pid"]), signal.SIGSTOP)
        first.signal(signal.SIGKILL)
        first.wait_exit()
        os.kill(int(worker.payload["pid"]), signal.SIGKILL)
        assert not slow.rolled.exists()

        second = serves(home, serve_db, args=["--live"])
        second.wait_ready()
        second.wait(
            "recovery to end the run", lambda: db.runs.get(run.id).state is RunState.INTERRUPTED
        )
        assert slow.rolled.read_text(encoding="utf-8").splitlines() == ["ran"]
        assert db.runs.list_runs(schedule=name) == [db.runs.get(run.id)]
    finally:
        db.close()


def test_with_slack_configured_serve_mounts_the_events_endpoint_and_delivers(
    home: Home, tmp_path: Path, serves: Callable[..., Serve]
) -> None:
    from tests.fakes.slack_api import FakeSlackApi
    from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, command_body, sign

    home.gamedays(home.quick_runbook(), soon(3600))  # its announcements are due at once
    with FakeSlackApi(token=BOT_TOKEN) as slack:
        s = serves(
            home,
            f"sqlite:///{tmp_path / 'gameday.db'}",
            env={
                "GAMEDAY_SLACK_BOT_TOKEN": BOT_TOKEN,
                "GAMEDAY_SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "GAMEDAY_SLACK_API_URL": slack.base_url,
            },
        )
        s.wait_ready()
        assert s.wait_log("gameday serve:")["notifier"] == "slack"
        posted = slack.wait_for("chat.postMessage")
        assert posted[0].args["channel"]
        body = command_body("help", "U1", slack.response_url)
        now = int(time.time())
        headers = {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": sign(body, now),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        signed = requests.post(f"{s.url}/slack/events", data=body, headers=headers, timeout=5)
        assert signed.status_code == 200
        headers["X-Slack-Signature"] = sign(body, now, secret="wrong")
        forged = requests.post(f"{s.url}/slack/events", data=body, headers=headers, timeout=5)
        assert forged.status_code == 401
        all_logs = "\n".join(s.raw)
        assert BOT_TOKEN not in all_logs
        assert SIGNING_SECRET not in all_logs
