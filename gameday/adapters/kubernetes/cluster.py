"""The Cluster port over the official kubernetes client: pod discovery and termination.

Discovery lists pods per namespace with the schedule's label selector on the server and
`limit`/`continue` pagination, and reads owners once per namespace. Termination uses the
Eviction API so PodDisruptionBudgets are honoured (a 429 is a skip, never a delete) or,
when asked, a delete with a grace period, sent only when every budget covering the pod
allows a disruption now (the server checks no budget on a delete, so we read them first).
A read-only cluster refuses every mutating call.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from gameday.adapters.kubernetes.errors import (
    TRANSPORT_ERRORS,
    drain,
    read_json,
    server_causes,
    server_message,
    unavailable,
)
from gameday.adapters.kubernetes.owners import OwnerResolver
from gameday.adapters.kubernetes.paging import list_raw
from gameday.domain.disruption_budgets import blocking_budget
from gameday.domain.errors import GamedayError
from gameday.domain.pods import PodFacts, Termination, TerminationOutcome

DEFAULT_PAGE_SIZE = 500
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
# Namespaces listed at once; below the client's default connection pool (5 x CPUs).
DEFAULT_PARALLEL = 4


class ReadOnlyCluster(GamedayError):
    """A mutating call on a cluster adapter built for a dry run."""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ready(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


class KubeCluster:
    """Implements `gameday.domain.ports.Cluster`; `read_only=True` for dry runs."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        read_only: bool = True,
        page_size: int = DEFAULT_PAGE_SIZE,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        parallel: int = DEFAULT_PARALLEL,
    ) -> None:
        self._api_client = api_client
        self._core = client.CoreV1Api(api_client)
        self._policy = client.PolicyV1Api(api_client)
        self.read_only = read_only
        self._page_size = page_size
        self._timeout = timeout
        self._parallel = max(1, parallel)

    @property
    def host(self) -> str:
        """The API server URL (no credentials)."""
        return str(self._api_client.configuration.host)

    def _raw_pods(self, namespace: str, selector: str | None) -> list[dict[str, Any]]:
        return list(
            list_raw(
                self._core.list_namespaced_pod,
                namespace,
                page_size=self._page_size,
                timeout=self._timeout,
                selector=selector,
            )
        )

    def pods(self, namespace: str, selector: str | None) -> list[PodFacts]:
        """Pods of one namespace matching `selector`, with their top workload and its labels."""
        action = f"listing pods in namespace {namespace}"
        try:
            raw = self._raw_pods(namespace, selector)
            owners = OwnerResolver(self._api_client, namespace, self._page_size, self._timeout)
            resolved = owners.resolve_all(raw)
            facts = []
            for item, (kind, name, owner_labels) in zip(raw, resolved, strict=True):
                meta = item.get("metadata") or {}
                status = item.get("status") or {}
                facts.append(
                    PodFacts(
                        namespace=str(meta.get("namespace") or namespace),
                        name=str(meta.get("name")),
                        labels=dict(meta.get("labels") or {}),
                        owner_kind=kind,
                        owner_name=name,
                        owner_labels=owner_labels,
                        phase=str(status.get("phase") or "Unknown"),
                        ready=_ready(status),
                        started_at=_time(status.get("startTime")),
                        node=(item.get("spec") or {}).get("nodeName"),
                    )
                )
            return facts
        except ApiException as exc:
            if exc.status == 400 and selector:
                from gameday.domain.errors import InvalidInput

                raise InvalidInput(
                    f"label selector {selector!r} was refused: {server_message(exc)}"
                ) from None
            raise unavailable(exc, self.host, action) from None
        except TRANSPORT_ERRORS as exc:
            raise unavailable(exc, self.host, action) from None

    def pods_in(self, namespaces: Sequence[str], selector: str | None) -> list[PodFacts]:
        """Pods of several namespaces, listed a few namespaces at a time, in namespace order.

        Namespaces are independent lists on the server; overlapping their round trips
        keeps a cycle over hundreds of namespaces short. The first failure is raised.
        """
        if len(namespaces) <= 1:
            return [pod for ns in namespaces for pod in self.pods(ns, selector)]
        workers = min(self._parallel, len(namespaces))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kube-list") as pool:
            pages = list(pool.map(lambda ns: self.pods(ns, selector), namespaces))
        return [pod for page in pages for pod in page]

    def _budgets(self, namespace: str) -> list[dict[str, Any]]:
        action = f"listing PodDisruptionBudgets in namespace {namespace}"
        try:
            return list(
                list_raw(
                    self._policy.list_namespaced_pod_disruption_budget,
                    namespace,
                    page_size=self._page_size,
                    timeout=self._timeout,
                )
            )
        # Not knowing the budgets is an outage, never a reason to delete regardless.
        except ApiException as exc:
            raise unavailable(exc, self.host, action) from None
        except TRANSPORT_ERRORS as exc:
            raise unavailable(exc, self.host, action) from None

    def _budget_refusal(self, namespace: str, name: str) -> Termination | None:
        """Why a delete of this pod must not be sent now (a skip, or the pod is gone), or
        None. Budgets are listed first: a namespace without any needs no pod read."""
        budgets = self._budgets(namespace)
        if not budgets:
            return None
        action = f"reading pod {namespace}/{name}"
        try:
            pod = read_json(
                self._core.read_namespaced_pod(
                    name, namespace, _preload_content=False, _request_timeout=self._timeout
                )
            )
        except ApiException as exc:
            if exc.status == 404:
                return Termination(TerminationOutcome.GONE, "delete", reason=server_message(exc))
            raise unavailable(exc, self.host, action) from None
        except TRANSPORT_ERRORS as exc:
            raise unavailable(exc, self.host, action) from None
        labels = (pod.get("metadata") or {}).get("labels") or {}
        reason = blocking_budget(budgets, labels)
        if reason is None:
            return None
        return Termination(TerminationOutcome.SKIPPED, "delete", reason=reason)

    def terminate(
        self, namespace: str, name: str, *, method: str, grace_period: int | None
    ) -> Termination:
        """Evict or delete one pod; see the module docstring for the rules."""
        if self.read_only:
            raise ReadOnlyCluster(
                f"refusing to {method} pod {namespace}/{name}: the cluster was opened read-only "
                "(dry run); pass --live to terminate pods"
            )
        if method not in ("evict", "delete"):
            raise ValueError(f"unknown termination method {method!r}: expected evict or delete")
        action = f"{'evicting' if method == 'evict' else 'deleting'} pod {namespace}/{name}"
        try:
            if method == "evict":
                options = (
                    None
                    if grace_period is None
                    else client.V1DeleteOptions(grace_period_seconds=grace_period)
                )
                body = client.V1Eviction(
                    api_version="policy/v1",
                    kind="Eviction",
                    metadata=client.V1ObjectMeta(name=name, namespace=namespace),
                    delete_options=options,
                )
                drain(
                    self._core.create_namespaced_pod_eviction(
                        name,
                        namespace,
                        body,
                        _preload_content=False,
                        _request_timeout=self._timeout,
                    )
                )
            else:
                blocked = self._budget_refusal(namespace, name)
                if blocked is not None:
                    return blocked
                kwargs: dict[str, Any] = {"_request_timeout": self._timeout}
                if grace_period is not None:
                    kwargs["grace_period_seconds"] = grace_period
                drain(
                    self._core.delete_namespaced_pod(
                        name, namespace, _preload_content=False, **kwargs
                    )
                )
        except ApiException as exc:
            if exc.status == 429:
                return Termination(
                    TerminationOutcome.SKIPPED,
                    method,
                    reason=server_message(exc),
                    detail="; ".join(server_causes(exc)),
                )
            if exc.status == 404:
                return Termination(TerminationOutcome.GONE, method, reason=server_message(exc))
            raise unavailable(exc, self.host, action) from None
        except TRANSPORT_ERRORS as exc:
            raise unavailable(exc, self.host, action) from None
        return Termination(TerminationOutcome.TERMINATED, method)
