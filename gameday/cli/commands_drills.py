"""`gameday ack RUN_ID` and `gameday resolve RUN_ID [--note TEXT]`: a drill's responders
acting from a terminal, for teams without Slack (see gameday.services.drill_acts)."""

from __future__ import annotations

from typing import Any

import typer

from gameday.cli.context import cli_actor, database_of, print_json, settings_of


def _report(result: Any, as_json: bool) -> None:
    data = {
        "run_id": result.run.id,
        "act": result.act,
        "first": result.first,
        "by": result.by,
        "after_fault_s": result.after_s,
    }
    if as_json:
        print_json(data)
        return
    verb = "acknowledged" if result.act == "ack" else "resolved"
    if result.first:
        after = "" if result.after_s is None else f" {result.after_s:.1f}s after its fault started"
        typer.echo(f"{verb} drill run {result.run.id}{after}")
        if result.act == "resolve":
            typer.echo("its method ends; the steady state is checked and the rollbacks play")
    else:
        typer.echo(f"run {result.run.id} was already {verb} by {result.by}; you are recorded")


def ack_command(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., help="The drill run's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Acknowledge a running drill ("we noticed"); the first ack counts for time to
    acknowledge, later ones are kept as participants."""
    from gameday.wiring import drill_acts_for

    settings = settings_of(ctx)
    with database_of(ctx) as db:
        result = drill_acts_for(settings, db).ack(run_id, actor=cli_actor(), authorise=False)
    _report(result, as_json)


def resolve_command(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., help="The drill run's id."),
    note: str = typer.Option(None, "--note", help="What fixed it (kept in the journal)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Resolve a running drill ("we consider it fixed"): its method ends, the steady state
    after it is checked and the rollbacks play."""
    from gameday.wiring import drill_acts_for

    settings = settings_of(ctx)
    with database_of(ctx) as db:
        acts = drill_acts_for(settings, db)
        result = acts.resolve(run_id, actor=cli_actor(), note=note, authorise=False)
    _report(result, as_json)


def register(app: typer.Typer) -> None:
    """Attach `ack` and `resolve` to the root app."""
    app.command("ack")(ack_command)
    app.command("resolve")(resolve_command)
