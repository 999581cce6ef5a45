"""CLI commands: `gameday plan` (when chaos will happen) and `gameday window` (open or not)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from gameday.cli.context import print_json, state_from
from gameday.domain.clock import SystemClock
from gameday.domain.errors import GamedayError, InvalidInput, NotFound

if TYPE_CHECKING:
    # Loaded inside the commands: specs, windows (holidays) and rich cost start-up that
    # every command would pay.
    from rich.table import Table

    from gameday.domain.windows import Window
    from gameday.services.catalog import Catalog, CatalogLoad
    from gameday.services.planning import Plan

_ISO_HINT = "expected ISO 8601 such as 2026-11-02T09:00 or 2026-11-02T09:00+09:00"
# gameday.services.planning.MAX_DAYS, for the help text only (a test keeps them equal);
# the limit itself is checked against MAX_DAYS.
DAYS_LIMIT_SHOWN = 366


def _zone(name: str | None, option: str) -> str | None:
    from gameday.domain.spec_values import check_timezone

    if name is None:
        return None
    try:
        return check_timezone(name)
    except ValueError as exc:
        raise InvalidInput(f"{option}: {exc}") from None


def parse_instant(text: str | None, option: str, zone: tzinfo) -> datetime:
    """An aware instant from ISO 8601 text; without an offset it is read in `zone`.

    Rules: no text means now (whole seconds); the result is UTC.
    """
    if text is None:
        return SystemClock().now().replace(microsecond=0)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option}: invalid time {text!r}: {_ISO_HINT}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _catalog(ctx: typer.Context) -> tuple[Catalog, CatalogLoad]:
    from gameday.wiring import load_catalog

    loaded = load_catalog(state_from(ctx).home)
    return loaded.catalog, loaded


def _refuse_invalid(loaded: CatalogLoad) -> None:
    if not loaded.errors:
        return
    for problem in loaded.errors:
        typer.echo(str(problem), err=True)
    # Exit status 1 like `gameday validate`: the specs are wrong, not the command line.
    raise GamedayError(
        f"the specs have {len(loaded.errors)} error(s) (listed above); nothing planned"
    )


def _when(t: datetime) -> str:
    return t.isoformat(sep=" ")


def _table(result: Plan, zone: str | None) -> Table:
    from rich.table import Table

    where = f"times in {zone}" if zone else "times in each schedule's zone"
    table = Table(title=f"{len(result.occurrences)} occurrence(s), {where}", title_justify="left")
    table.add_column("time", no_wrap=True, min_width=25)
    table.add_column("schedule", overflow="fold")
    table.add_column("kind", min_width=7)
    table.add_column("status", min_width=7)
    table.add_column("reason", overflow="fold", ratio=1)
    for occ in result.occurrences:
        table.add_row(
            _when(occ.shown_in(zone)),
            occ.schedule,
            occ.kind,
            occ.status,
            occ.reason,
            style="dim" if occ.status == "skipped" else None,
        )
    return table


def _summary(result: Plan, zone: str | None) -> str:
    shown = ZoneInfo(zone or "UTC")
    return (
        f"{result.count('planned')} planned, {result.count('skipped')} skipped "
        f"from {result.start.astimezone(shown).isoformat()} "
        f"to {result.end.astimezone(shown).isoformat()}; "
        f"seed {result.seed} (repeat this plan with --seed {result.seed})"
    )


def plan(
    ctx: typer.Context,
    start: str = typer.Option(
        None,
        "--from",
        help="Start of the horizon, ISO 8601; without an offset it is read in --tz, else UTC "
        "(default: now).",
        show_default=False,
    ),
    days: int = typer.Option(
        7, "--days", help=f"Length of the horizon in days (1..{DAYS_LIMIT_SHOWN})."
    ),
    seed: int = typer.Option(
        None,
        "--seed",
        help="Seed for the monkeys' random kill times; the same seed gives the same plan "
        "(default: a fresh one, printed with the plan).",
        show_default=False,
    ),
    tz: str = typer.Option(
        None,
        "--tz",
        help="Show times in this IANA zone (default: each schedule's own zone).",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print a JSON list of {schedule, kind, at, at_utc, timezone, status, reason, "
        "window, runbook} on stdout (`at` in the display zone with its offset, `at_utc` in "
        "UTC); the summary with the seed goes to stderr.",
    ),
) -> None:
    """Show when chaos will happen: GameDays and monkey kills over the next days.

    A GameDay outside its window is listed as skipped, with the window's reason.

    Monkey kill times are random (Chaos Monkey style) but reproducible from the seed.

    Refuses to plan (exit 1) while any spec has an error.
    """
    from gameday.services.planning import MAX_DAYS, draw_seed
    from gameday.services.planning import plan as make_plan

    zone = _zone(tz, "--tz")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"--days: must be between 1 and {MAX_DAYS}, got {days}")
    begin = parse_instant(start, "--from", ZoneInfo(zone or "UTC"))
    catalog, loaded = _catalog(ctx)
    _refuse_invalid(loaded)
    if seed is None:
        seed = draw_seed(random.SystemRandom())
    result = make_plan(catalog, start=begin, days=days, seed=seed)
    if as_json:
        print_json([occ.as_dict(zone) for occ in result.occurrences])
        typer.echo(_summary(result, zone), err=True)
        return
    from rich.console import Console

    console = Console()
    console.print(_table(result, zone))
    console.print(_summary(result, zone), highlight=False)


def _window_report(window: Window, at: datetime) -> dict[str, object]:
    from gameday.domain.windows import is_open, next_close, next_open

    zone = ZoneInfo(window.timezone)
    status = is_open(window, at)
    opens = next_open(window, at)
    closes = next_close(window, at) if status.open else None
    return {
        "window": window.name,
        "timezone": window.timezone,
        "at": at.astimezone(zone).isoformat(),
        "open": status.open,
        "reason": status.reason,
        "next_open": None if status.open or opens is None else opens.astimezone(zone).isoformat(),
        "next_close": None if closes is None else closes.astimezone(zone).isoformat(),
    }


def window(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The window's name.", show_default=False),
    at: str = typer.Option(
        None,
        "--at",
        help="The instant to check, ISO 8601; without an offset it is read in the window's "
        "zone (default: now).",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print {window, timezone, at, open, reason, next_open, next_close} as JSON.",
    ),
) -> None:
    """Say whether a window is open at an instant and why; when closed, when it opens next."""
    from gameday.domain.windows import SEARCH_DAYS

    catalog, loaded = _catalog(ctx)
    try:
        found = catalog.window(name)
    except NotFound as exc:
        if loaded.errors:
            raise NotFound(f"{exc} (the specs have errors; run `gameday validate`)") from None
        raise
    report = _window_report(found, parse_instant(at, "--at", ZoneInfo(found.timezone)))
    if as_json:
        print_json(report)
        return
    state = "open" if report["open"] else "closed"
    typer.echo(f"{found.name} is {state} at {report['at']} ({found.timezone})")
    typer.echo(str(report["reason"]))
    if report["next_close"]:
        typer.echo(f"closes at {report['next_close']}")
    if not report["open"]:
        upcoming = report["next_open"]
        typer.echo(
            f"next open: {upcoming}" if upcoming else f"next open: not within {SEARCH_DAYS} days"
        )


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.command("plan")(plan)
    app.command("window")(window)
