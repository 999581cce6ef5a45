"""`gameday ack RUN_ID` and `gameday resolve RUN_ID [--note TEXT]` in-process against a real
database: what they record, what they print (`--json` too), and their refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.drills import DRILL_ACKED, DRILL_RESOLVED, FAULT_STARTED, DrillSpec
from gameday.domain.messages import RunBrief, brief_snapshot
from gameday.domain.runs import NewRun, Run, RunKind, RunState
from tests.support import CliResult, run_main


@pytest.fixture
def cli(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", db_url)
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LOGNAME", "alice")

    def run(*args: str) -> CliResult:
        return run_main(monkeypatch, capsys, "--home", tmp_path, *args)

    return run


def _drill(database: Database, clock: FixedClock, drill: DrillSpec | None = DrillSpec()) -> Run:
    runs = database.runs
    run = runs.create(
        NewRun(RunKind.GAMEDAY, None, "runbooks/r.yaml", clock.now()), actor="t", reason="t"
    )
    run = runs.transition(run.id, RunState.APPROVED, actor="t", reason="t")
    record: dict[str, Any] = {"dry_run": True, "mode": "t"}
    record["thread"] = brief_snapshot(RunBrief(run, "r"), "#drills")
    if drill is not None:
        record["drill"] = drill.to_json()
    assert runs.claim(run.id, actor="t", dry_run=True, payload=record)
    runs.append_event(run.id, FAULT_STARTED, actor="worker", payload={})
    return runs.get(run.id)


def test_ack_and_resolve_from_the_terminal(
    cli: Any, database: Database, db_clock: FixedClock
) -> None:
    # The command records on the system clock: the fault starts on it too.
    db_clock.advance(datetime.now(UTC) - db_clock.now())
    run = _drill(database, db_clock, DrillSpec(responders=("UONCALL",)))  # the CLI is trusted
    done = cli("ack", str(run.id))
    assert done.code == 0, done.err
    assert re.fullmatch(
        rf"acknowledged drill run {run.id} \d+\.\ds after its fault started\n", done.out
    )
    again = cli("ack", str(run.id), "--json").json()
    assert 0 <= again.pop("after_fault_s") < 60
    assert again == {"act": "ack", "by": "cli:alice", "first": False, "run_id": run.id}
    resolved = cli("resolve", str(run.id), "--note", "rolled back <!here>", "--json").json()
    assert resolved["first"] is True
    events = database.runs.events(run.id)
    assert [e.actor for e in events if e.type == DRILL_ACKED] == ["cli:alice", "cli:alice"]
    (resolve,) = [e for e in events if e.type == DRILL_RESOLVED]
    assert resolve.payload == {"by": "cli:alice", "note": "rolled back <!here>"}
    lines = [m.message for m in database.outbox.of_run(run.id)]
    assert len(lines) == 3
    assert all(m.channel == "#drills" for m in lines)
    assert "<!here>" not in lines[-1].text


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not-a-drill", "is not a drill"),
        ("finished", "is completed, not running: only a running drill can be resolved"),
        ("unknown", "no run 999"),
    ],
)
def test_refusals(
    cli: Any, database: Database, db_clock: FixedClock, case: str, message: str
) -> None:
    run = _drill(database, db_clock, None if case == "not-a-drill" else DrillSpec())
    if case == "finished":
        database.runs.transition(run.id, RunState.COMPLETED, actor="t", reason="t")
    target = "999" if case == "unknown" else str(run.id)
    before = len(database.runs.events(run.id))
    done = cli("resolve", target)
    assert done.code != 0
    assert message in done.err
    assert done.err.startswith("gameday: error: ")
    assert len(database.runs.events(run.id)) == before


def test_help(cli: Any) -> None:
    for command in ("ack", "resolve"):
        done = cli(command, "--help")
        assert done.code == 0
        assert "--json" in done.out
