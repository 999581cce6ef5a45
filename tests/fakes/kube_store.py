"""What the fake Kubernetes API server stores and how it reads and writes one resource.

Stored objects are never changed in place: every write goes through `KubeState.put`, which
gives the object a new resourceVersion (lists are served from encoded copies keyed by it).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.kube_disruption import ScaleOf, budget_status, eviction_refusal
from tests.fakes.kube_patch import apply_patch
from tests.fakes.kube_selectors import parse_field_selector, parse_label_selector

# plural -> (kind, apiVersion, namespaced); for Istio the group alone: served in each version
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("Namespace", "v1", False),
    "pods": ("Pod", "v1", True),
    "replicasets": ("ReplicaSet", "apps/v1", True),
    "deployments": ("Deployment", "apps/v1", True),
    "statefulsets": ("StatefulSet", "apps/v1", True),
    "daemonsets": ("DaemonSet", "apps/v1", True),
    "poddisruptionbudgets": ("PodDisruptionBudget", "policy/v1", True),
    "leases": ("Lease", "coordination.k8s.io/v1", True),
    "virtualservices": ("VirtualService", "networking.istio.io", True),
}


@dataclass(frozen=True)
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any = None


@dataclass
class Failure:
    """An injected failure: answer `status` to requests (all, or the next `remaining`)."""

    status: int
    remaining: int | None = None


class ApiError(Exception):
    """Becomes a Status response."""

    def __init__(self, code: int, reason: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details


def status_body(code: int, reason: str, message: str, details: Any = None) -> dict[str, Any]:
    """A metav1.Status object as the API server sends it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


@dataclass
class KubeState:
    """Everything the fake stores: objects[plural][namespace][name]; "" for cluster scope."""

    objects: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    resource_version: int = 0
    requests: list[Request] = field(default_factory=list)
    deletions: list[dict[str, Any]] = field(default_factory=list)
    evictions: list[dict[str, Any]] = field(default_factory=list)
    failure: Failure | None = None
    encoded: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def next_version(self) -> str:
        """A fresh resourceVersion (a global counter, as etcd's revision)."""
        self.resource_version += 1
        return str(self.resource_version)

    def bucket(self, plural: str, namespace: str) -> dict[str, dict[str, Any]]:
        """The name -> object map for one resource in one namespace."""
        return self.objects.setdefault(plural, {}).setdefault(namespace, {})

    def put(self, obj: dict[str, Any], plural: str | None = None) -> dict[str, Any]:
        """Store an object as is (test setup), filling uid, resourceVersion and timestamps."""
        kind = obj.get("kind", "")
        plural = plural or next(p for p, (k, _, _) in RESOURCES.items() if k == kind)
        meta = obj.setdefault("metadata", {})
        namespaced = RESOURCES[plural][2]
        namespace = meta.get("namespace", "default") if namespaced else ""
        if namespaced:
            meta["namespace"] = namespace
            if namespace not in self.bucket("namespaces", ""):
                self.put({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": namespace}})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        meta["resourceVersion"] = self.next_version()
        self.bucket(plural, namespace)[meta["name"]] = obj
        return obj

    def items(self, plural: str, namespace: str | None) -> Iterator[dict[str, Any]]:
        """Objects of one resource, in etcd key order (namespace, then name)."""
        spaces = self.objects.get(plural, {})
        keys = [namespace] if namespace is not None else sorted(spaces)
        for ns in keys:
            bucket = spaces.get(ns, {})
            for name in sorted(bucket):
                yield bucket[name]


def compact(payload: Any) -> bytes:
    """Compact JSON bytes, as the API server sends them."""
    return json.dumps(payload, separators=(",", ":")).encode()


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


@dataclass
class ResourceView:
    state: KubeState
    plural: str
    kind: str
    api_version: str
    namespace: str | None

    def _out(self, obj: dict[str, Any]) -> dict[str, Any]:
        out = {**obj, "kind": self.kind, "apiVersion": self.api_version}
        if self.plural == "poddisruptionbudgets":
            # Computed at read time, as the disruption controller keeps it current.
            namespace = obj["metadata"].get("namespace", "")
            pods = list(self.state.items("pods", namespace))
            out["status"] = budget_status(obj, pods, self._scale_in(namespace))
        return out

    def _missing(self, name: str) -> ApiError:
        return ApiError(404, "NotFound", f'{self.plural} "{name}" not found')

    def _stored(self, name: str) -> dict[str, Any]:
        obj = self.state.bucket(self.plural, self.namespace or "").get(name)
        if obj is None:
            raise self._missing(name)
        return obj

    def list_objects(self, query: dict[str, list[str]]) -> bytes:
        labels = parse_label_selector(_one(query, "labelSelector"))
        fields = parse_field_selector(_one(query, "fieldSelector"))
        limit = int(_one(query, "limit") or 0)
        token = _one(query, "continue")
        after = json.loads(base64.urlsafe_b64decode(token))["after"] if token else None
        items: list[dict[str, Any]] = []
        more = False
        for obj in self.state.items(self.plural, self.namespace):
            meta = obj["metadata"]
            key = [meta.get("namespace", ""), meta["name"]]
            if after is not None and key <= after:
                continue
            if not labels(meta.get("labels") or {}) or not fields(obj):
                continue
            if limit and len(items) == limit:
                more = True
                break
            items.append(obj)
        metadata: dict[str, Any] = {"resourceVersion": str(self.state.resource_version)}
        if more:
            last = items[-1]["metadata"]
            cont = json.dumps({"after": [last.get("namespace", ""), last["name"]]})
            metadata["continue"] = base64.urlsafe_b64encode(cont.encode()).decode()
            metadata["remainingItemCount"] = 1
        head = {"kind": f"{self.kind}List", "apiVersion": self.api_version, "metadata": metadata}
        encoded = b",".join(self._encoded(o) for o in items)
        return compact(head)[:-1] + b',"items":[' + encoded + b"]}"

    def _encoded(self, obj: dict[str, Any]) -> bytes:
        # Lists are served from a cache of encoded objects (like the API server's watch
        # cache), so a benchmark measures the client rather than this fake's JSON encoder.
        # Stored objects are never changed in place: every write goes through `put`.
        if self.plural == "poddisruptionbudgets":
            return compact(self._out(obj))  # its status follows the pods, not its version
        meta = obj["metadata"]
        key = (self.plural, meta.get("namespace", ""), meta["name"], meta["resourceVersion"])
        cache = self.state.encoded
        found = cache.get((*key, self.api_version))
        if found is None:
            found = cache[(*key, self.api_version)] = compact(self._out(obj))
        return found

    def read(self, name: str) -> dict[str, Any]:
        return self._out(self._stored(name))

    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body.get("metadata", {}).get("name"):
            raise ApiError(422, "Invalid", f"{self.kind} is invalid: metadata.name: Required value")
        name = body["metadata"]["name"]
        if name in self.state.bucket(self.plural, self.namespace or ""):
            raise ApiError(409, "AlreadyExists", f'{self.plural} "{name}" already exists')
        obj = json.loads(json.dumps(body))
        obj["metadata"].pop("resourceVersion", None)
        if self.namespace:
            obj["metadata"]["namespace"] = self.namespace
        obj["kind"] = self.kind
        return self._out(self.state.put(obj, self.plural))

    def replace(self, name: str, body: Any) -> dict[str, Any]:
        current = self._stored(name)
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request was not an object")
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        have = current["metadata"]["resourceVersion"]
        if wanted and wanted != have:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {self.plural} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
            )
        obj = json.loads(json.dumps(body))
        meta = obj.setdefault("metadata", {})
        meta.update({k: current["metadata"][k] for k in ("uid", "creationTimestamp", "name")})
        if self.namespace:
            meta["namespace"] = self.namespace
        obj["kind"] = self.kind
        meta.pop("resourceVersion", None)
        return self._out(self.state.put(obj, self.plural))

    def patch(self, name: str, body: Any) -> dict[str, Any]:
        current = self._stored(name)
        obj = apply_patch(json.loads(json.dumps(current)), body)
        obj["metadata"]["name"] = name
        return self._out(self.state.put(obj, self.plural))

    def delete(self, name: str, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
        obj = self._stored(name)
        grace = _one(query, "gracePeriodSeconds")
        if grace is None and isinstance(body, dict):
            grace = body.get("gracePeriodSeconds")
        dry_run = bool(query.get("dryRun")) or (isinstance(body, dict) and body.get("dryRun"))
        if not dry_run:
            del self.state.bucket(self.plural, self.namespace or "")[name]
            self.state.deletions.append(
                {
                    "plural": self.plural,
                    "namespace": self.namespace,
                    "name": name,
                    "grace_period_seconds": None if grace is None else int(grace),
                }
            )
        return self._out(obj)

    def _scale_in(self, namespace: str) -> ScaleOf:
        def scale_of(kind: str, name: str) -> int | None:
            plural = {"ReplicaSet": "replicasets", "StatefulSet": "statefulsets"}.get(kind)
            owner = None if plural is None else self.state.bucket(plural, namespace).get(name)
            replicas = None if owner is None else (owner.get("spec") or {}).get("replicas")
            return None if replicas is None else int(replicas)

        return scale_of

    def evict(self, name: str, body: Any) -> tuple[int, Any]:
        pod = self._stored(name)
        pdbs = list(self.state.items("poddisruptionbudgets", self.namespace))
        pods = list(self.state.items("pods", self.namespace))
        refusal = eviction_refusal(pod, pdbs, pods, self._scale_in(self.namespace or ""))
        if refusal is not None:
            raise ApiError(*refusal)
        options = body.get("deleteOptions") if isinstance(body, dict) else None
        dry_run = bool(options and options.get("dryRun"))
        if not dry_run:
            del self.state.bucket("pods", self.namespace or "")[name]
            self.state.evictions.append({"namespace": self.namespace, "name": name})
        return 201, status_body(201, "", "")
