"""The composition root of a GameDay's worker process:
`python -m gameday.wiring.worker RUN_ID [--lifeline|--rollbacks-only] | --standby`.

Its supervisor passes the GAMEDAY_* settings in the environment (the database, the home,
its own mode); this root reads them once, points Chaos Toolkit extensions at the cluster
the service uses, and hands the worker its repository, its request guard and the way it
tells the run's channel how the run ended.
"""

from __future__ import annotations

import os
import sys

from gameday.adapters.chaostoolkit.protocol import LIFELINE, STANDBY
from gameday.adapters.chaostoolkit.worker import SignalCounter, Worker, WorkerDeps
from gameday.settings import Settings


def export_cluster(settings: Settings) -> None:
    """Point Chaos Toolkit extensions (chaosk8s, gameday.chaos.istio) at the cluster of
    these settings: they choose theirs from these variables. Call it before the kubernetes
    package is imported, which reads KUBECONFIG once, at import."""
    if settings.kubeconfig is not None:
        os.environ["KUBECONFIG"] = str(settings.kubeconfig)
    if settings.kube_context is not None:
        os.environ["KUBERNETES_CONTEXT"] = settings.kube_context
    if settings.in_cluster and settings.kubeconfig is None:
        # chaosk8s uses the pod's service account only when told it runs in a pod.
        os.environ.setdefault("CHAOSTOOLKIT_IN_POD", "true")


def build_worker(settings: Settings, signals: SignalCounter) -> Worker:
    """A worker for these settings."""
    export_cluster(settings)
    from gameday.adapters.db.engine import make_engine
    from gameday.adapters.db.runs import SqlRunRepository
    from gameday.adapters.kubernetes.request_guard import RequestGuard
    from gameday.services.run_updates import RecordedChannel

    runs = SqlRunRepository(make_engine(settings.resolved_database_url()))
    guard = RequestGuard(
        protected=settings.protected_namespaces(),
        targets=settings.target_namespace_set(),
        allow_cluster_scoped=settings.allow_cluster_scoped,
    )
    deps = WorkerDeps(
        runs=runs,
        home=settings.home,
        live=settings.live,
        install_guard=guard.install,
        channel=RecordedChannel(runs, default_channel=settings.default_channel),
        chaostoolkit_settings=settings.chaostoolkit_settings,
    )
    return Worker(deps, signals)


def run_forked(settings: Settings, run_id: int) -> int:
    """The worker of run `run_id` in a process forked from its supervisor (see
    gameday.adapters.chaostoolkit.forked); its exit code."""
    signals = SignalCounter().install()
    return build_worker(settings, signals).main([str(run_id), LIFELINE])


def run_standby(settings: Settings) -> int:
    """A worker forked on standby: ready (imports, database) before its run exists, then
    the run whose id arrives on stdin; its exit code."""
    signals = SignalCounter().install()
    return build_worker(settings, signals).main([STANDBY])


def main(argv: list[str]) -> int:
    """Entry point of the worker process; its exit code."""
    # Halts that arrive during start-up are counted before anything slow happens.
    signals = SignalCounter().install()
    return build_worker(Settings(), signals).main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
