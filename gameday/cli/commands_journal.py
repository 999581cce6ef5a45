"""CLI command `gameday journal export`: a run's journal as JSON, or its postmortem."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from gameday.cli.commands_runs import journal_app
from gameday.cli.context import state_from
from gameday.domain.errors import InvalidInput, NotFound


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"GAMEDAY_TIMEZONE {name!r} is not a known time zone") from None


def _target(output: Path | None) -> Path | None:
    """The file to write, checked before anything is read, so a bad path writes nothing."""
    if output is None:
        return None
    target = output.expanduser().absolute()
    if not target.parent.is_dir():
        raise NotFound(f"--output {output}: folder {target.parent} does not exist")
    if target.is_dir():
        raise InvalidInput(f"--output {output} is a folder, not a file")
    return target


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _write(target: Path, text: str) -> None:
    """Replace `target` whole: a temporary file in the same folder, then a rename; the
    file keeps its permissions (a new one gets the usual ones, not mkstemp's 0600)."""
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def journal_export(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., help="The run's id (see `gameday history`)."),
    fmt: str = typer.Option(
        "json",
        "--format",
        "-f",
        help="json: the Chaos Toolkit journal plus a `gameday` section; "
        "markdown or html: the postmortem.",
    ),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write to this file (default: standard output)."
    ),
) -> None:
    """Export a run's journal (JSON) or its postmortem (Markdown, HTML).

    JSON: the Chaos Toolkit journal exactly as stored (`chaos report` reads it) plus a
    `gameday` section: run, approvals, announcements, events, notes.

    Secret values are never written. Postmortem times are in GAMEDAY_TIMEZONE.
    """
    # Imported here so `gameday --help` does not load the database and template stack.
    from gameday.adapters.postmortem.render import check_format, render
    from gameday.services.journal_export import export_document, export_journal
    from gameday.wiring import database_for, secret_mask_for, settings_for

    chosen = check_format(fmt)
    target = _target(output)
    settings = settings_for(state_from(ctx).home)
    zone = _zone(settings.timezone)
    database = database_for(settings)
    try:
        export = export_journal(database.runs, database.outbox, run_id)
    finally:
        database.close()
    mask = secret_mask_for(settings, export.journal.run.runbook)
    text = render(export_document(export, mask=mask), chosen, zone)
    if target is None:
        sys.stdout.write(text)
        return
    _write(target, text)
    typer.echo(f"wrote the {chosen} journal of run {run_id} to {target}", err=True)


def register(app: typer.Typer) -> None:
    """Attach `journal export` to the `gameday journal` group."""
    journal_app.command("export")(journal_export)
