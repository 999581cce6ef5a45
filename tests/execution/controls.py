"""A Chaos Toolkit control the test runbooks declare: it leaves a line in a file each time
chaoslib calls it, so a test can tell whether controls ran (a dry run must run none)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _mark(path: str, what: str) -> None:
    with Path(path).open("a", encoding="utf-8") as f:
        f.write(what + "\n")


def configure_control(path: str) -> None:
    """Called once when the experiment's controls are initialised."""
    _mark(path, "configured")


def before_experiment_control(context: Any, path: str, **_: Any) -> None:
    """Called before the experiment starts."""
    _mark(path, "before_experiment")


def before_activity_control(context: Any, path: str, **_: Any) -> None:
    """Called before each activity."""
    _mark(path, f"before_activity {context.get('name')}")


def after_activity_control(context: Any, state: Any, path: str, **_: Any) -> None:
    """Called after each activity, with its run."""
    _mark(path, f"after_activity {context.get('name')} {state.get('status')}")


def after_experiment_control(context: Any, state: Any, path: str, **_: Any) -> None:
    """Called after the experiment, with its journal."""
    _mark(path, f"after_experiment {state.get('status')} deviated={state.get('deviated')}")
