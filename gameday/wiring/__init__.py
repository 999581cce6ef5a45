"""The composition roots: the only places that build object graphs from Settings.

Entry points (CLI, web) ask these modules for ready-made services; nothing else constructs
adapters. One root per process: `service` for `gameday serve`, `worker` for a GameDay's
worker process, `cli` for the commands that act (run, monkey), `slack` for the Slack side
shared by serve and its tests; this module holds the small constructors they share.
Everything here only constructs: behaviour lives in services and adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameday.settings import Settings, process_environment

if TYPE_CHECKING:
    from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
    from gameday.adapters.db import Database
    from gameday.adapters.kubernetes.cluster import KubeCluster
    from gameday.domain.kube_requests import RequestPolicy
    from gameday.domain.ports import Clock, MetricsSink, UserGroups
    from gameday.services.catalog import Catalog, CatalogLoad
    from gameday.services.drill_acts import DrillActs
    from gameday.services.gatekeeping import GateKeeper


def settings_for(home: Path) -> Settings:
    """Settings from GAMEDAY_* variables, with the home folder the CLI resolved."""
    return Settings(home=home)


def load_catalog(
    home: Path, extra: Sequence[Path] = (), *, protected: frozenset[str] | None = None
) -> CatalogLoad:
    """Every spec of `home` (plus `extra` files) parsed and checked: catalog, errors, warnings.

    Callers that need a valid catalog use `load_catalog(home).require_valid()`;
    `protected` adds the service's own namespace to the ones a runbook may not name.
    """
    from gameday.adapters.chaostoolkit.validation import ChaoslibRunbookChecker
    from gameday.adapters.specfiles.folder import FolderSpecSource
    from gameday.services.catalog import build_catalog

    source, checker = FolderSpecSource(home, extra), ChaoslibRunbookChecker()
    if protected is None:
        return build_catalog(source, checker)
    return build_catalog(source, checker, protected=protected)


def load_runbook(home: Path, ref: str) -> CatalogLoad:
    """A catalog of the one runbook `ref` names (a name or a path inside `home`), checked
    as `load_catalog` checks it; NotFound when there is no such file."""
    from gameday.adapters.chaostoolkit.runbooks import resolve_runbook
    from gameday.adapters.chaostoolkit.validation import ChaoslibRunbookChecker
    from gameday.adapters.specfiles.folder import OneRunbook
    from gameday.services.catalog import build_catalog

    path = resolve_runbook(home, ref)
    return build_catalog(OneRunbook(home, path), ChaoslibRunbookChecker())


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


def secret_mask_for(settings: Settings, runbook: str | None) -> Callable[[Any], Any]:
    """Masks the secret values a run's runbook declares (as far as known now) in JSON data."""
    from gameday.adapters.chaostoolkit.secrets import secret_mask

    return secret_mask(settings.home, runbook, process_environment())


def worker_env(settings: Settings) -> dict[str, str]:
    """A worker process's environment: this process's, plus the GAMEDAY_* settings a
    command line may have changed (serve's flags change settings, not the environment)."""
    env = {**process_environment(), "GAMEDAY_NAMESPACE": settings.namespace}
    if settings.target_namespaces:
        env["GAMEDAY_TARGET_NAMESPACES"] = ",".join(settings.target_namespaces)
    if settings.kubeconfig is not None:
        env["GAMEDAY_KUBECONFIG"] = str(settings.kubeconfig)
    if settings.kube_context is not None:
        env["GAMEDAY_KUBE_CONTEXT"] = settings.kube_context
    return env


def workers_for(settings: Settings, *, live: bool | None = None) -> ProcessWorkers:
    """Worker processes for the GameDays of these settings, on this host; they run live
    only when `live` (default: the settings' mode) says so too."""
    from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers

    return ProcessWorkers(
        home=settings.home,
        database_url=settings.resolved_database_url(),
        live=settings.live if live is None else live,
        env=worker_env(settings),
    )


def request_policy(settings: Settings, *, dry_run: bool) -> RequestPolicy:
    """The request guard's rules under these settings."""
    from gameday.domain.kube_requests import RequestPolicy

    return RequestPolicy(
        protected=settings.protected_namespaces(),
        targets=settings.target_namespace_set(),
        dry_run=dry_run,
        allow_cluster_scoped=settings.allow_cluster_scoped,
    )


def kube_cluster_for(settings: Settings, *, live: bool) -> KubeCluster:
    """The Kubernetes adapter of these settings: read-only (refuses mutations) unless
    live, and its client guarded by the request guard's rules."""
    from gameday.adapters.kubernetes.client import build_api_client
    from gameday.adapters.kubernetes.cluster import KubeCluster
    from gameday.adapters.kubernetes.guard import guard_api_client

    api_client = build_api_client(
        kubeconfig=settings.kubeconfig,
        context=settings.kube_context,
        in_cluster=settings.in_cluster,
    )
    guard_api_client(api_client, request_policy(settings, dry_run=not live))
    return KubeCluster(api_client, read_only=not live)


def gatekeeper_for(
    database: Database,
    catalog: Callable[[], Catalog],
    *,
    metrics: MetricsSink | None = None,
    actor: str = "gameday",
) -> GateKeeper:
    """Health gates evaluated over HTTP (credentials from the environment variables the
    specs name), recorded on the runs of this database."""
    from gameday.adapters.gates.http_checker import HttpGateChecker
    from gameday.services.gatekeeping import GateKeeper

    return GateKeeper(
        checker=HttpGateChecker(process_environment()),
        runs=database.runs,
        catalog=catalog,
        metrics=metrics,
        actor=actor,
    )


def drill_acts_for(
    settings: Settings,
    database: Database,
    *,
    groups: UserGroups | None = None,
    is_operator: Callable[[str], bool] | None = None,
) -> DrillActs:
    """Acks, resolves and alerts on the drills of this database; their thread lines go to
    the channel each run's start recorded, through the outbox."""
    from gameday.services.drill_acts import DrillActs
    from gameday.services.run_updates import RecordedChannel

    channel = RecordedChannel(database.runs, default_channel=settings.default_channel)
    return DrillActs(
        database.runs, thread_line=channel.line_messages, groups=groups, is_operator=is_operator
    )


def check_run_vars(items: list[str]) -> None:
    """Refuse `--var` items `chaos run` would refuse (InvalidInput, one line)."""
    from gameday.adapters.chaostoolkit.runbooks import parse_vars

    parse_vars(items)


_ROOTS = {
    "slack_for": "gameday.wiring.slack",
    "build_service": "gameday.wiring.service",
    "elector_for": "gameday.wiring.service",
    "monkey_service_for": "gameday.wiring.cli",
}


def __getattr__(name: str) -> Any:
    # The larger roots load only when asked for: most commands need none of them.
    module = _ROOTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gameday.wiring' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
