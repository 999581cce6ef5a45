"""`gameday run`'s progress lines say what happened to each activity: skipped in a dry
run, outside its tolerance when a steady-state probe missed, else its status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.db import Database
from tests.execution.conftest import experiment, python_activity, sqlite_copy
from tests.execution.test_cli_run import gameday, write


@pytest.fixture
def db_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: these tests are about the command's output."""
    return sqlite_copy(tmp_path, _sqlite_template)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    return home


def breaking(home: Path) -> dict[str, Any]:
    """Two steady-state probes; the method removes what the first one checks."""
    marker = home / "healthy"
    marker.touch()
    return experiment(
        probes=[
            python_activity("probe", "healthy", "exists", tolerance=True, path=str(marker)),
            python_activity("probe", "answer", "value", tolerance=42, value=42),
        ],
        method=[python_activity("action", "break it", "remove", path=str(marker))],
        rollbacks=[python_activity("action", "heal", "touch", path=str(marker))],
    )


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_a_dry_run_shows_its_activities_skipped(home: Path, db_url: str) -> None:
    write(home, "breaking", breaking(home))

    done = gameday(home, db_url, "breaking")

    assert done.returncode == 0, done.stderr
    shown = lines(done.stdout)
    assert "○ probe healthy: skipped (dry run)" in shown
    assert "○ action break it: skipped (dry run)" in shown
    assert "○ action heal: skipped (dry run)" in shown
    assert "succeeded" not in done.stdout
    assert "✔" not in done.stdout


def test_a_live_deviation_shows_the_probe_outside_its_tolerance(home: Path, db_url: str) -> None:
    write(home, "breaking", breaking(home))

    done = gameday(home, db_url, "breaking", "--live")

    assert done.returncode == 1, done.stderr
    shown = [line.split(" in ")[0] for line in lines(done.stdout)]
    before, after = (
        shown.index("steady state before: met"),
        shown.index("steady state after: not met"),
    )
    assert shown[:before].count("✔ probe healthy: succeeded") == 1
    assert "✔ probe answer: succeeded" in shown[:before]
    assert "✔ action break it: succeeded" in shown[before:after]
    assert "✘ probe healthy: outside tolerance" in shown[before:after]
    assert "✔ probe healthy: succeeded" not in shown[before:]
    assert "✔ action heal: succeeded" in shown[after:]


def test_steady_state_events_carry_the_verdict_of_each_probe(home: Path, db_url: str) -> None:
    write(home, "breaking", breaking(home))

    done = gameday(home, db_url, "breaking", "--live")

    assert done.returncode == 1, done.stderr
    database = Database.open(db_url, upgrade=False)
    try:
        (run,) = database.runs.list_runs()
        events = database.runs.events(run.id)
    finally:
        database.close()
    judged = [
        (e.type, e.payload.get("name"), e.payload.get("phase"), e.payload.get("tolerance_met"))
        for e in events
        if e.type in ("activity_finished", "steady_state_finished")
    ]
    # Each probe's verdict, in the order it was reached, before its steady state's.
    assert judged == [
        ("activity_finished", "healthy", "hypothesis_before", True),
        ("activity_finished", "answer", "hypothesis_before", True),
        ("steady_state_finished", None, "before", None),
        ("activity_finished", "break it", "method", None),
        ("activity_finished", "healthy", "hypothesis_after", False),
        ("steady_state_finished", None, "after", None),
        ("activity_finished", "heal", "rollback", None),
    ]
