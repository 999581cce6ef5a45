"""`{"ref": NAME}` runs the named activity again, as `chaos run` does: in the method, the
steady state and the rollbacks, live and dry, and when recovery plays the rollbacks."""

from __future__ import annotations

from typing import Any

import pytest

from gameday.domain.runs import RunState
from gameday.services import recovery
from tests.execution.conftest import Gameday, experiment, python_activity

# The reproduction from the bug report, as written there.
REPORTED: dict[str, Any] = {
    "title": "ref",
    "description": "d",
    "method": [
        {
            "type": "probe",
            "name": "p",
            "provider": {
                "type": "python",
                "module": "os.path",
                "func": "exists",
                "arguments": {"path": "."},
            },
        },
        {"ref": "p"},
    ],
}


def referencing(gameday: Gameday) -> dict[str, Any]:
    """Every place a `ref` may stand, each pointing at an activity that leaves evidence."""
    return experiment(
        probes=[
            python_activity("probe", "answer", "value", tolerance=42, value=42),
            {"ref": "answer", "tolerance": 42},
        ],
        method=[
            python_activity("action", "poke", "touch", path=str(gameday.file("poked"))),
            {"ref": "poke"},
        ],
        rollbacks=[{"ref": "poke"}],
    )


@pytest.mark.parametrize("dry_run", [False, True], ids=["live", "dry"])
def test_the_reported_experiment_completes(gameday: Gameday, dry_run: bool) -> None:
    gameday.write_runbook("ref", REPORTED)

    run = gameday.run("ref", dry_run=dry_run)

    assert run.state is RunState.COMPLETED
    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert journal["status"] == "completed"
    assert [r["activity"]["name"] for r in journal["run"]] == ["p", "p"]


def test_a_live_run_runs_each_referenced_activity_again(gameday: Gameday) -> None:
    gameday.write_runbook("refs", referencing(gameday))

    run = gameday.run("refs")

    assert run.state is RunState.COMPLETED
    # twice in the method, once more as the rollback
    assert gameday.file("poked").read_text() == "ran\nran\nran\n"
    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert [p["activity"]["name"] for p in journal["steady_states"]["after"]["probes"]] == [
        "answer",
        "answer",
    ]
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [
        ("poke", "succeeded")
    ]


def test_a_dry_run_keeps_referenced_activities_dry(gameday: Gameday) -> None:
    gameday.write_runbook("refs", referencing(gameday))

    run = gameday.run("refs", dry_run=True)

    assert run.state is RunState.COMPLETED
    assert list(gameday.evidence.iterdir()) == []
    finished = [e.payload for e in gameday.events(run.id) if e.type == "activity_finished"]
    assert [(p["name"], p["dry"]) for p in finished if p["name"] == "poke"] == [
        ("poke", True),
        ("poke", True),
        ("poke", True),
    ]


def test_recovery_plays_a_referenced_rollback(gameday: Gameday) -> None:
    gameday.write_runbook("refs", referencing(gameday))
    run = gameday.plan("refs")
    assert gameday.runs.claim(run.id, actor="test")
    # A worker that died mid-run; pid 2**22 + 1 is above Linux's pid_max default.
    gone = {"host": gameday.workers.host, "pid": 4194305}
    gameday.runs.append_event(run.id, "worker_started", actor="worker", payload=gone)

    results = recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service")

    assert [(r.rollbacks_played, r.exit_code, r.state) for r in results] == [
        (True, 0, RunState.INTERRUPTED)
    ]
    assert gameday.file("poked").read_text() == "ran\n"
