"""`gameday serve`: the long-running service (scheduler, workers, Slack, health, metrics)."""

from __future__ import annotations

import logging
import signal
import threading
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING

import typer

from gameday.cli.context import state_from

if TYPE_CHECKING:
    from pydantic import SecretStr

log = logging.getLogger("gameday.serve")


def register(app: typer.Typer) -> None:
    """Attach `serve` to the root app."""
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    port: int = typer.Option(None, "--port", help="HTTP port (default 8080, GAMEDAY_PORT)."),
    host: str = typer.Option(
        None, "--host", help="Address to listen on (default 127.0.0.1, GAMEDAY_HOST)."
    ),
    live: bool = typer.Option(
        False, "--live", help="Send mutating requests to the cluster; dry run otherwise."
    ),
    json_logs: bool = typer.Option(
        None, "--json-logs/--human-logs", help="Log format (default: JSON unless on a TTY)."
    ),
) -> None:
    """Run the service: plan and run the schedules unattended, serve Slack and health.

    SIGHUP re-reads the specs and applies only the differences (invalid specs: the old plan
    is kept); SIGTERM or Ctrl-C lets running runs finish (GAMEDAY_SHUTDOWN_GRACE seconds),
    halts the rest with rollbacks, flushes the outbox, releases leadership and exits 0.

    Exit codes: 0 stopped cleanly; 2 invalid specs or settings (every problem listed);
    3 the database cannot be opened or the port is in use; 4 another serve already uses
    this SQLite database.
    """
    from gameday.adapters.observability.logs import configure_logging
    from gameday.domain.errors import Unavailable
    from gameday.services.service_plan import SpecsInvalid
    from gameday.web.app import Site, create_app
    from gameday.web.server import HttpServer
    from gameday.wiring import secret_mask_for, settings_for
    from gameday.wiring.service import build_service

    configure_logging(json_logs=json_logs)
    settings = settings_for(state_from(ctx).home)
    updates: dict[str, object] = {}
    if port is not None:
        updates["port"] = port
    if host is not None:
        updates["host"] = host
    if live:
        updates["live"] = True
    settings = settings.model_copy(update=updates)

    # Signals are caught from the first moment: a SIGHUP from a deploy tool racing the start
    # must not kill the process (its default action), and a SIGTERM stops it once started.
    stop = threading.Event()
    reload = threading.Event()

    def on_term(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    def on_hup(_signum: int, _frame: FrameType | None) -> None:
        reload.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_hup)

    service = build_service(settings)
    d = service.description
    log.info(
        "gameday serve: database %s; notifier %s; %s; leader election %s",
        d["database"],
        d["notifier"],
        d["mode"].upper() if d["mode"] == "live" else d["mode"] + " (no mutating request)",
        d["leader_election"],
        extra={k: v for k, v in d.items()},
    )
    entrances = service.entrances
    token = settings.halt_token.get_secret_value() if settings.halt_token else None
    site = None
    if entrances.pages is not None:
        site = Site.of(
            entrances.pages,
            timezone=settings.timezone,
            public_url=settings.public_url,
            web_token=_secret(settings.web_token),
            mask_for=partial(secret_mask_for, settings),
        )
    app = create_app(
        service.health,
        service.metrics.exposition,
        slack=entrances.slack_wsgi,
        halt=entrances.halt,
        halt_token=token,
        site=site,
        metrics_token=_secret(settings.metrics_token),
        alerts=entrances.alerts,
        alerts_token=_secret(settings.alerts_token),
    )
    # Listen before anything is scheduled: a port in use must stop the start, not a
    # service that already leads.
    try:
        server = HttpServer(app, host=settings.host, port=settings.port)
    except OSError as exc:
        service.stop(grace=0)
        raise Unavailable(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
        ) from None
    try:
        service.start()
    except SpecsInvalid as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        server.stop()
        service.stop(grace=0)
        raise
    log.info(
        "listening on %s (/healthz, /readyz, /metrics%s%s%s%s)",
        server.url,
        ", /slack/events" if entrances.slack_wsgi else "",
        ", POST /halt" if token else "",
        ", POST /alerts" if entrances.alerts else "",
        ", pages and /calendar.ics" + (" (token required)" if settings.web_token else "")
        if site is not None
        else "",
    )
    if entrances.slack_socket is not None:
        entrances.slack_socket.connect()

    while not stop.wait(0.2):
        if reload.is_set():
            reload.clear()
            service.reload()
    service.stop(grace=settings.shutdown_grace)
    if entrances.slack_socket is not None:
        entrances.slack_socket.close()
    server.stop()


def _secret(value: SecretStr | None) -> str | None:
    """The secret's text; None when unset or empty (an empty token would open the door)."""
    return value.get_secret_value() or None if value is not None else None
