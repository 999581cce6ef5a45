"""`gameday db upgrade` and `gameday db current`: the database schema's migrations."""

from __future__ import annotations

from typing import Any

import typer

from gameday.cli.context import (
    database_of,
    print_json,
)

db_app = typer.Typer(help="Manage the gameday database schema.", no_args_is_help=True)


def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (the service also does this when it starts)."""
    with database_of(ctx, upgrade=False) as db:
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
    with database_of(ctx, upgrade=False) as db:
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
    """Attach the `db` group to the root app."""
    db_app.command("upgrade")(db_upgrade)
    db_app.command("current")(db_current)
    app.add_typer(db_app, name="db")
