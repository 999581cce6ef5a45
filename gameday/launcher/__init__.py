"""The `gameday` console script: `gameday run` in a warm launcher when one is up, every
other command (and a run when none is, or with GAMEDAY_WARM_RUNS=false) in this process.

A run started cold pays a Python start and the import of chaoslib, SQLAlchemy, pydantic
and typer (about 0.5 s of 0.65 s); a launcher has imported them once and forks a process
per run that is the `gameday run` command in all but its pid (see
gameday.launcher.server). This module imports nothing heavy: it runs on every start.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Entry point of `gameday` and `python -m gameday`."""
    from gameday.launcher import protocol

    argv = sys.argv[1:]
    if (
        protocol.command_of(argv) in protocol.WARM_COMMANDS
        and protocol.warm_runs_enabled(os.environ)
        and sys.platform.startswith("linux")  # SOCK_SEQPACKET, SO_PEERCRED, pidfd
    ):
        from gameday.launcher.client import run_warm

        try:
            code = run_warm(argv)
        except KeyboardInterrupt:  # before the launcher took it: nothing ran
            sys.exit(130)
        if code is not None:
            sys.exit(code)
    from gameday.cli import main as run_here

    run_here()
