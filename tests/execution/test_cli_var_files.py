"""`gameday run RUNBOOK --var-file FILE`, as `chaos run --var-file` has it, through the real
CLI: JSON, YAML and .env files, recorded in the run's options, secrets kept out of every
record, and a bad file refused in one line before anything is recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.db import Database
from gameday.domain.execution import runbook_digest
from tests.execution.conftest import REPO, experiment, python_activity, sqlite_copy
from tests.execution.test_cli_run import gameday, write
from tests.support import run_gameday

SECRET = "hunter2-from-a-var-file"


@pytest.fixture
def db_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: these tests are about the command."""
    return sqlite_copy(tmp_path, _sqlite_template)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    return home


def greeter(used: Path) -> dict[str, Any]:
    """Writes its configuration and secret (values a var file may replace) to `used`."""
    return experiment(
        configuration={
            "who": "nobody",
            "shell": {"type": "env", "key": "GD_VAR_FILE_SHELL", "default": "unset"},
        },
        secrets={"api": {"token": "placeholder"}},
        method=[
            {
                **python_activity(
                    "action", "greet", "touch", path=str(used), text="${who} ${shell} ${token}"
                ),
                "secrets": ["api"],
            }
        ],
    )


def recorded(db_url: str) -> tuple[list[dict[str, Any]], str]:
    """Every run's events (type and payload) and everything stored, as text."""
    database = Database.open(db_url, upgrade=False)
    try:
        runs = database.runs.list_runs()
        events = [
            {"type": e.type, "payload": dict(e.payload)}
            for run in runs
            for e in database.runs.events(run.id)
        ]
        journals = [database.runs.journal(run.id) for run in runs]
    finally:
        database.close()
    return events, json.dumps(events) + json.dumps(journals)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "vars.json",
            json.dumps({"configuration": {"who": "ann"}, "secrets": {"api": {"token": SECRET}}}),
            f"ann unset {SECRET}",
        ),
        (
            "vars.yaml",
            f"configuration:\n  who: bob\nsecrets:\n  api:\n    token: {SECRET}\n",
            f"bob unset {SECRET}",
        ),
        ("vars.env", "# the shell to use\nGD_VAR_FILE_SHELL=zsh\n\n", "nobody zsh placeholder"),
    ],
    ids=["json", "yaml", "env"],
)
def test_a_var_file_gives_configuration_secrets_or_environment(
    home: Path, db_url: str, tmp_path: Path, name: str, content: str, expected: str
) -> None:
    used = tmp_path / "used"
    write(home, "greet", greeter(used))
    var_file = tmp_path / name
    var_file.write_text(content, encoding="utf-8")

    done = gameday(home, db_url, "greet", "--live", "--json", "--var-file", str(var_file))

    assert done.returncode == 0, done.stderr
    assert used.read_text() == expected + "\n"
    events, everything = recorded(db_url)
    options = next(e["payload"] for e in events if e["type"] == "run_options")
    assert options == {
        "var": [],
        "var_file": [{"path": str(var_file), "digest": runbook_digest(var_file.read_bytes())}],
    }
    logs = "".join(f.read_text() for f in (home / ".gameday").rglob("*.log"))
    assert logs  # the worker's log is there to check
    assert SECRET not in everything + logs


def test_files_apply_in_order_and_var_wins(home: Path, db_url: str, tmp_path: Path) -> None:
    used = tmp_path / "used"
    write(home, "greet", greeter(used))
    first, second = tmp_path / "first.yml", tmp_path / "second.json"
    first.write_text("configuration: {who: first}\n", encoding="utf-8")
    second.write_text('{"configuration": {"who": "second"}}', encoding="utf-8")

    done = gameday(
        home, db_url, "greet", "--live", "--var-file", str(first), "--var-file", str(second)
    )
    assert done.returncode == 0, done.stderr
    assert used.read_text() == "second unset placeholder\n"

    again = gameday(home, db_url, "greet", "--live", "--var-file", str(first), "--var", "who=cli")
    assert again.returncode == 0, again.stderr
    assert used.read_text().splitlines()[-1] == "cli unset placeholder"


def test_a_relative_var_file_is_recorded_with_its_absolute_path(
    home: Path, db_url: str, tmp_path: Path
) -> None:
    write(home, "greet", greeter(tmp_path / "used"))
    (tmp_path / "vars.yaml").write_text("configuration: {who: rel}\n", encoding="utf-8")

    done = run_gameday(
        "--home", home, "run", "greet", "--var-file", "vars.yaml",
        env={"PYTHONPATH": str(REPO), "GAMEDAY_DATABASE_URL": db_url,
             "GAMEDAY_CHAOSTOOLKIT_SETTINGS": "none.yaml"},
        cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    events, _ = recorded(db_url)
    options = next(e["payload"] for e in events if e["type"] == "run_options")
    assert options["var_file"][0]["path"] == str(tmp_path / "vars.yaml")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "cannot read it (No such file or directory)"),
        ("bad.json", '{"configuration": ', "invalid JSON: Expecting value"),
        ("bad.yaml", "configuration: [unclosed\n", "invalid YAML"),
        ("list.yaml", "- who\n", "expected a mapping with 'configuration' and/or 'secrets'"),
        (
            "typo.json",
            '{"configuraton": {"who": "x"}}',
            "unknown key 'configuraton' (did you mean 'configuration'?)",
        ),
        ("scalar.yaml", "configuration: ann\n", "configuration must be a mapping"),
        ("vars.env", "WHO=ann\nexport SHELL zsh\n", ":2: expected NAME=value"),
        ("binary.env", b"\xff\xfe".decode("latin-1"), "not UTF-8 text"),
    ],
    ids=["missing", "json", "yaml", "list", "unknown-key", "not-a-mapping", "env-line", "binary"],
)
def test_a_bad_var_file_is_one_line_and_records_nothing(
    home: Path, db_url: str, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    used = tmp_path / "used"
    write(home, "greet", greeter(used))
    var_file = tmp_path / name
    if content is not None:
        var_file.write_bytes(content.encode("latin-1" if name == "binary.env" else "utf-8"))

    done = gameday(home, db_url, "greet", "--live", "--var-file", str(var_file))

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"gameday: error: --var-file {var_file}")
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert recorded(db_url)[0] == []
    assert not used.exists()
