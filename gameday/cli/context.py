"""State shared by all CLI commands (the home folder, debug flag) and output helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer


@dataclass(frozen=True)
class CliState:
    """What the root callback parsed: the home folder and whether to show tracebacks."""

    home: Path
    debug: bool = False


def state_from(ctx: typer.Context) -> CliState:
    """Return the CliState the root callback stored on the click context."""
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, CliState):
        obj = CliState(home=Path.cwd())
    return obj


def print_json(data: Any) -> None:
    """Print JSON only, on stdout, with stable key order and ISO datetimes."""
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
