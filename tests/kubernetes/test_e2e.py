"""The same scenarios against a real cluster (kind, for instance); opt in with
GAMEDAY_E2E_KUBECONFIG=path. Everything happens in a throwaway namespace that is removed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, watch

from gameday.adapters.kubernetes.client import build_api_client
from gameday.adapters.kubernetes.cluster import KubeCluster, ReadOnlyCluster
from gameday.domain.pods import TerminationOutcome

KUBECONFIG = os.environ.get("GAMEDAY_E2E_KUBECONFIG")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not KUBECONFIG, reason="GAMEDAY_E2E_KUBECONFIG is not set (no real cluster to test)"
    ),
]

OPT_IN = {"gameday.io/enabled": "true"}


@pytest.fixture(scope="module")
def api_client() -> client.ApiClient:
    return build_api_client(kubeconfig=Path(KUBECONFIG or ""))


@pytest.fixture(scope="module")
def namespace(api_client: client.ApiClient) -> Iterator[str]:
    core = client.CoreV1Api(api_client)
    name = f"gameday-e2e-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    selector = client.V1LabelSelector(match_labels={"app": "sleeper"})
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": "sleeper"}),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="pause", image="registry.k8s.io/pause:3.9")]
        ),
    )
    client.AppsV1Api(api_client).create_namespaced_deployment(
        name,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="sleeper", labels=OPT_IN),
            spec=client.V1DeploymentSpec(replicas=2, selector=selector, template=template),
        ),
    )
    client.PolicyV1Api(api_client).create_namespaced_pod_disruption_budget(
        name,
        client.V1PodDisruptionBudget(
            metadata=client.V1ObjectMeta(name="sleeper"),
            spec=client.V1PodDisruptionBudgetSpec(min_available=2, selector=selector),
        ),
    )
    ready: set[str] = set()
    stream = watch.Watch().stream(core.list_namespaced_pod, name, timeout_seconds=180)
    for event in stream:
        pod = event["object"]
        conditions = pod.status.conditions or []
        if any(c.type == "Ready" and c.status == "True" for c in conditions):
            ready.add(pod.metadata.name)
        if len(ready) >= 2:
            break
    try:
        yield name
    finally:
        core.delete_namespace(name)


def test_discovery_resolves_the_deployment(api_client: client.ApiClient, namespace: str) -> None:
    pods = KubeCluster(api_client, page_size=1).pods(namespace, "app=sleeper")

    assert len(pods) >= 2
    assert {(p.owner_kind, p.owner_name) for p in pods} == {("Deployment", "sleeper")}
    assert all(p.owner_labels.get("gameday.io/enabled") == "true" for p in pods)


def test_budget_refuses_the_eviction(api_client: client.ApiClient, namespace: str) -> None:
    cluster = KubeCluster(api_client, read_only=False)
    pod = cluster.pods(namespace, "app=sleeper")[0]

    result = cluster.terminate(namespace, pod.name, method="evict", grace_period=None)

    assert result.outcome is TerminationOutcome.SKIPPED
    assert "disruption budget" in result.reason


def test_read_only_refuses(api_client: client.ApiClient, namespace: str) -> None:
    cluster = KubeCluster(api_client, read_only=True)
    pod = cluster.pods(namespace, "app=sleeper")[0]

    with pytest.raises(ReadOnlyCluster):
        cluster.terminate(namespace, pod.name, method="delete", grace_period=0)
