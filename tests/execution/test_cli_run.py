"""`gameday run RUNBOOK` end to end: the real CLI, the real worker, a real database."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.execution.conftest import REPO, experiment, python_activity, sqlite_copy
from tests.execution.launcher import Launcher, launch_env
from tests.support import run_gameday


@pytest.fixture
def db_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: these tests are about the command; the other tests cover both
    databases."""
    return sqlite_copy(tmp_path, _sqlite_template)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    return home


def gameday(
    home: Path, db_url: str, *args: str, launched: Launcher | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PYTHONPATH": str(REPO),
        "GAMEDAY_DATABASE_URL": db_url,
        "GAMEDAY_CHAOSTOOLKIT_SETTINGS": str(home / "none.yaml"),
        **launch_env(launched),
    }
    return run_gameday("--home", home, "run", *args, env=env)


def write(home: Path, name: str, doc: dict[str, Any]) -> None:
    (home / "runbooks" / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")


def shape(home: Path, outcome: str) -> dict[str, Any]:
    marker = home / "healthy"
    marker.touch()
    healthy = python_activity("probe", "healthy", "exists", tolerance=True, path=str(marker))
    if outcome == "failed":
        healthy = python_activity("probe", "healthy", "broken", tolerance=True)
    action = "remove" if outcome == "deviated" else "touch"
    return experiment(
        probes=[healthy], method=[python_activity("action", "act", action, path=str(marker))]
    )


@pytest.mark.parametrize(("outcome", "code"), [("completed", 0), ("deviated", 1), ("failed", 1)])
def test_exit_code_and_json_follow_the_outcome(
    home: Path, db_url: str, outcome: str, code: int, launched: Launcher | None
) -> None:
    write(home, "check", shape(home, outcome))

    served = len(launched.handlers()) if launched is not None else 0
    done = gameday(home, db_url, "check", "--live", "--json", launched=launched)

    assert done.returncode == code, done.stderr
    if launched is not None:  # it ran there, not here
        assert len(launched.handlers()) == served + 1, launched.log()
    summary = json.loads(done.stdout)
    assert summary["state"] == outcome
    assert summary["chaos_status"] == outcome
    assert summary["dry_run"] is False
    assert summary["requester"].startswith("cli:")


def test_dry_run_by_default_shows_progress(
    home: Path, db_url: str, launched: Launcher | None
) -> None:
    poked = home / "poked"
    write(
        home,
        "poke",
        experiment(method=[python_activity("action", "poke it", "touch", path=str(poked))]),
    )

    done = gameday(home, db_url, "poke", launched=launched)

    assert done.returncode == 0, done.stderr
    assert "poke it" in done.stdout
    assert "dry run" in done.stdout
    assert not poked.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing"], "no runbook 'missing'"),
        (["broken"], "broken.json"),
        (["poke", "--var", "n:nope=1"], "--var 'n:nope=1'"),
    ],
)
def test_bad_input_is_one_line_and_runs_nothing(
    home: Path, db_url: str, args: list[str], message: str, launched: Launcher | None
) -> None:
    write(
        home,
        "poke",
        experiment(
            method=[python_activity("action", "poke it", "touch", path=str(home / "poked"))]
        ),
    )
    (home / "runbooks" / "broken.json").write_text('{"title": "no method"}', encoding="utf-8")

    done = gameday(home, db_url, *args, launched=launched)

    assert done.returncode in (1, 2)
    assert done.stdout == ""
    assert done.stderr.startswith("gameday: error: ")
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (home / "poked").exists()
