"""The `gameday` command line: thin commands that parse input, call a service, render.

Each area of commands lives in its own module and is attached in `_register()`; errors
derived from GamedayError become one line on stderr and a non-zero exit (a traceback
only with --debug).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gameday.cli.context import CliState, state_from
from gameday.domain.errors import GamedayError

app = typer.Typer(
    name="gameday",
    help="Safe, routine chaos engineering: GameDays and Chaos-Monkey kills inside safety windows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Docstrings are wrapped paragraphs: markdown joins their lines, as a reader expects.
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"gameday {version('gameday')}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    home: Path = typer.Option(
        None,
        "--home",
        envvar="GAMEDAY_HOME",
        help="Folder holding runbooks/ and schedules/ (default: the current directory).",
        file_okay=False,
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    version: bool = typer.Option(
        False,
        "--version",
        help="Print gameday's version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """Safe, routine chaos engineering: GameDays and Chaos-Monkey kills inside safety windows."""
    ctx.obj = CliState(home=(home or Path.cwd()).resolve(), debug=debug)


def _register() -> None:
    # Explicit registration, no import-time side effects elsewhere: each module exposes
    # `register(app)`.
    from gameday.cli import (
        commands_control,
        commands_db,
        commands_drills,
        commands_gates,
        commands_journal,
        commands_monkey,
        commands_plan,
        commands_report,
        commands_run,
        commands_runs,
        commands_serve,
        commands_specs,
    )

    for module in (
        commands_specs,
        commands_plan,
        commands_runs,
        commands_control,
        commands_journal,
        commands_report,
        commands_drills,
        commands_monkey,
        commands_gates,
        commands_run,
        commands_serve,
        commands_db,
    ):
        module.register(app)


_register()


def main() -> None:
    """Entry point of the `gameday` console script (and of `python -m gameday`)."""
    _main()


def _main() -> None:
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except GamedayError as exc:
        if "--debug" in sys.argv:
            raise
        typer.echo(f"gameday: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # click usage errors and the like
        if _is_click_error(exc):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if "--debug" in sys.argv:
            raise
        typer.echo(f"gameday: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(70)


def _is_click_error(exc: Exception) -> bool:
    # typer 0.29 and later raise their own copy of click's exceptions (typer._click) and do
    # not install click; earlier versions raise click's. Whichever raised is imported
    # already, so look it up rather than import a package that may not be installed.
    for name in ("typer._click.exceptions", "click.exceptions"):
        module = sys.modules.get(name)
        if module is not None and isinstance(exc, module.ClickException):
            return True
    return False


__all__ = ["CliState", "app", "main", "state_from"]
