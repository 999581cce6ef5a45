"""CLI commands: `gameday validate` checks every runbook and schedule of the home."""

from __future__ import annotations

from pathlib import Path

import typer

from gameday.cli.context import print_json, state_from
from gameday.domain.errors import InvalidInput
from gameday.domain.spec_files import SpecError


def _selected(problems: list[SpecError], shown: set[str] | None) -> list[SpecError]:
    return [p for p in problems if shown is None or p.path in shown]


def _locate(path: Path, home: Path) -> Path:
    # A relative PATH is taken from the current directory, else from the home.
    if path.is_absolute() or (Path.cwd() / path).exists():
        return (Path.cwd() / path).absolute()
    return home / path


def validate(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        None,
        help="Files or folders to check (default: runbooks/ and schedules/ of the home).",
        metavar="PATH",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON list of {path, line, col, severity, message}."
    ),
) -> None:
    """Check runbooks and schedules; print each problem as PATH:LINE:COL: message.

    PATHs limit the report to those files; the whole home is read for references.

    Warnings print as PATH:LINE:COL: warning: message. Exit status 1 on any error.
    """
    from gameday.wiring import load_catalog

    home = state_from(ctx).home
    given = [_locate(p, home) for p in paths or []]
    missing = [p for p in given if not p.exists()]
    if missing:
        raise InvalidInput(f"no such file or folder: {missing[0]}")
    if not given and not any((home / sub).is_dir() for sub in ("runbooks", "schedules")):
        raise InvalidInput(f"nothing to validate: {home} has no runbooks/ or schedules/ folder")
    loaded = load_catalog(home, given)
    shown: set[str] | None = None
    if given:
        shown = set()
        for path in given:
            files = [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
            for file in files:
                try:
                    shown.add(file.absolute().relative_to(home).as_posix())
                except ValueError:
                    shown.add(file.absolute().as_posix())
    errors = _selected(loaded.errors, shown)
    warnings = _selected(loaded.warnings, shown)
    problems = sorted([*errors, *warnings])
    if as_json:
        print_json([p.as_dict() for p in problems])
    else:
        for problem in problems:
            typer.echo(str(problem))
        catalog = loaded.catalog
        typer.echo(
            f"{len(errors)} error(s), {len(warnings)} warning(s); "
            f"{len(catalog.windows)} window(s), {len(catalog.monkeys)} monkey(s), "
            f"{len(catalog.gamedays)} gameday(s), {len(catalog.runbooks)} runbook(s) valid",
            err=True,
        )
    if errors:
        # SystemExit, not typer.Exit: the root runs click with standalone_mode=False, where
        # typer.Exit becomes a return value and the process would exit 0.
        raise SystemExit(1)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.command("validate")(validate)
