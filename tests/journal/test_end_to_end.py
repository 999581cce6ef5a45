"""A runbook run by the real worker, then exported: the Chaos Toolkit journal comes out
unchanged, and the postmortem tells what happened."""

from __future__ import annotations

import json

import pytest

from gameday.domain.runs import RunState
from tests.execution.conftest import Gameday, experiment, python_activity
from tests.journal.conftest import HOSTILE_NOTE, Cli

CHAOS_REPORT_KEYS = ("status", "steady_states", "run", "rollbacks", "experiment")


@pytest.fixture
def finished(gameday: Gameday) -> int:
    """A completed run of a small python-provider runbook, with a note added afterwards."""
    doc = experiment(
        title="The answer stays 42",
        probes=[python_activity("probe", "answer", "value", tolerance=42, value=42)],
        method=[python_activity("action", "poke", "touch", path=str(gameday.file("poked")))],
        rollbacks=[python_activity("action", "undo", "touch", path=str(gameday.file("undone")))],
    )
    gameday.write_runbook("answer", doc)
    run = gameday.run("answer")
    assert run.state is RunState.COMPLETED, gameday.logs()
    gameday.runs.add_note(run.id, author="U0SRE", text=HOSTILE_NOTE)
    return run.id


def test_exported_json_is_the_stored_chaos_toolkit_journal_plus_gameday(
    cli: Cli, gameday: Gameday, finished: int
) -> None:
    result = cli("journal", "export", str(finished), "--format", "json", at=gameday.home)

    assert result.code == 0, result.err
    document = json.loads(result.out)
    section = document.pop("gameday")
    assert document == gameday.runs.journal(finished)
    for key in CHAOS_REPORT_KEYS:
        assert key in document, key
    assert document["status"] == "completed"
    assert [r["activity"]["name"] for r in document["run"]] == ["poke"]
    assert [r["activity"]["name"] for r in document["rollbacks"]] == ["undo"]
    types = [e["type"] for e in section["events"]]
    assert types.index("activity_started") < types.index("finished") < types.index("note")
    assert section["run"]["state"] == "completed"
    assert section["run"]["dry_run"] is False


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_postmortem_of_a_real_run(cli: Cli, gameday: Gameday, finished: int, fmt: str) -> None:
    result = cli("journal", "export", str(finished), "--format", fmt, at=gameday.home)

    assert result.code == 0, result.err
    text = result.out
    assert "The answer stays 42" in text
    assert "completed" in text
    for name in ("answer", "poke", "undo", "activity_finished", "rollback_finished"):
        assert name in text, name
    assert "+09:00 (Asia/Tokyo)" in text
    assert "<script>" not in text
    assert "<!channel>" not in text
    assert "&lt;script" in text
    assert "&lt;!channel" in text
