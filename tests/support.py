"""Helpers several test areas share: running the `gameday` command (in-process or as its
own process) and the smallest valid runbook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gameday.cli import main

# A Chaos Toolkit experiment that changes nothing: its steady state is `true` succeeding.
STEADY_STATE_ONLY = """\
steady-state-hypothesis:
  title: Always fine
  probes:
    - type: probe
      name: true-probe
      tolerance: 0
      provider:
        type: process
        path: "true"
method: []
"""


def noop_runbook(
    title: str = "Nothing happens",
    description: str = "A runbook that only checks a steady state.",
    extra: str = "",
) -> str:
    """A valid runbook (YAML) that only checks a steady state; `extra` YAML follows it."""
    return f"title: {title}\ndescription: {description}\n{STEADY_STATE_ONLY}{extra}"


NOOP_RUNBOOK = noop_runbook()


@dataclass(frozen=True)
class CliResult:
    """Exit status and both output streams of one `gameday ...` command."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON (it must hold nothing else)."""
        return json.loads(self.out)


def exit_status(done: SystemExit) -> int:
    """The status the process would exit with: None is 0, a message is 1."""
    if done.code is None:
        return 0
    return done.code if isinstance(done.code, int) else 1


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> CliResult:
    """Run the console script's `main()` in-process as `gameday ARGS...`."""
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["gameday", *(str(a) for a in args)])
    code = 0
    try:
        main()
    except SystemExit as done:
        code = exit_status(done)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def run_gameday(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m gameday ARGS...` as its own process (environment: this one's plus
    `env`); never raises for a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "gameday", *(str(a) for a in args)],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
