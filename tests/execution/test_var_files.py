"""Var files recorded in a run's options: the worker and recovery read the same values, and
refuse a file that changed since the run started rather than run with other values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gameday.adapters.chaostoolkit.runbooks import var_file_options
from gameday.domain.runs import RunState
from gameday.services import execution, recovery
from tests.execution.conftest import Gameday, experiment, python_activity

SECRET = "s3cret-rollback-token"


def undoing(gameday: Gameday) -> dict[str, Any]:
    """A rollback writing its configuration and secret to `undone`."""
    return experiment(
        configuration={"who": "nobody"},
        secrets={"api": {"token": "placeholder"}},
        method=[python_activity("action", "poke", "touch", path=str(gameday.file("poked")))],
        rollbacks=[
            {
                **python_activity(
                    "action",
                    "undo",
                    "touch",
                    path=str(gameday.file("undone")),
                    text="${who} ${token}",
                ),
                "secrets": ["api"],
            }
        ],
    )


def var_file(gameday: Gameday) -> Path:
    path = gameday.home.parent / "vars.yaml"
    path.write_text(f"configuration: {{who: ann}}\nsecrets: {{api: {{token: {SECRET}}}}}\n")
    return path


def orphan(gameday: Gameday, options: dict[str, Any]) -> int:
    """A running run with these options whose worker died (pid 2**22 + 1 is above Linux's
    pid_max default)."""
    run = gameday.plan("undo")
    assert gameday.runs.claim(run.id, actor="test")
    gameday.runs.append_event(run.id, "run_options", actor="test", payload=options)
    gone = {"host": gameday.workers.host, "pid": 4194305}
    gameday.runs.append_event(run.id, "worker_started", actor="worker", payload=gone)
    return run.id


def test_recovery_reads_the_var_files_the_run_started_with(gameday: Gameday) -> None:
    gameday.write_runbook("undo", undoing(gameday))
    run_id = orphan(gameday, {"var": [], "var_file": var_file_options([var_file(gameday)])})

    results = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service")

    assert [(r.run_id, r.exit_code, r.state) for r in results] == [
        (run_id, 0, RunState.INTERRUPTED)
    ]
    assert gameday.file("undone").read_text() == f"ann {SECRET}\n"
    recorded = str([e.payload for e in gameday.events(run_id)]) + str(gameday.runs.journal(run_id))
    assert SECRET not in recorded


def test_recovery_refuses_a_var_file_that_changed(gameday: Gameday) -> None:
    gameday.write_runbook("undo", undoing(gameday))
    path = var_file(gameday)
    run_id = orphan(gameday, {"var": [], "var_file": var_file_options([path])})
    path.write_text("configuration: {who: mallory}\n")

    results = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service")

    assert [(r.run_id, r.state) for r in results] == [(run_id, RunState.INTERRUPTED)]
    assert results[0].exit_code != 0
    assert not gameday.file("undone").exists()
    failed = next(e for e in gameday.events(run_id) if e.type == "worker_failed")
    assert "changed since the run started" in failed.payload["reason"]


def test_a_run_whose_var_file_changed_does_not_start(gameday: Gameday) -> None:
    gameday.write_runbook("undo", undoing(gameday))
    path = var_file(gameday)
    options = {"var": [], "var_file": var_file_options([path])}
    path.unlink()
    run = gameday.plan("undo")

    execution.start_run(gameday.runs, gameday.workers, run.id, actor="test", options=options)
    ended = gameday.watch(run.id)

    assert ended.state is RunState.FAILED
    failed = next(e for e in gameday.events(run.id) if e.type == "worker_failed")
    assert f"var file {path} cannot be read" in failed.payload["reason"]
    assert not gameday.file("poked").exists()
