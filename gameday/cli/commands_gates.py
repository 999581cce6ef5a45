"""`gameday gates NAME`: evaluate the health gates of a schedule or runbook now."""

from __future__ import annotations

import sys

import typer

from gameday.cli.context import console, print_json, state_from


def gates_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A schedule or runbook name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Evaluate the health gates of a schedule or runbook now (the default gates included).

    Exits 0 when every gate passes (or there are none), 1 when any fails, 2 when there is
    no such schedule or runbook or the specs are invalid.
    """
    from gameday import wiring
    from gameday.domain.errors import InvalidInput, NotFound

    settings = wiring.settings_for(state_from(ctx).home)
    catalog = wiring.load_catalog(settings.home).require_valid()
    database = wiring.database_for(settings)
    try:
        keeper = wiring.gatekeeper_for(database, lambda: catalog, actor="cli")
        try:
            gates = keeper.gates_named(name)
        except NotFound as exc:  # not 1: that says a gate failed
            raise InvalidInput(str(exc)) from None
        results = keeper.evaluate(gates, retry=False)
    finally:
        database.close()
    failed = any(not r.passed for r in results)
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"{len(results)} gate(s) of {escape(name)}")
        for column in ("gate", "result", "observed", "reason", "latency"):
            table.add_column(column)
        for r in results:
            mark = "[green]pass[/]" if r.passed else "[red]FAIL[/]"
            table.add_row(
                escape(r.gate),
                mark,
                escape(r.observed),
                escape(r.reason),
                f"{r.latency_ms:.0f} ms",
            )
        console().print(table if results else f"{escape(name)} has no gates")
    sys.exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    """Attach `gates` to the root app."""
    app.command("gates")(gates_command)
