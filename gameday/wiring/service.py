"""The composition root of `gameday serve`: the database (migrated), leader election, the
live catalog and its plan, the scheduler, the run flow (GameDay workers and monkey kills),
Slack or the console, metrics and health. It only constructs; `Service` runs it all."""

from __future__ import annotations

import os
import random
import socket
from datetime import timedelta
from functools import partial
from pathlib import Path

from gameday.adapters.scheduling.leader import Elector
from gameday.application.service import Entrances, Service, ServiceHooks
from gameday.domain.errors import InvalidInput
from gameday.domain.ports import Clock
from gameday.settings import Settings
from gameday.wiring import (
    database_for,
    gatekeeper_for,
    kube_cluster_for,
    load_catalog,
    workers_for,
)
from gameday.wiring.slack import slack_for


def build_service(settings: Settings, *, clock: Clock | None = None) -> Service:
    """Everything `gameday serve` runs, from one place.

    Rules: on SQLite the file lock is taken before anything else, so a second serve on the
    same file refuses at once (AlreadyServing, naming the file and the holder's pid); the
    specs are only read by `Service.start()` (SpecsInvalid lists every error).
    """
    from gameday.adapters.console import ConsoleNotifier
    from gameday.adapters.kubernetes.lazy import LazyCluster
    from gameday.adapters.observability.health import Health
    from gameday.adapters.observability.metrics import Metrics
    from gameday.adapters.scheduling.queue import ApschedulerQueue
    from gameday.adapters.scheduling.starter import ThreadedStarter
    from gameday.adapters.slack.veto import EventVetoGate
    from gameday.domain.clock import SystemClock
    from gameday.domain.runs import RunKind
    from gameday.services.catch_up import CatchUp
    from gameday.services.gatekeeping import GateNotice
    from gameday.services.live_catalog import LiveCatalog
    from gameday.services.monkey import MonkeyService
    from gameday.services.overview import Sources
    from gameday.services.planned_kills import PlannedKills
    from gameday.services.planning import draw_seed
    from gameday.services.run_flow import FlowOptions, RunFlow
    from gameday.services.scheduler import Scheduler
    from gameday.services.service_plan import ServicePlan

    chosen = clock or SystemClock()
    elector = elector_for(settings, clock=chosen)
    database = database_for(settings, clock=chosen)
    metrics, health = Metrics(), Health(mode=elector.mode, migrated=True)
    metrics.track_outbox(database.outbox.depth)
    actor = f"gameday-serve@{socket.gethostname()}"
    catalog = LiveCatalog()
    planner = ServicePlan(
        load=partial(load_catalog, settings.home, protected=settings.protected_namespaces()),
        live=catalog,
        clock=chosen,
        seed=draw_seed(random.SystemRandom()),
        horizon_hours=settings.plan_horizon_hours,
        default_channel=settings.default_channel,
    )
    slack = slack_for(settings, database=database, catalog=catalog, clock=chosen)
    updates = slack.deps.updates
    gates = gatekeeper_for(database, catalog, metrics=metrics, actor=actor)
    monkey = MonkeyService(
        cluster=LazyCluster(partial(kube_cluster_for, settings, live=settings.live)),
        runs=database.runs,
        control=database.control,
        notifier=ConsoleNotifier(),  # kill_once only: serve's heads-up is the scheduler's
        veto=EventVetoGate(database.runs, chosen, control=database.control),
        clock=chosen,
        protected=settings.protected_namespaces(),
        targets=settings.target_namespace_set(),
        outbox=database.outbox,  # a kill waits for its heads-up's delivery
        own_pod=settings.pod_name,
        live=settings.live,
        default_channel=settings.default_channel,
        end_messages=updates.end_messages,
        gates=gates,
    )
    kills = PlannedKills(
        monkey=monkey,
        catalog=catalog,
        runs=database.runs,
        metrics=metrics,
        actor=actor,
        end_messages=updates.end_messages,
    )
    flow = RunFlow(
        runs=database.runs,
        control=database.control,
        workers=workers_for(settings),
        clock=chosen,
        options=FlowOptions(live=settings.live, actor=actor),
        timeout_of=catalog.timeout_of,
        drill_of=catalog.drill_of,
        outbox=database.outbox,
        updates=updates,
        kills=kills,
        gates=gates,
        metrics=metrics,
    )
    starter = ThreadedStarter({RunKind.GAMEDAY: flow.carry, RunKind.MONKEY: flow.carry}, metrics)
    queue = ApschedulerQueue()
    scheduler = Scheduler(
        runs=database.runs,
        control=database.control,
        queue=queue,
        starter=starter,
        clock=chosen,
        metrics=metrics,
        dry_run=not settings.live,
        tolerance=timedelta(seconds=settings.fire_tolerance),
        horizon=timedelta(hours=settings.plan_horizon_hours),
        approvals=slack.deps.approvals,
        actor=actor,
        end_messages=updates.end_messages,
        marks=database.marks,
        gate_notice=GateNotice(gates, updates, database.outbox),
    )
    queue.bind(scheduler.fire)
    catch_up = CatchUp(
        scheduler=scheduler,
        runs=database.runs,
        control=database.control,
        starter=starter,
        clock=chosen,
        marks=database.marks,
        tolerance=timedelta(seconds=settings.fire_tolerance),
        dry_run=not settings.live,
        actor=actor,
    )
    metrics.scheduled_jobs.set_function(lambda: float(len(queue.jobs())))
    outbox_worker = slack.outbox_worker()
    hooks = ServiceHooks(
        recover=flow.recover,
        halt=partial(flow.halt_runs, reason="the service is shutting down"),
        expire_approvals=slack.deps.approvals.expire_due,
        start_adhoc=catch_up.start_adhoc,
        record_downtime=partial(catch_up.record_downtime, planner.past),
        heartbeat=catch_up.mark_alive,
        flush_outbox=slack.dispatcher.dispatch_once,
        background=[(outbox_worker.start, outbox_worker.stop)],
        close=[database.close],
    )
    return Service(
        description={
            "database": database.url,
            "notifier": "slack" if settings.slack_bot_token else "console",
            "mode": "live" if settings.live else "dry run",
            "leader_election": elector.mode,
            "home": str(settings.home),
        },
        load_plan=planner,
        scheduler=scheduler,
        queue=queue,
        starter=starter,
        elector=elector,
        metrics=metrics,
        health=health,
        hooks=hooks,
        entrances=Entrances(
            # Signature checks need the signing secret: no secret, no HTTP endpoint.
            slack_wsgi=slack.wsgi_app(),
            slack_socket=slack.socket_mode(),
            halt=slack.deps.chatops.halt_from_tool,
            alerts=slack.deps.drills.record_alerts if slack.deps.drills else None,
            pages=Sources(
                runs=database.runs,
                control=database.control,
                outbox=database.outbox,
                catalog=catalog,
                clock=chosen,
            ),
        ),
        leader_interval=min(settings.leader_retry, settings.lease_duration / 3),
        refresh_seconds=settings.plan_refresh,
        upcoming=planner.upcoming_lines,
    )


def elector_for(settings: Settings, *, clock: Clock) -> Elector:
    """Leader election for these settings (GAMEDAY_LEADER_ELECTION, default auto): SQLite
    always gets the file lock (taken here, or AlreadyServing); PostgreSQL gets a Kubernetes
    Lease when running in a cluster, else an advisory lock."""
    from sqlalchemy.engine import make_url

    from gameday.adapters.scheduling.leader import (
        PostgresAdvisoryLock,
        SqliteFileLock,
        advisory_key,
    )

    url = make_url(settings.resolved_database_url())
    choice = settings.leader_election
    if choice == "auto":
        # SQLite is one process whatever the deployment; several replicas need PostgreSQL.
        if url.get_backend_name() != "postgresql":
            choice = "sqlite"
        else:
            choice = "kubernetes" if settings.in_cluster else "postgres"
    if choice == "sqlite":
        if url.get_backend_name() != "sqlite" or not url.database:
            raise InvalidInput("GAMEDAY_LEADER_ELECTION=sqlite needs a SQLite database file")
        lock = SqliteFileLock(Path(url.database).resolve())
        lock.acquire_or_refuse()
        return lock
    if choice == "postgres":
        if url.get_backend_name() != "postgresql":
            raise InvalidInput("GAMEDAY_LEADER_ELECTION=postgres needs a PostgreSQL database")
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresAdvisoryLock(conninfo, advisory_key(url.render_as_string()))
    from kubernetes import client

    from gameday.adapters.kubernetes.client import build_api_client
    from gameday.adapters.scheduling.lease import KubernetesLease

    api = client.CoordinationV1Api(
        build_api_client(
            kubeconfig=settings.kubeconfig,
            context=settings.kube_context,
            in_cluster=settings.in_cluster,
        )
    )
    identity = settings.pod_name or f"{socket.gethostname()}-{os.getpid()}"
    return KubernetesLease(
        api,
        name="gameday-leader",
        namespace=settings.namespace,
        identity=identity,
        clock=clock,
        duration_seconds=settings.lease_duration,
    )
