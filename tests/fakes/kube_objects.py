"""Factories for the objects the fake Kubernetes API server stores, and a kubeconfig for it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(days=1)


def ts(value: datetime) -> str:
    """RFC 3339 as the API server writes it."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def owner_ref(kind: str, name: str, api_version: str = "apps/v1") -> dict[str, Any]:
    """A controller ownerReference (uid derived from the name so it is stable)."""
    uid = hashlib.sha1(f"{kind}/{name}".encode(), usedforsecurity=False).hexdigest()
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod(
    namespace: str,
    name: str,
    *,
    labels: Mapping[str, str] | None = None,
    owner: tuple[str, str] | None = None,
    phase: str = "Running",
    ready: bool = True,
    started: datetime = DEFAULT_START,
    node: str | None = "node-1",
) -> dict[str, Any]:
    """A pod with one container; `owner` is (kind, name) of its controller."""
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": dict(labels or {}),
        "creationTimestamp": ts(started),
    }
    if owner is not None:
        meta["ownerReferences"] = [owner_ref(*owner)]
    status: dict[str, Any] = {"phase": phase}
    if phase == "Running":
        status["startTime"] = ts(started)
        status["conditions"] = [
            {"type": "Ready", "status": "True" if ready else "False"},
            {"type": "ContainersReady", "status": "True" if ready else "False"},
        ]
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "example/app:1"}]}
    if node is not None:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def _template(selector: Mapping[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"labels": dict(selector)},
        "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
    }


def workload(
    namespace: str,
    name: str,
    *,
    kind: str = "Deployment",
    replicas: int = 2,
    labels: Mapping[str, str] | None = None,
    pod_labels: Mapping[str, str] | None = None,
    started: datetime = DEFAULT_START,
    ready: bool = True,
) -> list[dict[str, Any]]:
    """A Deployment (with its ReplicaSet), StatefulSet or DaemonSet and its pods."""
    selector = {"app": name}
    all_pod_labels = {**selector, **dict(pod_labels or {})}
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "template": _template(selector),
    }
    top = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": spec if kind != "DaemonSet" else {k: v for k, v in spec.items() if k != "replicas"},
    }
    objects: list[dict[str, Any]] = [top]
    owner = (kind, name)
    prefix = name
    if kind == "Deployment":
        rs_name = f"{name}-5d8f7c9b6"
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": rs_name,
                    "namespace": namespace,
                    "labels": {**selector, "pod-template-hash": "5d8f7c9b6"},
                    "ownerReferences": [owner_ref("Deployment", name)],
                },
                "spec": {"replicas": replicas, "selector": {"matchLabels": selector}},
            }
        )
        owner, prefix = ("ReplicaSet", rs_name), rs_name
    for index in range(replicas):
        suffix = str(index) if kind == "StatefulSet" else f"x{index:04d}"
        objects.append(
            pod(
                namespace,
                f"{prefix}-{suffix}",
                labels=all_pod_labels,
                owner=owner,
                started=started,
                ready=ready,
                node=f"node-{index % 3 + 1}",
            )
        )
    return objects


def pdb(
    namespace: str,
    name: str,
    match_labels: Mapping[str, str],
    *,
    min_available: int | str | None = None,
    max_unavailable: int | str | None = None,
) -> dict[str, Any]:
    """A policy/v1 PodDisruptionBudget."""
    spec: dict[str, Any] = {"selector": {"matchLabels": dict(match_labels)}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def virtual_service(namespace: str, name: str, host: str) -> dict[str, Any]:
    """An Istio VirtualService routing all traffic to one host."""
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"hosts": [host], "http": [{"route": [{"destination": {"host": host}}]}]},
    }


def write_kubeconfig(
    path: Path,
    server: str,
    *,
    context: str = "fake",
    token: str = "fake-token-do-not-print",  # noqa: S107
) -> Path:
    """A kubeconfig with one cluster/user/context pointing at `server`."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server}}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
