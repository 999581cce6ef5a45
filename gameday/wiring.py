"""The composition root: the one place that builds the object graph from Settings.

Entry points (CLI, web) ask this module for ready-made services; nothing else constructs
adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameday.domain.errors import GamedayError, InvalidInput
from gameday.settings import Settings

if TYPE_CHECKING:
    from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
    from gameday.adapters.db import Database
    from gameday.adapters.kubernetes.cluster import KubeCluster
    from gameday.adapters.observability.metrics import Metrics
    from gameday.adapters.scheduling.leader import Elector
    from gameday.adapters.scheduling.runtime import Service
    from gameday.adapters.slack.runtime import SlackRuntime
    from gameday.domain.pods import PodFacts, Termination
    from gameday.domain.ports import Clock, Cluster, RunMessages, VetoGate
    from gameday.domain.runs import Run
    from gameday.services.catalog import Catalog, CatalogLoad
    from gameday.services.monkey import MonkeyService


def settings_for(home: Path) -> Settings:
    """Settings from GAMEDAY_* variables, with the home folder the CLI resolved."""
    return Settings(home=home)


def load_catalog(home: Path, extra: Sequence[Path] = ()) -> CatalogLoad:
    """Every spec of `home` (plus `extra` files) parsed and checked: catalog, errors, warnings.

    Callers that need a valid catalog use `load_catalog(home).require_valid()`.
    """
    from gameday.adapters.chaostoolkit.validation import ChaoslibRunbookChecker
    from gameday.adapters.specfiles.folder import FolderSpecSource
    from gameday.services.catalog import build_catalog

    return build_catalog(FolderSpecSource(home, extra), ChaoslibRunbookChecker())


def database_for(
    settings: Settings, *, clock: Clock | None = None, upgrade: bool = True
) -> Database:
    """The database of these settings, opened, checked and migrated to the newest schema.

    Raises Unavailable (one line) when it cannot be opened or its schema is newer than this
    code. `upgrade=False` only checks the schema (for read-only tools and `db current`).
    """
    from gameday.adapters.db import Database

    database = Database.open(settings.resolved_database_url(), clock=clock, upgrade=upgrade)
    settle_heap()
    return database


def settle_heap() -> None:
    """Exempt what is alive now (modules, engines, specs) from future full collections.

    Rules: call once the long-lived objects exist. Reading a run of thousands of events
    allocates enough to trigger full collections, which would otherwise traverse every
    imported module each time (journal show of 1,000 events: p99 54 ms -> 13 ms).
    """
    import gc

    gc.collect()
    gc.freeze()


def run_messages_for(database: Database) -> RunMessages:
    """The messages queued about each run (announcements), read from the database."""
    from gameday.adapters.db.run_messages import SqlRunMessages

    return SqlRunMessages(database.engine)


def secret_mask_for(settings: Settings, runbook: str | None) -> Callable[[Any], Any]:
    """Masks the secret values a run's runbook declares (as far as known now) in JSON data."""
    from gameday.adapters.postmortem.secrets import secret_mask

    return secret_mask(settings.home, runbook)


def workers_for(settings: Settings) -> ProcessWorkers:
    """Worker processes for the GameDays of these settings, on this host."""
    from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers

    return ProcessWorkers(home=settings.home, database_url=settings.resolved_database_url())


def kube_cluster_for(settings: Settings, *, live: bool) -> KubeCluster:
    """The Kubernetes adapter of these settings; read-only (refuses mutations) unless live."""
    from gameday.adapters.kubernetes.client import build_api_client
    from gameday.adapters.kubernetes.cluster import KubeCluster

    api_client = build_api_client(kubeconfig=settings.kubeconfig, context=settings.kube_context)
    return KubeCluster(api_client, read_only=not live)


def monkey_service_for(
    settings: Settings,
    *,
    live: bool,
    cluster: Cluster | None = None,
    clock: Clock | None = None,
    veto: VetoGate | None = None,
) -> MonkeyService:
    """The monkey service: cluster, database, console notifier and veto gate (Ctrl-C)."""
    from gameday.adapters.console import ConsoleNotifier, ConsoleVetoGate
    from gameday.domain.clock import SystemClock
    from gameday.services.monkey import MonkeyService

    chosen = clock or SystemClock()
    database = database_for(settings, clock=chosen)
    return MonkeyService(
        cluster=cluster or kube_cluster_for(settings, live=live),
        runs=database.runs,
        control=database.control,
        notifier=ConsoleNotifier(),
        veto=veto or ConsoleVetoGate(),
        clock=chosen,
        protected=settings.protected_namespaces(),
        own_pod=settings.pod_name,
        live=live,
        default_channel=settings.default_channel,
    )


def slack_for(
    settings: Settings,
    *,
    database: Database,
    catalog: Callable[[], Catalog],
    clock: Clock | None = None,
) -> SlackRuntime:
    """Slack for these settings: the Bolt app and Web API notifier when a bot token is set,
    the console notifier otherwise; the approval and chat use cases; the outbox dispatcher.

    The service mounts `runtime.wsgi_app()` at POST /slack/events, starts
    `runtime.outbox_worker()`, and connects `runtime.socket_mode()` when it is not None.
    """
    from gameday.adapters.slack.app import build_app, web_client
    from gameday.adapters.slack.deps import SlackDeps
    from gameday.adapters.slack.notifier import ConsoleNotifier, SlackNotifier
    from gameday.adapters.slack.runtime import NoUserGroups, SlackRuntime
    from gameday.adapters.slack.usergroups import CachedUserGroups
    from gameday.domain.clock import SystemClock
    from gameday.domain.ports import MessageSender, UserGroups
    from gameday.services.approvals import ApprovalService
    from gameday.services.briefs import CatalogBriefs
    from gameday.services.chatops import ChatOps
    from gameday.services.outbox import OutboxDispatcher
    from gameday.services.run_updates import RunUpdates

    chosen = clock or SystemClock()
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    sender: MessageSender
    groups: UserGroups
    if token:
        client = web_client(token, settings.slack_api_url)
        sender, groups = SlackNotifier(client), CachedUserGroups(client, chosen)
    else:
        sender, groups = ConsoleNotifier(), NoUserGroups()
    briefs = CatalogBriefs(
        catalog, default_channel=settings.default_channel, timezone=settings.timezone
    )
    approvals = ApprovalService(database.runs, database.outbox, groups, chosen, briefs)
    chatops = ChatOps(
        database.runs,
        database.control,
        database.outbox,
        approvals,
        catalog,
        briefs,
        chosen,
        default_channel=settings.default_channel,
        live=settings.live,
    )
    updates = RunUpdates(database.outbox, briefs)
    deps = SlackDeps(chatops, approvals, updates, timezone=settings.timezone)
    app = None
    secret = settings.slack_signing_secret
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    if token and (secret or app_token):
        app = build_app(
            deps,
            signing_secret=secret.get_secret_value() if secret else "",
            bot_token=token,
            api_url=settings.slack_api_url,
        )
    return SlackRuntime(
        deps=deps,
        sender=sender,
        dispatcher=OutboxDispatcher(database.outbox, sender, chosen),
        clock=chosen,
        app=app,
        app_token=app_token,
        http_enabled=bool(secret and secret.get_secret_value()),
    )


def check_run_vars(items: list[str]) -> None:
    """Refuse `--var` items `chaos run` would refuse (InvalidInput, one line)."""
    from gameday.adapters.chaostoolkit.runbooks import parse_vars

    parse_vars(items)


def build_service(settings: Settings, *, clock: Clock | None = None) -> Service:
    """Everything `gameday serve` runs, from one place: the database (migrated), leader
    election, the scheduler, GameDay workers, monkey kills, Slack or the console notifier,
    metrics.

    Rules: on SQLite the file lock is taken before anything else, so a second serve on the
    same file refuses at once (AlreadyServing, naming the file and the holder's pid); the
    specs are only read by `Service.start()` (SpecsInvalid lists every error).
    """
    import random
    import socket
    from datetime import timedelta

    from gameday.adapters.observability.health import Health
    from gameday.adapters.observability.metrics import Metrics
    from gameday.adapters.scheduling.queue import ApschedulerQueue
    from gameday.adapters.scheduling.runtime import Service, ServiceHooks, SpecsInvalid
    from gameday.adapters.scheduling.starter import ThreadedStarter
    from gameday.domain.clock import SystemClock
    from gameday.domain.runs import RunKind
    from gameday.services import execution
    from gameday.services.catalog import Catalog
    from gameday.services.planning import draw_seed, plan
    from gameday.services.scheduler import Scheduler
    from gameday.services.serving import occurrences_of, rules_for, upcoming_lines

    chosen = clock or SystemClock()
    elector = elector_for(settings, clock=chosen)
    database = database_for(settings, clock=chosen)
    metrics, health = Metrics(), Health(mode=elector.mode, migrated=True)
    metrics.track_outbox(database.outbox.depth)
    workers = workers_for(settings)
    actor = f"gameday-serve@{socket.gethostname()}"
    horizon = timedelta(hours=settings.plan_horizon_hours)
    seed = draw_seed(random.SystemRandom())
    current: dict[str, Any] = {"catalog": Catalog(), "upcoming": ()}

    def load_plan() -> tuple[list[Any], dict[str, Any]]:
        loaded = load_catalog(settings.home)
        if loaded.errors:
            raise SpecsInvalid([str(e) for e in loaded.errors])
        catalog = loaded.catalog
        days = max(1, -(-settings.plan_horizon_hours // 24))
        made = plan(catalog, start=chosen.now(), days=days, seed=seed)
        rules = rules_for(catalog, default_channel=settings.default_channel)
        current.update(catalog=catalog, upcoming=made.occurrences)
        return occurrences_of(made), rules

    def gameday_timeout(run: Run) -> timedelta:
        catalog: Catalog = current["catalog"]
        try:
            runbook = catalog.runbook(run.runbook or "")
        except GamedayError:
            return timedelta(minutes=30)
        return runbook.extension.timeout if runbook.extension else timedelta(minutes=30)

    def carry_gameday(run: Run) -> Run:
        execution.start_run(database.runs, workers, run.id, actor=actor)
        return execution.watch_run(
            database.runs, workers, chosen, run.id, timeout=gameday_timeout(run), actor=actor
        )

    carry_monkey = _monkey_carrier(
        settings, database, chosen, metrics, lambda: current["catalog"], actor
    )
    carriers = {RunKind.GAMEDAY: carry_gameday, RunKind.MONKEY: carry_monkey}
    starter = ThreadedStarter(carriers, metrics)
    slack = slack_for(settings, database=database, catalog=lambda: current["catalog"], clock=chosen)
    outbox_worker = slack.outbox_worker()
    queue_box: list[ApschedulerQueue] = []
    scheduler = Scheduler(
        runs=database.runs,
        control=database.control,
        queue=_LazyQueue(queue_box),
        starter=starter,
        clock=chosen,
        metrics=metrics,
        dry_run=not settings.live,
        tolerance=timedelta(seconds=settings.fire_tolerance),
        horizon=horizon,
        approvals=slack.deps.approvals,
        actor=actor,
    )
    queue = ApschedulerQueue(scheduler.fire)
    queue_box.append(queue)
    metrics.scheduled_jobs.set_function(lambda: float(len(queue.jobs())))
    hooks = ServiceHooks(
        recover=lambda: execution.recover_runs(
            database.runs, workers, actor=actor, end_messages=slack.deps.updates.messages_for_end
        ),
        halt=lambda ids: [
            execution.halt_run(
                database.runs, workers, i, actor=actor, reason="the service is shutting down"
            )
            for i in ids
        ],
        expire_approvals=slack.deps.approvals.expire_due,
        flush_outbox=slack.dispatcher.dispatch_once,
        background=[(outbox_worker.start, outbox_worker.stop)],
        close=[database.close],
    )
    service = Service(
        description={
            "database": database.url,
            "notifier": "slack" if settings.slack_bot_token else "console",
            "mode": "live" if settings.live else "dry run",
            "leader_election": elector.mode,
            "home": str(settings.home),
        },
        load_plan=load_plan,
        scheduler=scheduler,
        queue=queue,
        starter=starter,
        elector=elector,
        metrics=metrics,
        health=health,
        hooks=hooks,
        leader_interval=min(settings.leader_retry, settings.lease_duration / 3),
        refresh_seconds=settings.plan_refresh,
        upcoming=lambda: upcoming_lines([o for o in current["upcoming"] if o.at >= chosen.now()]),
    )
    service.slack_wsgi = slack.wsgi_app()
    service.slack_socket = slack.socket_mode()
    return service


def _monkey_carrier(
    settings: Settings,
    database: Database,
    clock: Clock,
    metrics: Metrics,
    catalog: Callable[[], Catalog],
    actor: str,
) -> Callable[[Run], Run]:
    """Carries out the monkey kills serve's scheduler starts: the cluster is reached only
    when a kill needs it (serve starts without any kubeconfig; such a kill ends skipped with
    the reason), read-only unless live; a veto is read from the run's events, whether it
    came from Slack or elsewhere; a kill whose heads-up never left the outbox is skipped; kills
    are counted in the metrics."""
    import logging

    from gameday.adapters.console import ConsoleNotifier
    from gameday.adapters.slack.veto import SlackVetoGate
    from gameday.domain.errors import IllegalTransition, Unavailable
    from gameday.domain.runs import RunState
    from gameday.services.monkey import MonkeyService

    log = logging.getLogger("gameday.runs")
    service = MonkeyService(
        cluster=_LazyCluster(lambda: kube_cluster_for(settings, live=settings.live)),
        runs=database.runs,
        control=database.control,
        notifier=ConsoleNotifier(),  # kill_once only: serve's heads-up is the scheduler's
        veto=SlackVetoGate(database.runs, clock),
        clock=clock,
        protected=settings.protected_namespaces(),
        messages=run_messages_for(database),  # a kill waits for its heads-up's delivery
        own_pod=settings.pod_name,
        live=settings.live,
        default_channel=settings.default_channel,
    )

    def carry(run: Run) -> Run:
        try:
            spec = catalog().monkeys[run.schedule or ""]
            window = catalog().window(spec.window)
        except (KeyError, GamedayError):
            return database.runs.transition(
                run.id,
                RunState.SKIPPED,
                actor=actor,
                reason=f"monkey schedule {run.schedule} is no longer in the specs",
            )
        try:
            report = service.kill_run(run, spec, window)
        except (Unavailable, IllegalTransition) as exc:
            # Recorded on the run already (skipped or failed, with the reason).
            log.warning("run %s: %s", run.id, exc, extra={"run_id": run.id})
            return database.runs.get(run.id)
        metrics.killed(len(report.killed), dry_run=not settings.live)
        return report.run

    return carry


class _LazyCluster:
    """The Cluster port built on first use and kept; until it can be built (no kubeconfig,
    a bad context) every call raises Unavailable naming why."""

    def __init__(self, build: Callable[[], Cluster]) -> None:
        import threading

        self._build = build
        self._built: Cluster | None = None
        self._lock = threading.Lock()

    def _cluster(self) -> Cluster:
        from gameday.domain.errors import Unavailable

        with self._lock:
            if self._built is None:
                try:
                    self._built = self._build()
                except GamedayError as exc:
                    raise Unavailable(f"no access to the Kubernetes cluster: {exc}") from None
            return self._built

    def pods_in(self, namespaces: Sequence[str], selector: str | None) -> list[PodFacts]:
        return self._cluster().pods_in(namespaces, selector)

    def terminate(
        self, namespace: str, name: str, *, method: str, grace_period: int | None
    ) -> Termination:
        return self._cluster().terminate(namespace, name, method=method, grace_period=grace_period)


class _LazyQueue:
    """The scheduler and its queue refer to each other; this breaks the cycle."""

    def __init__(self, box: list[Any]) -> None:
        self._box = box

    def jobs(self) -> dict[str, Any]:
        return dict(self._box[0].jobs())

    def add(self, job_id: str, at: Any) -> None:
        self._box[0].add(job_id, at)

    def remove(self, job_id: str) -> None:
        self._box[0].remove(job_id)


def elector_for(settings: Settings, *, clock: Clock) -> Elector:
    """Leader election for these settings (GAMEDAY_LEADER_ELECTION, default auto): SQLite
    always gets the file lock (taken here, or AlreadyServing); PostgreSQL gets a Kubernetes
    Lease when running in a cluster, else an advisory lock."""
    import os
    import socket

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
            choice = "kubernetes" if os.environ.get("KUBERNETES_SERVICE_HOST") else "postgres"
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
        build_api_client(kubeconfig=settings.kubeconfig, context=settings.kube_context)
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
