"""`gameday history`: the runs, newest first, filtered."""

from __future__ import annotations

import typer

from gameday.cli.context import (
    console,
    database_of,
    print_json,
    settings_of,
    when_in,
    zone_of,
)


def history_command(
    ctx: typer.Context,
    schedule: str = typer.Option(None, "--schedule", help="Only runs of this schedule."),
    state: str = typer.Option(None, "--state", help="Only runs in this state (e.g. skipped)."),
    limit: int = typer.Option(50, "--limit", help="At most this many runs (1-1000)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of runs."),
) -> None:
    """List runs, newest planned time first."""
    from rich.table import Table

    from gameday.services.history import history, history_json, parse_state

    wanted = parse_state(state) if state is not None else None
    settings = settings_of(ctx)
    zone = zone_of(settings)
    with database_of(ctx) as db:
        runs = history(db.runs, schedule=schedule, state=wanted, limit=limit)
        listed = history_json(db.runs, runs) if as_json else []
    if as_json:
        print_json(listed)
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
            when_in(run.planned_at, zone),
            run.state.value,
            "yes" if run.dry_run else "LIVE",
        )
    console().print(table)


def register(app: typer.Typer) -> None:
    """Attach `history` to the root app."""
    app.command("history")(history_command)
