"""`gameday journal show|export` and `gameday note`: a run's journal read in the terminal,
exported as JSON or as its postmortem, and notes added to it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from gameday.cli.context import (
    cli_actor,
    console,
    database_of,
    print_json,
    settings_of,
    state_from,
    when_in,
    zone_of,
)
from gameday.cli.output import output_target, write_whole
from gameday.domain.errors import InvalidInput
from gameday.domain.runs import RunEvent

journal_app = typer.Typer(help="Read the journal of a run.", no_args_is_help=True)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"GAMEDAY_TIMEZONE {name!r} is not a known time zone") from None


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
    `gameday` section: run, approvals, announcements, events, notes, drill figures.

    HTML: one self-contained file (no JavaScript, nothing loaded from elsewhere) with a
    timeline chart, normal vs injected, drill figures, the runbook's trend, action items
    (notes starting `action:`), participants and the raw journal; Markdown the same with
    tables.

    Secret values are never written. Postmortem times are in GAMEDAY_TIMEZONE.
    """
    # Imported here so `gameday --help` does not load the database and template stack.
    from gameday.adapters.postmortem.render import check_format, render
    from gameday.services.journal_export import export_document, export_journal
    from gameday.services.postmortem_trend import trend_of
    from gameday.wiring import database_for, secret_mask_for, settings_for

    chosen = check_format(fmt)
    target = output_target(output)
    settings = settings_for(state_from(ctx).home)
    zone = _zone(settings.timezone)
    database = database_for(settings)
    try:
        export = export_journal(database.runs, database.outbox, run_id)
        # The runbook's recent runs, for the postmortem's trend (JSON has no trend).
        trend = trend_of(database.runs, export.journal.run, zone) if chosen != "json" else []
    finally:
        database.close()
    mask = secret_mask_for(settings, export.journal.run.runbook)
    text = render(export_document(export, mask=mask), chosen, zone, trend=trend)
    if target is None:
        sys.stdout.write(text)
        return
    write_whole(target, text)
    typer.echo(f"wrote the {chosen} journal of run {run_id} to {target}", err=True)


def _details(event: RunEvent) -> str:
    payload = dict(event.payload)
    if event.type == "state_changed":
        head = f"{payload.pop('from', '?')} -> {payload.pop('to', '?')}"
        reason = payload.pop("reason", "")
        rest = f" {json.dumps(payload, sort_keys=True)}" if payload else ""
        return f"{head}: {reason}{rest}" if reason else head + rest
    return json.dumps(payload, sort_keys=True) if payload else ""


def journal_show(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., help="The run's id (see `gameday history`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole journal as JSON."),
) -> None:
    """Show a run with its events in order, approvals and notes."""
    from rich.table import Table

    from gameday.services.history import journal_dict, journal_of

    zone = zone_of(settings_of(ctx))
    with database_of(ctx) as db:
        journal = journal_of(db.runs, run_id)
    if as_json:
        print_json(journal_dict(journal))
        return
    run = journal.run
    out = console()
    out.print(f"run {run.id}: {run.kind.value} {run.schedule or '(ad hoc)'} — {run.state.value}")
    out.print(f"  planned at  {when_in(run.planned_at, zone)}")
    out.print(f"  runbook     {run.runbook or '-'}  {run.runbook_digest or ''}".rstrip())
    out.print(f"  dry run     {'yes' if run.dry_run else 'no (LIVE)'}   seed {run.seed}")
    if run.requester:
        out.print(f"  requester   {run.requester}")
    events = Table("seq", "at", "type", "actor", "details", title="events")
    for event in journal.events:
        events.add_row(
            str(event.seq), when_in(event.at, zone), event.type, event.actor, _details(event)
        )
    out.print(events)
    if journal.approvals:
        approvals = Table("user", "decision", "at", title="approvals")
        for a in journal.approvals:
            approvals.add_row(a.user, a.decision.value, when_in(a.at, zone))
        out.print(approvals)
    if journal.notes:
        notes = Table("at", "author", "note", title="notes")
        for n in journal.notes:
            notes.add_row(when_in(n.at, zone), n.author, n.text)
        out.print(notes)
    chaos = journal.chaos_journal
    status = f"stored (status: {chaos.get('status', '?')})" if chaos is not None else "none"
    out.print(f"Chaos Toolkit journal: {status}")


def note_command(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., help="The run's id."),
    text: list[str] = typer.Argument(..., help="The note (several words are joined)."),
) -> None:
    """Add a note to a run's journal."""
    from gameday.services import control as control_service

    with database_of(ctx) as db:
        note = control_service.add_note(db.runs, run_id, author=cli_actor(), text=" ".join(text))
    typer.echo(f"noted on run {note.run_id}")


def register(app: typer.Typer) -> None:
    """Attach the `journal` group (show, export) and `note` to the root app."""
    journal_app.command("show")(journal_show)
    journal_app.command("export")(journal_export)
    app.add_typer(journal_app, name="journal")
    app.command("note")(note_command)
