"""The worker's request guard, installed without importing the kubernetes client.

Importing `kubernetes.client` costs a worker most of a second, and most runbooks never
touch the cluster through it. So the guard is installed at once when the client is already
imported (a runbook's provider imported it while the runbook was validated), and otherwise
the moment anything imports it: an import hook finishes `kubernetes.client` and wraps it
before the importer gets it, so no request can leave unguarded either way.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from gameday.domain.kube_requests import RequestPolicy

# Told (method, path, reason) of each refused request.
OnRefused = Callable[[str, str, str], None]
_CLIENT = "kubernetes.client"


class RequestGuard:
    """The service's namespace rules, installed per run in that run's mode."""

    def __init__(
        self,
        *,
        protected: frozenset[str],
        targets: frozenset[str] | None,
        allow_cluster_scoped: bool,
    ) -> None:
        self._protected = protected
        self._targets = targets
        self._allow_cluster_scoped = allow_cluster_scoped

    def policy(self, *, dry_run: bool) -> RequestPolicy:
        """The rules for a run in this mode."""
        return RequestPolicy(
            protected=self._protected,
            targets=self._targets,
            dry_run=dry_run,
            allow_cluster_scoped=self._allow_cluster_scoped,
        )

    def install(self, dry_run: bool, on_refused: OnRefused) -> Callable[[], None]:
        """Guard every kubernetes client of this process for a run in this mode, now or
        when the client is first imported; returns the uninstall."""
        policy = self.policy(dry_run=dry_run)
        if _CLIENT in sys.modules:
            return _install(policy, on_refused)
        hook = _GuardOnImport(policy, on_refused)
        sys.meta_path.insert(0, hook)
        return hook.uninstall


def _install(policy: RequestPolicy, on_refused: OnRefused) -> Callable[[], None]:
    from gameday.adapters.kubernetes.guard import install_request_guard

    return install_request_guard(policy, on_refused)


class _GuardOnImport(importlib.abc.MetaPathFinder):
    """Guards `kubernetes.client` right after it is imported, before anyone can use it."""

    def __init__(self, policy: RequestPolicy, on_refused: OnRefused) -> None:
        self._policy = policy
        self._on_refused = on_refused
        self._lock = threading.Lock()
        self._finding = False
        self._remove: Callable[[], None] | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _CLIENT or self._finding:
            return None
        with self._lock:
            self._finding = True
            try:
                spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
            finally:
                self._finding = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = _GuardingLoader(spec.loader, self._guard)
        return spec

    def _guard(self) -> None:
        with self._lock:
            if self._remove is None:
                self._remove = _install(self._policy, self._on_refused)

    def uninstall(self) -> None:
        """Stop waiting for the import, and unwrap the client if it was guarded."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        with self._lock:
            if self._remove is not None:
                self._remove()
                self._remove = None


class _GuardingLoader(importlib.abc.Loader):
    """The real loader, then the guard, before the import returns."""

    def __init__(self, loader: Any, after: Callable[[], None]) -> None:
        self._loader = loader
        self._after = after

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._after()
