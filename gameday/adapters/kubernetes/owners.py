"""Resolve a pod's owning workload (ReplicaSet -> Deployment, StatefulSet, ...) and its labels.

Owners live in the pod's namespace, so one resolver serves one namespace of one cycle and
caches what it read: a few owners are read one by one, many are listed once (paginated).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from gameday.adapters.kubernetes.errors import read_json
from gameday.adapters.kubernetes.paging import list_raw

Raw = dict[str, Any]
Owner = tuple[str | None, str | None, dict[str, str]]  # top workload kind, name, labels
_APPS = {"ReplicaSet", "Deployment", "StatefulSet", "DaemonSet"}
_BATCH = {"Job", "CronJob"}
_LIST_ABOVE = 4  # more distinct owners of a kind than this: one list instead of many reads


def controller_of(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of the controller ownerReference, or the first owner, or None."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    chosen = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if not chosen or not chosen.get("kind") or not chosen.get("name"):
        return None
    return str(chosen["kind"]), str(chosen["name"])


def _plural(kind: str) -> str:
    return {
        "ReplicaSet": "replica_set",
        "StatefulSet": "stateful_set",
        "DaemonSet": "daemon_set",
        "CronJob": "cron_job",
    }.get(kind, kind.lower())


class OwnerResolver:
    """Owner lookups for one namespace: (kind, name, labels) of each pod's top workload,
    following ReplicaSet -> Deployment and Job -> CronJob."""

    def __init__(
        self, api_client: client.ApiClient, namespace: str, page_size: int, timeout: Any
    ) -> None:
        self._apps = client.AppsV1Api(api_client)
        self._batch = client.BatchV1Api(api_client)
        self._namespace = namespace
        self._page_size = page_size
        self._timeout = timeout
        self._cache: dict[tuple[str, str], Raw | None] = {}
        self._tops: dict[tuple[str, str], Owner] = {}

    def _api(self, kind: str) -> Any:
        return self._apps if kind in _APPS else self._batch

    def _read(self, kind: str, name: str) -> Raw | None:
        method = getattr(self._api(kind), f"read_namespaced_{_plural(kind)}")
        try:
            response = method(
                name, self._namespace, _preload_content=False, _request_timeout=self._timeout
            )
        except ApiException as exc:
            if exc.status == 404:
                return None  # an orphan: the pod keeps its direct owner only
            raise
        data: Raw = read_json(response)
        return data

    def _list(self, kind: str) -> Iterator[Raw]:
        method = getattr(self._api(kind), f"list_namespaced_{_plural(kind)}")
        return list_raw(method, self._namespace, page_size=self._page_size, timeout=self._timeout)

    def prefetch(self, refs: Iterable[tuple[str, str]]) -> None:
        """Load the given owners, listing a kind at once when many of it are wanted."""
        by_kind: dict[str, set[str]] = {}
        for kind, name in refs:
            if (kind, name) not in self._cache and kind in _APPS | _BATCH:
                by_kind.setdefault(kind, set()).add(name)
        for kind, names in sorted(by_kind.items()):
            if len(names) > _LIST_ABOVE:
                for obj in self._list(kind):
                    self._cache[(kind, obj["metadata"]["name"])] = obj
                for name in names:
                    self._cache.setdefault((kind, name), None)
            else:
                for name in sorted(names):
                    self._cache[(kind, name)] = self._read(kind, name)

    def _get(self, kind: str, name: str) -> Raw | None:
        if (kind, name) not in self._cache:
            self._cache[(kind, name)] = self._read(kind, name) if kind in _APPS | _BATCH else None
        return self._cache[(kind, name)]

    def resolve_all(self, pods: list[Raw]) -> list[Owner]:
        """The top workload of each pod (in order), after loading owners two levels deep."""
        refs = [controller_of(p) for p in pods]
        direct = {ref for ref in refs if ref is not None}
        self.prefetch(direct)
        parents = {
            ref for d in direct if (obj := self._cache.get(d)) and (ref := controller_of(obj))
        }
        self.prefetch(parents)
        return [self._top(ref) for ref in refs]

    def _top(self, ref: tuple[str, str] | None) -> Owner:
        if ref is None:
            return None, None, {}
        found = self._tops.get(ref)
        if found is None:
            found = self._tops[ref] = self._resolve_ref(ref)
        return found

    def _resolve_ref(self, ref: tuple[str, str]) -> Owner:
        obj = self._get(*ref)
        labels: dict[str, str] = dict((obj or {}).get("metadata", {}).get("labels") or {})
        parent = controller_of(obj) if obj else None
        if parent is not None and parent[0] in ("Deployment", "CronJob"):
            top = self._get(*parent)
            if top is not None:
                labels.update(top.get("metadata", {}).get("labels") or {})
                return parent[0], parent[1], labels
        return ref[0], ref[1], labels
