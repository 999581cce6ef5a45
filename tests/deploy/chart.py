"""Render the Helm chart in-process (helm-python-sdk embeds Helm's engine: no helm binary,
no cluster, no network) and the values variants the tests share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "gameday"
RELEASE = "gameday"
NAMESPACE = "chaos"

# The default values and the variants the acceptance names, each as a user would set it.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "namespaced": {"targetNamespaces": ["bookinfo", "shop"], "allowDelete": True},
    "istio": {"targetNamespaces": ["bookinfo"], "istio": {"enabled": True}},
    "git-sync": {
        "gitSync": {
            "enabled": True,
            "repo": "https://git.example.com/sre/chaos.git",
            "subPath": "gameday",
            "existingSecret": "git-credentials",
        }
    },
    "postgres": {
        "replicas": 2,
        "database": {"existingSecret": "gameday-database"},
        "slack": {"existingSecret": "gameday-slack"},
        "web": {"existingSecret": "gameday-web"},
        "serviceMonitor": {
            "enabled": True,
            "labels": {"release": "prometheus"},
            "tokenSecret": {"name": "gameday-web"},
        },
        "config": {"GAMEDAY_TIMEZONE": "Asia/Tokyo"},
    },
    "everything": {
        "replicas": 2,
        "live": True,
        "targetNamespaces": ["bookinfo"],
        "allowDelete": True,
        "istio": {"enabled": True},
        "database": {"existingSecret": "gameday-database"},
        "gitSync": {"enabled": True, "repo": "git@git.example.com:sre/chaos.git"},
        "serviceMonitor": {"enabled": True},
    },
}


@dataclass(frozen=True)
class Rendered:
    """The objects of one rendering, in template order."""

    objects: tuple[dict[str, Any], ...]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every object of this kind."""
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        """The only object of this kind (an AssertionError otherwise)."""
        found = self.of_kind(kind)
        assert len(found) == 1, f"{len(found)} {kind} objects"
        return found[0]

    def pod_spec(self) -> dict[str, Any]:
        """The Deployment's pod spec."""
        spec: dict[str, Any] = self.one("Deployment")["spec"]["template"]["spec"]
        return spec

    def container(self, name: str = "gameday") -> dict[str, Any]:
        """A container (or init container) of the pod by name."""
        spec = self.pod_spec()
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            if container["name"] == name:
                return dict(container)
        raise AssertionError(f"no container {name}")

    def env(self, container: str = "gameday") -> dict[str, Any]:
        """A container's env entries by name: the value, or the valueFrom mapping."""
        entries = self.container(container).get("env", [])
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in entries}

    def rules(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(Role or ClusterRole, rule) for every RBAC rule rendered."""
        for role in [*self.of_kind("Role"), *self.of_kind("ClusterRole")]:
            for rule in role.get("rules") or []:
                yield role, rule


def render(
    values: Mapping[str, Any] | None = None, *, namespace: str = NAMESPACE, name: str = RELEASE
) -> Rendered:
    """Render the chart with these values as `helm template` would (HelmError on failure)."""
    with helm_python.Chart.load(CHART) as chart:
        manifests = chart.render(dict(values or {}), name=name, namespace=namespace)
    objects: list[dict[str, Any]] = []
    for path in sorted(manifests):
        if not path.endswith(".yaml"):
            continue  # NOTES.txt
        objects.extend(doc for doc in yaml.safe_load_all(manifests[path]) if doc)
    return Rendered(tuple(objects))
