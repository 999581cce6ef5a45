"""`gameday report`: what chaos engineering did over a period, as Markdown, HTML or JSON."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gameday.cli.context import database_of, settings_of, zone_of
from gameday.cli.output import output_target, write_whole


def report_command(
    ctx: typer.Context,
    since: str = typer.Option(
        "30d", "--since", help="The period: runs planned this long ago until now (30d, 12h, 2w)."
    ),
    schedule: str = typer.Option(None, "--schedule", help="Only runs of this schedule."),
    fmt: str = typer.Option("md", "--format", "-f", help="md, html or json."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write to this file (default: standard output)."
    ),
    as_json: bool = typer.Option(False, "--json", help="The same as --format json."),
) -> None:
    """Report on a period: runs by outcome, deviations found, skips by reason (window,
    holiday, gate, veto, missed, ...), drills with median and p90 time to detect,
    acknowledge and resolve and their trend per runbook, and the most-terminated
    workloads. Times are shown in GAMEDAY_TIMEZONE."""
    # Imported here so `gameday --help` does not load the template stack.
    from gameday.adapters.postmortem.report_render import check_report_format, render_report
    from gameday.domain.clock import SystemClock
    from gameday.services.report import build_report, parse_since

    # Every argument is checked before the database is opened: bad input writes nothing.
    chosen = check_report_format("json" if as_json else fmt)
    period = parse_since(since)
    target = output_target(output)
    zone = zone_of(settings_of(ctx))
    with database_of(ctx) as db:
        report = build_report(db.runs, SystemClock(), since=period, schedule=schedule, zone=zone)
    text = render_report(report, chosen, zone)
    if target is None:
        sys.stdout.write(text)
        return
    write_whole(target, text)
    typer.echo(f"wrote the {chosen} report to {target}", err=True)


def register(app: typer.Typer) -> None:
    """Attach `report` to the root app."""
    app.command("report")(report_command)
