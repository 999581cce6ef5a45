"""The same runbooks under gameday and under `chaos run`: the same status, every time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gameday.domain.outcome import chaos_status
from gameday.domain.runs import RunState
from tests.execution.conftest import REPO, Gameday, experiment, python_activity, sqlite_copy

Shape = Callable[[Path], dict[str, Any]]


@pytest.fixture
def db_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: the comparison with `chaos run` does not depend on the database."""
    return sqlite_copy(tmp_path, _sqlite_template)


def _process(kind: str, name: str, path: str, *args: str, tolerance: Any = None) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": kind,
        "name": name,
        "provider": {"type": "process", "path": path, "arguments": list(args)},
    }
    if tolerance is not None:
        activity["tolerance"] = tolerance
    return activity


def completed_python(work: Path) -> dict[str, Any]:
    return experiment(
        probes=[python_activity("probe", "answer", "value", tolerance=42, value=42)],
        method=[python_activity("action", "poke", "touch", path=str(work / "poked"))],
        rollbacks=[python_activity("action", "unpoke", "touch", path=str(work / "undone"))],
    )


def deviated_python(work: Path) -> dict[str, Any]:
    (work / "healthy").touch()
    return experiment(
        probes=[
            python_activity(
                "probe", "healthy", "exists", tolerance=True, path=str(work / "healthy")
            )
        ],
        method=[python_activity("action", "break it", "remove", path=str(work / "healthy"))],
        rollbacks=[python_activity("action", "heal", "touch", path=str(work / "healthy"))],
    )


def failed_probe(work: Path) -> dict[str, Any]:
    return experiment(
        probes=[python_activity("probe", "unreachable", "broken", tolerance=True)],
        method=[python_activity("action", "poke", "touch", path=str(work / "poked"))],
    )


def failing_action(work: Path) -> dict[str, Any]:
    return experiment(
        probes=[python_activity("probe", "answer", "value", tolerance=1, value=1)],
        method=[python_activity("action", "explodes", "broken")],
    )


def completed_process(work: Path) -> dict[str, Any]:
    return experiment(
        probes=[_process("probe", "work dir exists", "test", "-d", str(work), tolerance=0)],
        method=[_process("action", "touch", "touch", str(work / "poked"))],
        rollbacks=[_process("action", "clean", "rm", "-f", str(work / "poked"))],
    )


def deviated_process(work: Path) -> dict[str, Any]:
    (work / "marker").touch()
    return experiment(
        probes=[_process("probe", "marker there", "test", "-f", str(work / "marker"), tolerance=0)],
        method=[_process("action", "remove marker", "rm", str(work / "marker"))],
    )


def regex_tolerance(work: Path) -> dict[str, Any]:
    tolerance = {"type": "regex", "pattern": "hel+o", "target": "stdout"}
    return experiment(
        probes=[_process("probe", "greets", "echo", "hello", tolerance=tolerance)],
        method=[_process("action", "noop", "true")],
    )


def method_only(work: Path) -> dict[str, Any]:
    return experiment(method=[python_activity("probe", "look", "value", value="ok")])


SHAPES: dict[str, tuple[Shape, RunState]] = {
    "completed-python": (completed_python, RunState.COMPLETED),
    "deviated-python": (deviated_python, RunState.DEVIATED),
    "failed-probe": (failed_probe, RunState.FAILED),
    "failing-action": (failing_action, RunState.COMPLETED),
    "completed-process": (completed_process, RunState.COMPLETED),
    "deviated-process": (deviated_process, RunState.DEVIATED),
    "regex-tolerance": (regex_tolerance, RunState.COMPLETED),
    "method-only": (method_only, RunState.COMPLETED),
}


def chaos_run(doc: dict[str, Any], folder: Path) -> str:
    """The status the real `chaos run` reports for this experiment."""
    source = folder / "experiment.json"
    source.write_text(json.dumps(doc), encoding="utf-8")
    journal = folder / "journal.json"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run(
        [sys.executable, "-m", "chaostoolkit", "--no-version-check", "--no-log-file",
         "--settings", str(folder / "none.yaml"),
         "run", "--journal-path", str(journal), str(source)],
        cwd=folder, env=env, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    return chaos_status(json.loads(journal.read_text(encoding="utf-8")))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_gives_the_same_status_as_chaos_run(gameday: Gameday, tmp_path: Path, shape: str) -> None:
    build, expected = SHAPES[shape]
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    gameday.write_runbook(shape, build(ours))

    run = gameday.run(shape)

    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert run.state is expected
    assert chaos_status(journal) == chaos_run(build(theirs), theirs)
    final = gameday.events(run.id)[-1]
    assert final.type == "state_changed"
    assert final.payload["chaos_status"] == chaos_status(journal)


def failing_with_undo(undone: Path, **extra: Any) -> dict[str, Any]:
    """A runbook whose steady state fails, with a rollback that writes `undone`."""
    return experiment(
        probes=[python_activity("probe", "unreachable", "broken", tolerance=True)],
        rollbacks=[python_activity("action", "undo", "touch", path=str(undone))],
        **extra,
    )


def test_rollbacks_play_after_a_failure_by_default(gameday: Gameday) -> None:
    undone = gameday.file("undone")
    gameday.write_runbook("fails", failing_with_undo(undone))

    run = gameday.run("fails")

    assert run.state is RunState.FAILED
    assert undone.read_text() == "ran\n"


@pytest.mark.parametrize(("where", "strategy"), [("runtime", "default"), ("extension", "never")])
def test_a_runbook_may_choose_its_rollback_strategy(
    gameday: Gameday, where: str, strategy: str
) -> None:
    undone = gameday.file("undone")
    extra: dict[str, Any] = (
        {"runtime": {"rollbacks": {"strategy": strategy}}}
        if where == "runtime"
        else {"extensions": [{"name": "gameday", "rollback_strategy": strategy}]}
    )
    gameday.write_runbook("fails", failing_with_undo(undone, **extra))

    run = gameday.run("fails")

    assert run.state is RunState.FAILED
    assert not undone.exists()
    started = next(e for e in gameday.events(run.id) if e.type == "worker_started")
    assert started.payload["rollback_strategy"] == strategy


@pytest.mark.parametrize("status", [200, 503])
def test_http_providers_give_the_same_status_as_chaos_run(
    gameday: Gameday, tmp_path: Path, httpserver: Any, status: int
) -> None:
    httpserver.expect_request("/health").respond_with_data("ok", status=status)
    httpserver.expect_request("/poke", method="POST").respond_with_data("poked")
    doc = experiment(
        probes=[{"type": "probe", "name": "healthy", "tolerance": 200,
                 "provider": {"type": "http", "url": httpserver.url_for("/health")}}],
        method=[{"type": "action", "name": "poke",
                 "provider": {"type": "http", "method": "POST",
                              "url": httpserver.url_for("/poke")}}],
    )  # fmt: skip
    gameday.write_runbook("http", doc)
    theirs = tmp_path / "theirs"
    theirs.mkdir()

    run = gameday.run("http")

    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert chaos_status(journal) == chaos_run(doc, theirs)
    assert run.state is RunState.COMPLETED  # a steady state not met *before* is not a failure
    pokes = [r for r, _ in httpserver.log if r.path == "/poke"]
    assert len(pokes) == (2 if status == 200 else 0)  # once by gameday, once by chaos
