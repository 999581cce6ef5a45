"""State shared by all CLI commands (the home folder, debug flag), their settings and
database, and output helpers."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from gameday.domain.errors import InvalidInput

if TYPE_CHECKING:
    # Loaded by the commands that need them: settings (pydantic), the database and rich
    # cost start-up that every command would pay.
    from rich.console import Console

    from gameday.adapters.db import Database
    from gameday.settings import Settings


@dataclass(frozen=True)
class CliState:
    """What the root callback parsed: the home folder and whether to show tracebacks."""

    home: Path
    debug: bool = False


def state_from(ctx: typer.Context) -> CliState:
    """Return the CliState the root callback stored on the click context."""
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, CliState):
        obj = CliState(home=Path.cwd())
    return obj


def print_json(data: Any) -> None:
    """Print JSON only, on stdout, with stable key order and ISO datetimes."""
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def cli_actor() -> str:
    """Who acts from this terminal: `cli:<os user>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user database entry and no LOGNAME/USER
        return "cli:unknown"


def settings_of(ctx: typer.Context) -> Settings:
    """The settings for the home folder the root command resolved."""
    from gameday.wiring import settings_for

    return settings_for(state_from(ctx).home)


@contextmanager
def database_of(ctx: typer.Context, *, upgrade: bool = True) -> Iterator[Database]:
    """The database of these settings, opened for one command and closed after it."""
    from gameday.wiring import database_for

    db = database_for(settings_of(ctx), upgrade=upgrade)
    try:
        yield db
    finally:
        db.close()


def zone_of(settings: Settings) -> ZoneInfo:
    """The zone times are shown in (GAMEDAY_TIMEZONE); InvalidInput when unknown."""
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"GAMEDAY_TIMEZONE {settings.timezone!r} is not a known time zone"
        ) from None


def when_in(at: datetime, zone: ZoneInfo) -> str:
    """An instant in `zone`, to the second."""
    return at.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def console() -> Console:
    """A rich console for tables (loaded only by commands that print them)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)
