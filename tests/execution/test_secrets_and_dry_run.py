"""Secrets never reach events, journals or logs; dry runs touch nothing; bad runbooks
are refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.domain.runs import RunState
from tests.execution.conftest import Gameday, experiment, python_activity

ENV_TOKEN = "s3cr3t-from-the-environment"
INLINE_PASSWORD = "hunter2-inline-value"


def test_secret_values_are_redacted_everywhere(
    gameday: Gameday, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GD_TEST_TOKEN", ENV_TOKEN)
    used = gameday.file("used")
    doc = experiment(
        title="reach the API with ${token}",
        secrets={
            "api": {"token": {"type": "env", "key": "GD_TEST_TOKEN"}},
            "db": {"password": INLINE_PASSWORD},
        },
        probes=[
            {
                **python_activity(
                    "probe", "echo", "echo_secret", tolerance="token is ${token}", token="${token}"
                ),
                "secrets": ["api"],
            }
        ],
        method=[
            {
                **python_activity("action", "use it", "touch", path=str(used), text="${password}"),
                "secrets": ["db"],
            },
            python_activity("probe", "careless", "echo_secret", token=INLINE_PASSWORD),
        ],
    )  # fmt: skip
    gameday.write_runbook("secretive", doc)

    run = gameday.run("secretive")

    assert run.state is RunState.COMPLETED
    assert used.read_text() == INLINE_PASSWORD + "\n"  # the secret was really used
    recorded = json.dumps([dict(e.payload) for e in gameday.events(run.id)])
    recorded += json.dumps(gameday.runs.journal(run.id))
    recorded += "".join(p.read_text() for p in (tmp_path / "logs").iterdir())
    assert ENV_TOKEN not in recorded
    assert INLINE_PASSWORD not in recorded
    assert "token is ***" in recorded


def test_a_dry_run_performs_no_action(gameday: Gameday) -> None:
    doc = experiment(
        probes=[python_activity("probe", "answer", "value", tolerance=1, value=2)],
        method=[
            python_activity("action", "poke", "touch", path=str(gameday.file("poked"))),
            # an activity asking not to be dry is dry all the same
            {
                **python_activity("action", "sneaky", "touch", path=str(gameday.file("sneaky"))),
                "dry": None,
            },
        ],
        rollbacks=[python_activity("action", "undo", "touch", path=str(gameday.file("undone")))],
    )
    gameday.write_runbook("dry", doc)

    run = gameday.run("dry", dry_run=True)

    assert run.state is RunState.COMPLETED
    assert list(gameday.evidence.iterdir()) == []
    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert journal["experiment"]["dry"] == "activities"
    started = next(e for e in gameday.events(run.id) if e.type == "worker_started")
    assert started.payload["dry_run"] is True


def test_vars_override_configuration_like_chaos_run(gameday: Gameday) -> None:
    target = gameday.file("target")
    doc = experiment(
        configuration={"where": str(gameday.file("default")), "times": 1},
        method=[python_activity("action", "write", "touch", path="${where}", text="n=${times}")],
    )
    gameday.write_runbook("vars", doc)

    run = gameday.run("vars", var=[f"where={target}", "times:int=3"])

    assert run.state is RunState.COMPLETED
    assert target.read_text() == "n=3\n"


def test_a_runbook_changed_since_planning_is_not_run(gameday: Gameday) -> None:
    path = gameday.write_runbook(
        "changed",
        experiment(
            method=[python_activity("action", "poke", "touch", path=str(gameday.file("poked")))]
        ),
    )
    run = gameday.plan("changed")
    path.write_text(path.read_text().replace("poke", "pokes"), encoding="utf-8")

    from gameday.services import execution

    execution.start_run(gameday.runs, gameday.workers, run.id, actor="test")
    ended = gameday.watch(run.id)

    assert ended.state is RunState.FAILED
    failed = next(e for e in gameday.events(run.id) if e.type == "worker_failed")
    assert "changed since run" in failed.payload["reason"]
    assert not gameday.file("poked").exists()


def test_a_missing_secret_fails_the_run_with_the_reason(gameday: Gameday) -> None:
    doc = experiment(
        secrets={"api": {"token": {"type": "env", "key": "GD_TEST_NOT_SET_ANYWHERE"}}},
        method=[python_activity("action", "poke", "touch", path=str(gameday.file("poked")))],
    )
    gameday.write_runbook("nosecret", doc)

    run = gameday.run("nosecret")

    assert run.state is RunState.FAILED
    failed = next(e for e in gameday.events(run.id) if e.type == "worker_failed")
    assert "GD_TEST_NOT_SET_ANYWHERE" in failed.payload["reason"]
    assert not gameday.file("poked").exists()
