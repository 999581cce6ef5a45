"""The run commands through the real CLI entry point, on both databases."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gameday.adapters.db import Database
from gameday.domain.runs import Decision, RunState
from tests.db.factories import make_run
from tests.db.support import migrated_claiming
from tests.support import NOOP_RUNBOOK, CliResult, run_main

ACTOR = f"cli:{getpass.getuser()}"
SCHEDULE = """\
kind: gameday
name: reviews-latency
runbook: runbooks/noop.yaml
at: 2026-12-02T14:00
timezone: UTC
"""

Gameday = Callable[..., CliResult]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with one valid GameDay schedule, `reviews-latency`."""
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "noop.yaml").write_text(NOOP_RUNBOOK)
    (tmp_path / "schedules").mkdir()
    (tmp_path / "schedules" / "gamedays.yaml").write_text(SCHEDULE)
    return tmp_path


@pytest.fixture
def gameday(
    home: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Gameday:
    """Run `gameday ARGS...` in-process against this test's database."""
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> CliResult:
        return run_main(monkeypatch, capsys, "--home", home, *args)

    return run


def test_history_lists_runs_newest_first_with_offsets(gameday: Gameday, database: Database) -> None:
    old = make_run(database.runs, RunState.SKIPPED, planned_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    new = make_run(database.runs, planned_at=datetime(2026, 3, 8, 9, tzinfo=UTC))

    table = gameday("history")
    listed = gameday("history", "--json")

    assert table.code == 0, table.err
    assert "2026-03-08 09:00:00+00:00" in table.out
    assert table.out.index(f"│ {new.id} ") < table.out.index(f"│ {old.id} ")
    assert [r["id"] for r in json.loads(listed.out)] == [new.id, old.id]
    assert json.loads(listed.out)[1]["state"] == "skipped"


def test_history_filters_and_shows_the_configured_zone(
    gameday: Gameday, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_run(database.runs, planned_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    skipped = make_run(database.runs, RunState.SKIPPED)
    monkeypatch.setenv("GAMEDAY_TIMEZONE", "Asia/Tokyo")

    only = gameday("history", "--state", "SKIPPED", "--json")
    none = gameday("history", "--schedule", "other")
    tokyo = gameday("history")

    assert [r["id"] for r in json.loads(only.out)] == [skipped.id]
    assert none.out.strip() == "no runs match"
    assert "2026-03-01 18:00:00+09:00" in tokyo.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["history", "--state", "done"], 2, "unknown run state 'done'; valid states: planned, "),
        (["history", "--limit", "0"], 2, "--limit must be between 1 and 1000, not 0"),
        (["journal", "show", "42"], 1, "no run 42"),
        (["note", "42", "hello"], 1, "no run 42"),
        (["pause", "reviews-latncy"], 1, "no schedule named 'reviews-latncy'"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(
    gameday: Gameday, args: list[str], code: int, message: str
) -> None:
    result = gameday(*args)

    assert result.code == code
    assert result.err.startswith(f"gameday: error: {message}")
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_journal_show_has_events_approvals_and_notes_in_order(
    gameday: Gameday, database: Database
) -> None:
    run = make_run(database.runs, RunState.AWAITING_APPROVAL)
    database.runs.record_approval(run.id, "U1", Decision.APPROVE)
    noted = gameday("note", str(run.id), "watch", "the", "error", "budget")

    shown = gameday("journal", "show", str(run.id))
    data = json.loads(gameday("journal", "show", str(run.id), "--json").out)

    assert noted.out.strip() == f"noted on run {run.id}"
    assert shown.code == 0, shown.err
    assert "planned -> awaiting_approval" in shown.out
    assert "watch the error budget" in shown.out
    assert [e["seq"] for e in data["events"]] == list(range(1, len(data["events"]) + 1))
    assert [e["type"] for e in data["events"]][-2:] == ["approval", "note"]
    assert data["approvals"] == [
        {"user": "U1", "decision": "approve", "at": data["approvals"][0]["at"]}
    ]
    assert data["notes"][0]["author"] == ACTOR
    assert data["run"]["state"] == "awaiting_approval"


def test_halt_and_resume_record_the_kill_switch(gameday: Gameday, database: Database) -> None:
    first = gameday("halt", "--reason", "payments incident")
    again = gameday("halt")
    engaged = database.control.kill_switch_detail()
    resumed = gameday("resume")
    idle = gameday("resume")

    assert first.out.strip() == "kill switch engaged: payments incident"
    assert again.out.strip() == "kill switch was already engaged: payments incident"
    assert (engaged.engaged, engaged.actor) == (True, ACTOR)
    assert resumed.out.strip() == "kill switch released"
    assert idle.out.strip() == "kill switch was not engaged"
    assert database.control.kill_switch() == (False, None)


def test_pause_and_unpause_a_known_schedule(gameday: Gameday, database: Database) -> None:
    assert gameday("pause", "reviews-latency").out.strip() == "paused reviews-latency"
    assert database.control.is_paused("reviews-latency")
    assert gameday("pause", "reviews-latency").out.strip() == "reviews-latency was already paused"
    assert gameday("unpause", "reviews-latency").out.strip() == "unpaused reviews-latency"
    assert not database.control.is_paused("reviews-latency")


def test_a_rejected_note_writes_nothing(gameday: Gameday, database: Database) -> None:
    run = make_run(database.runs, RunState.COMPLETED)
    events = database.runs.events(run.id)

    result = gameday("note", str(run.id), "   ")

    assert (result.code, result.err) == (2, "gameday: error: a note needs some text\n")
    assert database.runs.events(run.id) == events
    assert database.runs.notes(run.id) == []


def test_db_upgrade_and_current(
    gameday: Gameday, empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", empty_db_url)

    before = json.loads(gameday("db", "current", "--json").out)
    upgraded = gameday("db", "upgrade")
    again = gameday("db", "upgrade")
    after = json.loads(gameday("db", "current", "--json").out)

    assert before["revision"] is None
    assert upgraded.out.strip().endswith(f"upgraded from (empty) to {after['head']}")
    assert again.out.strip().endswith(f"is already at revision {after['head']}")
    assert after["revision"] == after["head"]


def test_an_unopenable_database_is_one_line(
    gameday: Gameday, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", "postgresql+psycopg://gd:hunter2@127.0.0.1:1/x")

    result = gameday("history")

    assert result.code == 3
    assert result.err.startswith(
        "gameday: error: cannot open database postgresql+psycopg://gd:***@"
    )
    assert result.err.count("\n") == 1
    assert "hunter2" not in result.err


def test_a_newer_database_is_refused_by_every_command(
    gameday: Gameday, empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = migrated_claiming(empty_db_url, "f00d")
    engine.dispose()
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", empty_db_url)

    for args in (["history"], ["halt"], ["db", "upgrade"], ["db", "current"]):
        result = gameday(*args)
        assert result.code == 3
        assert result.err.startswith(
            "gameday: error: database schema is at revision f00d, newer than this gameday"
        )
        assert result.err.count("\n") == 1
