"""CLI commands about runs: history, journals, the kill switch, pauses, notes, migrations."""

from __future__ import annotations

import getpass
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from gameday.cli.context import print_json, state_from
from gameday.domain.errors import InvalidInput
from gameday.domain.runs import RunEvent

if TYPE_CHECKING:
    # Loaded inside the commands: settings (pydantic), services and rich cost start-up
    # that every command would pay.
    from rich.console import Console

    from gameday.adapters.db import Database
    from gameday.settings import Settings

journal_app = typer.Typer(help="Read the journal of a run.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the gameday database schema.", no_args_is_help=True)


def cli_actor() -> str:
    """Who acts from this terminal: `cli:<os user>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user database entry and no LOGNAME/USER
        return "cli:unknown"


def _settings(ctx: typer.Context) -> Settings:
    from gameday.wiring import settings_for

    return settings_for(state_from(ctx).home)


@contextmanager
def _database(ctx: typer.Context, *, upgrade: bool = True) -> Iterator[Database]:
    from gameday.wiring import database_for

    db = database_for(_settings(ctx), upgrade=upgrade)
    try:
        yield db
    finally:
        db.close()


def _zone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"GAMEDAY_TIMEZONE {settings.timezone!r} is not a known time zone"
        ) from None


def _when(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def _out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


# -- history and journals ------------------------------------------------------------------


def history_command(
    ctx: typer.Context,
    schedule: str = typer.Option(None, "--schedule", help="Only runs of this schedule."),
    state: str = typer.Option(None, "--state", help="Only runs in this state (e.g. skipped)."),
    limit: int = typer.Option(50, "--limit", help="At most this many runs (1-1000)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of runs."),
) -> None:
    """List runs, newest planned time first."""
    from rich.table import Table

    from gameday.services.history import history, parse_state, run_dict

    wanted = parse_state(state) if state is not None else None
    settings = _settings(ctx)
    zone = _zone(settings)
    with _database(ctx) as db:
        runs = history(db.runs, schedule=schedule, state=wanted, limit=limit)
    if as_json:
        print_json([run_dict(r) for r in runs])
        return
    if not runs:
        typer.echo("no runs match" if schedule or wanted else "no runs recorded yet")
        return
    table = Table("id", "schedule", "kind", "planned at", "state", "dry run")
    for run in runs:
        table.add_row(
            str(run.id),
            run.schedule or f"(ad hoc: {run.runbook or '-'})",
            run.kind.value,
            _when(run.planned_at, zone),
            run.state.value,
            "yes" if run.dry_run else "LIVE",
        )
    _out().print(table)


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

    zone = _zone(_settings(ctx))
    with _database(ctx) as db:
        journal = journal_of(db.runs, run_id)
    if as_json:
        print_json(journal_dict(journal))
        return
    run = journal.run
    out = _out()
    out.print(f"run {run.id}: {run.kind.value} {run.schedule or '(ad hoc)'} — {run.state.value}")
    out.print(f"  planned at  {_when(run.planned_at, zone)}")
    out.print(f"  runbook     {run.runbook or '-'}  {run.runbook_digest or ''}".rstrip())
    out.print(f"  dry run     {'yes' if run.dry_run else 'no (LIVE)'}   seed {run.seed}")
    if run.requester:
        out.print(f"  requester   {run.requester}")
    events = Table("seq", "at", "type", "actor", "details", title="events")
    for event in journal.events:
        events.add_row(
            str(event.seq), _when(event.at, zone), event.type, event.actor, _details(event)
        )
    out.print(events)
    if journal.approvals:
        approvals = Table("user", "decision", "at", title="approvals")
        for a in journal.approvals:
            approvals.add_row(a.user, a.decision.value, _when(a.at, zone))
        out.print(approvals)
    if journal.notes:
        notes = Table("at", "author", "note", title="notes")
        for n in journal.notes:
            notes.add_row(_when(n.at, zone), n.author, n.text)
        out.print(notes)
    chaos = journal.chaos_journal
    status = f"stored (status: {chaos.get('status', '?')})" if chaos is not None else "none"
    out.print(f"Chaos Toolkit journal: {status}")


# -- controls ---------------------------------------------------------------------------------


def halt_command(
    ctx: typer.Context,
    reason: str = typer.Option(None, "--reason", help="Why (shown to everyone)."),
) -> None:
    """Engage the kill switch and halt running runs (their rollbacks run).

    Nothing new starts until `gameday resume`. A second halt hard-stops runs still
    rolling back; each halted run is recorded either way.
    """
    from gameday.services import control as control_service
    from gameday.services import halting
    from gameday.wiring import workers_for

    settings = _settings(ctx)
    actor = cli_actor()
    with _database(ctx) as db:
        change = control_service.halt(db.control, actor=actor, reason=reason)
        verb = "engaged" if change.changed else "was already engaged"
        typer.echo(f"kill switch {verb}: {change.kill_switch.reason}")
        results = halting.halt_running(
            db.runs,
            workers_for(settings),
            actor=actor,
            reason=change.kill_switch.reason or "kill switch",
        )
    for result in results:
        typer.echo(f"run {result.run_id}: {result.action}, now {result.state.value}")


def resume_command(ctx: typer.Context) -> None:
    """Release the kill switch: scheduled runs may start again."""
    from gameday.services import control as control_service

    with _database(ctx) as db:
        change = control_service.resume(db.control, actor=cli_actor())
    typer.echo("kill switch released" if change.changed else "kill switch was not engaged")


def _known_schedules(ctx: typer.Context) -> Collection[str] | None:
    # Only a clean catalog can tell a typo from a schedule whose spec is broken right now.
    from gameday.wiring import load_catalog

    loaded = load_catalog(state_from(ctx).home)
    if loaded.errors:
        typer.echo("gameday: warning: specs have errors; schedule name not checked", err=True)
        return None
    return {*loaded.catalog.monkeys, *loaded.catalog.gamedays}


def pause_command(
    ctx: typer.Context, schedule: str = typer.Argument(..., help="Schedule name.")
) -> None:
    """Pause a schedule: its runs are skipped until `gameday unpause`."""
    from gameday.services import control as control_service

    known = _known_schedules(ctx)
    with _database(ctx) as db:
        changed = control_service.pause(db.control, schedule, actor=cli_actor(), known=known)
    typer.echo(f"paused {schedule}" if changed else f"{schedule} was already paused")


def unpause_command(
    ctx: typer.Context, schedule: str = typer.Argument(..., help="Schedule name.")
) -> None:
    """Let a paused schedule run again."""
    from gameday.services import control as control_service

    known = _known_schedules(ctx)
    with _database(ctx) as db:
        changed = control_service.unpause(db.control, schedule, actor=cli_actor(), known=known)
    typer.echo(f"unpaused {schedule}" if changed else f"{schedule} was not paused")


def note_command(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., help="The run's id."),
    text: list[str] = typer.Argument(..., help="The note (several words are joined)."),
) -> None:
    """Add a note to a run's journal."""
    from gameday.services import control as control_service

    with _database(ctx) as db:
        note = control_service.add_note(db.runs, run_id, author=cli_actor(), text=" ".join(text))
    typer.echo(f"noted on run {note.run_id}")


# -- database ---------------------------------------------------------------------------------


def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (the service also does this when it starts)."""
    with _database(ctx, upgrade=False) as db:
        before, after = db.upgrade()
        url = db.url
    if before == after:
        typer.echo(f"database {url} is already at revision {after}")
    else:
        typer.echo(f"database {url} upgraded from {before or '(empty)'} to {after}")


def db_current(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print {url, revision, head}."),
) -> None:
    """Show the database's schema revision and the newest one this gameday knows."""
    with _database(ctx, upgrade=False) as db:
        data: dict[str, Any] = {
            "url": db.url,
            "revision": db.revision(),
            "head": db.head_revision(),
        }
    if as_json:
        print_json(data)
        return
    state = "up to date" if data["revision"] == data["head"] else "run `gameday db upgrade`"
    typer.echo(
        f"database {data['url']} at revision {data['revision'] or '(empty)'}; "
        f"newest known {data['head']} ({state})"
    )


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.command("history")(history_command)
    journal_app.command("show")(journal_show)
    app.add_typer(journal_app, name="journal")
    app.command("halt")(halt_command)
    app.command("resume")(resume_command)
    app.command("pause")(pause_command)
    app.command("unpause")(unpause_command)
    app.command("note")(note_command)
    db_app.command("upgrade")(db_upgrade)
    db_app.command("current")(db_current)
    app.add_typer(db_app, name="db")
