"""Small homes in tmp_path and a way to run the real `gameday` entry point in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import NOOP_RUNBOOK, CliResult, run_main

HomeFactory = Callable[..., Path]
Cli = Callable[..., CliResult]


@pytest.fixture
def make_home(tmp_path: Path) -> HomeFactory:
    """Write a home: the YAML documents go to schedules/test.yaml, plus runbooks/noop.yaml."""

    def build(*documents: str) -> Path:
        home = tmp_path / "home"
        (home / "runbooks").mkdir(parents=True, exist_ok=True)
        (home / "schedules").mkdir(exist_ok=True)
        (home / "runbooks" / "noop.yaml").write_text(NOOP_RUNBOOK, encoding="utf-8")
        text = "\n---\n".join(doc.strip() for doc in documents) + "\n"
        (home / "schedules" / "test.yaml").write_text(text, encoding="utf-8")
        return home

    return build


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., CliResult]:
    """Run the console script's `main()` with argv; returns exit code, stdout and stderr."""

    def run(*args: str | Path) -> CliResult:
        monkeypatch.setenv("COLUMNS", "200")
        return run_main(monkeypatch, capsys, *args)

    return run


def window_yaml(
    *,
    name: str = "w",
    timezone: str,
    weekdays: str = "[mon, tue, wed, thu, fri, sat, sun]",
    hours: str | None = None,
    holidays: str | None = None,
    blackouts: str | None = None,
) -> str:
    """A `kind: window` document."""
    lines = [
        "kind: window",
        f"name: {name}",
        f"timezone: {timezone}",
        f"weekdays: {weekdays}",
    ]
    if hours:
        lines.append(f'hours: "{hours}"')
    if holidays:
        lines.append(f"holidays: {holidays}")
    if blackouts:
        lines.append(f"blackouts: {blackouts}")
    return "\n".join(lines)


def gameday_yaml(name: str, *, cron: str | None = None, at: str | None = None, **extra: str) -> str:
    """A `kind: gameday` document running the no-op runbook."""
    lines = ["kind: gameday", f"name: {name}", "runbook: runbooks/noop.yaml"]
    if cron:
        lines.append(f'cron: "{cron}"')
    if at:
        lines.append(f"at: {at}")
    lines.extend(f"{key}: {value}" for key, value in extra.items())
    return "\n".join(lines)


def monkey_yaml(name: str, *, window: str = "w", **extra: str) -> str:
    """A `kind: monkey` document over namespace `shop`."""
    lines = [
        "kind: monkey",
        f"name: {name}",
        f"window: {window}",
        "targets: {namespaces: [shop]}",
    ]
    lines.extend(f"{key}: {value}" for key, value in extra.items())
    return "\n".join(lines)
