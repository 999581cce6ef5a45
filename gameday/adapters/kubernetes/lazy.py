"""A Cluster built on first use: `gameday serve` starts without any kubeconfig, and a kill
that needs the cluster then ends skipped with the reason instead of the service failing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from gameday.domain.errors import GamedayError, Unavailable
from gameday.domain.pods import PodFacts, Termination
from gameday.domain.ports import Cluster


class LazyCluster:
    """The Cluster port, built by `build` on first use and kept; until it can be built (no
    kubeconfig, a bad context) every call raises Unavailable naming why."""

    def __init__(self, build: Callable[[], Cluster]) -> None:
        self._build = build
        self._built: Cluster | None = None
        self._lock = threading.Lock()

    def _cluster(self) -> Cluster:
        with self._lock:
            if self._built is None:
                try:
                    self._built = self._build()
                except GamedayError as exc:
                    raise Unavailable(f"no access to the Kubernetes cluster: {exc}") from None
            return self._built

    def pods_in(self, namespaces: Sequence[str], selector: str | None) -> list[PodFacts]:
        """Pods of several namespaces (see KubeCluster.pods_in)."""
        return self._cluster().pods_in(namespaces, selector)

    def terminate(
        self, namespace: str, name: str, *, method: str, grace_period: int | None
    ) -> Termination:
        """Evict or delete one pod (see KubeCluster.terminate)."""
        return self._cluster().terminate(namespace, name, method=method, grace_period=grace_period)
