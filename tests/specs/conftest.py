"""Fixtures for spec tests: a home folder factory and `gameday validate` through the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gameday.cli import app
from tests.support import NOOP_RUNBOOK

REPO = Path(__file__).resolve().parents[2]

WINDOW = """\
kind: window
name: office
timezone: Europe/Berlin
weekdays: [mon, tue, wed, thu, fri]
hours: "09:00-17:00"
"""

RUNBOOK = NOOP_RUNBOOK


@dataclass
class Validated:
    """The outcome of one `gameday validate` run."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def lines(self) -> list[str]:
        """stdout, one problem per line."""
        return self.stdout.splitlines()


def write_files(home: Path, files: Mapping[str, str | bytes]) -> None:
    """Write each file (path relative to `home` -> text or bytes), making its folders."""
    for rel, content in files.items():
        target = home / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def validate_home(home: Path, *args: str) -> Validated:
    """Run `gameday --home HOME validate ARGS...` in-process through the real CLI."""
    result = CliRunner().invoke(app, ["--home", str(home), "validate", *args])
    exc = result.exception
    if isinstance(exc, SystemExit):
        exc = None
    return Validated(result.exit_code, result.stdout, result.stderr, exc)


@pytest.fixture
def make_home(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write files (relative path -> content) into a fresh home holding a valid window
    `office` and a valid runbook `runbooks/noop.yaml` unless the files replace them."""

    def make(files: dict[str, str | bytes]) -> Path:
        home = tmp_path / "home"
        base: dict[str, str | bytes] = {
            "schedules/windows.yaml": WINDOW,
            "runbooks/noop.yaml": RUNBOOK,
        }
        write_files(home, {**base, **files})
        return home

    return make


@pytest.fixture
def validate() -> Callable[..., Validated]:
    """`validate_home`, as a fixture."""
    return validate_home
