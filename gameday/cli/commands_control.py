"""The kill switch and pauses from a terminal: `halt`, `resume`, `pause`, `unpause`."""

from __future__ import annotations

from collections.abc import Collection

import typer

from gameday.cli.context import (
    cli_actor,
    database_of,
    settings_of,
    state_from,
)


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

    settings = settings_of(ctx)
    actor = cli_actor()
    with database_of(ctx) as db:
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

    with database_of(ctx) as db:
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
    with database_of(ctx) as db:
        changed = control_service.pause(db.control, schedule, actor=cli_actor(), known=known)
    typer.echo(f"paused {schedule}" if changed else f"{schedule} was already paused")


def unpause_command(
    ctx: typer.Context, schedule: str = typer.Argument(..., help="Schedule name.")
) -> None:
    """Let a paused schedule run again."""
    from gameday.services import control as control_service

    known = _known_schedules(ctx)
    with database_of(ctx) as db:
        changed = control_service.unpause(db.control, schedule, actor=cli_actor(), known=known)
    typer.echo(f"unpaused {schedule}" if changed else f"{schedule} was not paused")


def register(app: typer.Typer) -> None:
    """Attach the kill switch and pause commands to the root app."""
    app.command("halt")(halt_command)
    app.command("resume")(resume_command)
    app.command("pause")(pause_command)
    app.command("unpause")(unpause_command)
