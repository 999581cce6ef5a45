"""The composition root of the commands that act: `gameday run` (a GameDay through the
run flow, supervised by the command itself) and `gameday monkey --once` (one kill cycle).

With Slack configured, both talk to the team as the service does: a GameDay's start and
outcome go through the outbox (the service delivers them), and a kill's heads-up is
posted at once, with a Veto that works from Slack as well as Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gameday.settings import Settings
from gameday.wiring import database_for, gatekeeper_for, kube_cluster_for, workers_for

if TYPE_CHECKING:
    from gameday.adapters.chaostoolkit.forked import ForkedWorkers
    from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
    from gameday.adapters.db import Database
    from gameday.domain.ports import Clock, Cluster, Notifier, VetoGate
    from gameday.services.catalog import Catalog
    from gameday.services.monkey import MonkeyService
    from gameday.services.run_flow import RunFlow


def forked_workers_for(
    settings: Settings, database: Database | None, *, live: bool
) -> ForkedWorkers:
    """Workers forked from this command, which supervises them (see
    gameday.adapters.chaostoolkit.forked): live only if `live` says so."""
    from functools import partial

    from gameday.adapters.chaostoolkit.forked import ForkedWorkers
    from gameday.wiring import worker_env
    from gameday.wiring.worker import export_cluster, run_forked, run_standby

    export_cluster(settings)
    child_settings = settings.model_copy(update={"live": live})
    return ForkedWorkers(
        home=settings.home,
        database_url=settings.resolved_database_url(),
        live=live,
        env=worker_env(settings),
        child_main=partial(run_forked, child_settings),
        child_standby=partial(run_standby, child_settings),
        # The child opens its own connections; the parent's are forgotten, not closed.
        in_child=_forget(database),
    )


def run_flow_for(
    settings: Settings,
    database: Database,
    catalog: Catalog,
    *,
    live: bool,
    actor: str,
    workers: ProcessWorkers | None = None,
) -> RunFlow:
    """The run flow of `gameday run`: this process supervises the worker (`workers`, one
    may already be on standby); the run is live only if asked to be (`live`)."""
    from gameday.domain.clock import SystemClock
    from gameday.services.briefs import CatalogBriefs
    from gameday.services.live_catalog import LiveCatalog
    from gameday.services.run_flow import FlowOptions, RunFlow
    from gameday.services.run_updates import RecordedBriefs, RunUpdates

    current = LiveCatalog()
    current.replace(catalog, ())
    updates = None
    if settings.slack_bot_token is not None:
        briefs = CatalogBriefs(
            current, default_channel=settings.default_channel, timezone=settings.timezone, live=live
        )
        recorded = RecordedBriefs(
            database.runs, fallback=briefs, default_channel=settings.default_channel
        )
        updates = RunUpdates(recorded, runs=database.runs)
    return RunFlow(
        gates=gatekeeper_for(database, current, actor=actor),
        runs=database.runs,
        control=database.control,
        workers=workers or workers_for(settings, live=live),
        clock=SystemClock(),
        options=FlowOptions(live=live, actor=actor),
        timeout_of=current.timeout_of,
        drill_of=current.drill_of,
        outbox=database.outbox if updates is not None else None,
        updates=updates,
    )


def monkey_service_for(
    settings: Settings,
    *,
    live: bool,
    cluster: Cluster | None = None,
    clock: Clock | None = None,
    veto: VetoGate | None = None,
    catalog: Catalog | None = None,
) -> MonkeyService:
    """The monkey service of `gameday monkey --once`: the cluster, the database, and the
    heads-up and veto in Slack when a bot token is set (else printed here; Ctrl-C vetoes
    either way)."""
    from gameday.adapters.console import ConsoleNotifier, ConsoleVetoGate
    from gameday.adapters.slack.veto import EventVetoGate
    from gameday.domain.clock import SystemClock
    from gameday.services.monkey import MonkeyService

    chosen = clock or SystemClock()
    database = database_for(settings, clock=chosen)
    notifier: Notifier = ConsoleNotifier()
    # A veto recorded in the database (a Slack click) counts as well as Ctrl-C, and the
    # kill switch ends the heads-up at once.
    events = EventVetoGate(database.runs, chosen, control=database.control)
    gate: VetoGate = veto or ConsoleVetoGate(also=events)
    if settings.slack_bot_token is not None:
        from gameday.adapters.slack.app import web_client
        from gameday.adapters.slack.senders import DeliverNow, SlackSender

        client = web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        notifier = DeliverNow(SlackSender(client), database.outbox)
    return MonkeyService(
        cluster=cluster or kube_cluster_for(settings, live=live),
        runs=database.runs,
        control=database.control,
        notifier=notifier,
        veto=gate,
        clock=chosen,
        protected=settings.protected_namespaces(),
        targets=settings.target_namespace_set(),
        own_pod=settings.pod_name,
        live=live,
        default_channel=settings.default_channel,
        gates=None if catalog is None else gatekeeper_for(database, _fixed(catalog)),
    )


def _forget(database: Database | None) -> Callable[[], None]:
    """What a forked child does with this process's database: forget its connections
    without closing them (they belong to the parent)."""
    if database is None:
        return lambda: None
    from functools import partial

    return partial(database.engine.dispose, close=False)


def _fixed(catalog: Catalog) -> Callable[[], Catalog]:
    """The catalog a command loaded, as the source the services ask each time."""
    from gameday.services.live_catalog import LiveCatalog

    current = LiveCatalog()
    current.replace(catalog, ())
    return current
