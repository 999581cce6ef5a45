"""Pod discovery through the real kubernetes client against the fake API server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gameday.adapters.kubernetes.cluster import KubeCluster
from gameday.domain.errors import InvalidInput, Unavailable
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi

OPT_IN = {"gameday.io/enabled": "true"}


def _pod_lists(api: FakeKubeApi, namespace: str) -> list[dict[str, list[str]]]:
    path = f"/api/v1/namespaces/{namespace}/pods"
    return [r.query for r in api.requests if r.method == "GET" and r.path == path]


def test_lists_every_page_with_limit_and_continue(
    kube_api: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    kube_api.put(*(ko.pod("shop", f"p-{i:03d}", labels={"app": "web"}) for i in range(20)))

    pods = live_cluster.pods("shop", None)

    assert sorted(p.name for p in pods) == [f"p-{i:03d}" for i in range(20)]
    queries = _pod_lists(kube_api, "shop")
    assert len(queries) == 7  # pages of 3
    assert all(q["limit"] == ["3"] for q in queries)
    assert "continue" not in queries[0]
    assert all("continue" in q for q in queries[1:])


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", {"web-1", "web-2"}),
        ("app==web,tier=front", {"web-1"}),
        ("app!=web", {"db-1", "bare"}),
        ("app in (web, db)", {"web-1", "web-2", "db-1"}),
        ("app notin (web)", {"db-1", "bare"}),
        ("tier", {"web-1", "db-1"}),
        ("!tier", {"web-2", "bare"}),
        ("app in (web),!tier", {"web-2"}),
    ],
)
def test_label_selector_is_applied_by_the_server(
    kube_api: FakeKubeApi, live_cluster: KubeCluster, selector: str, expected: set[str]
) -> None:
    kube_api.put(
        ko.pod("shop", "web-1", labels={"app": "web", "tier": "front"}),
        ko.pod("shop", "web-2", labels={"app": "web"}),
        ko.pod("shop", "db-1", labels={"app": "db", "tier": "back"}),
        ko.pod("shop", "bare", labels={}),
    )

    pods = live_cluster.pods("shop", selector)

    assert {p.name for p in pods} == expected
    assert all(q["labelSelector"] == [selector] for q in _pod_lists(kube_api, "shop"))


def test_malformed_selector_is_invalid_input(live_cluster: KubeCluster) -> None:
    with pytest.raises(InvalidInput, match=r"label selector 'app in \(web' was refused"):
        live_cluster.pods("shop", "app in (web")


def test_owner_labels_come_from_the_deployment_behind_the_replica_set(
    kube_api: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    kube_api.put(*ko.workload("shop", "web", replicas=2, labels=OPT_IN))

    pods = live_cluster.pods("shop", None)

    assert {(p.owner_kind, p.owner_name) for p in pods} == {("Deployment", "web")}
    assert all(p.owner_labels.get("gameday.io/enabled") == "true" for p in pods)
    assert all(p.labels.get("gameday.io/enabled") is None for p in pods)


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_direct_owners_are_read(
    kube_api: FakeKubeApi, live_cluster: KubeCluster, kind: str
) -> None:
    kube_api.put(*ko.workload("shop", "cache", kind=kind, replicas=2, labels=OPT_IN))

    pods = live_cluster.pods("shop", None)

    assert {(p.owner_kind, p.owner_name) for p in pods} == {(kind, "cache")}
    assert all(p.owner_labels == OPT_IN for p in pods)


def test_pod_facts_carry_phase_readiness_start_and_node(
    kube_api: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    started = datetime(2025, 12, 30, 8, 0, tzinfo=UTC)
    kube_api.put(
        ko.pod("shop", "a", started=started, node="n-7"),
        ko.pod("shop", "b", ready=False),
        ko.pod("shop", "c", phase="Pending"),
    )

    pods = {p.name: p for p in live_cluster.pods("shop", None)}

    assert (pods["a"].started_at, pods["a"].node, pods["a"].ready) == (started, "n-7", True)
    assert pods["b"].ready is False
    assert (pods["c"].phase, pods["c"].started_at) == ("Pending", None)
    assert pods["a"].owner_kind is None
    assert pods["a"].workload == "shop/Pod/a"


def test_orphaned_pod_keeps_its_replica_set_as_owner(
    kube_api: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    kube_api.put(ko.pod("shop", "lone", owner=("ReplicaSet", "gone-rs")))

    (pod,) = live_cluster.pods("shop", None)

    assert (pod.owner_kind, pod.owner_name, dict(pod.owner_labels)) == ("ReplicaSet", "gone-rs", {})


def test_many_owners_are_listed_once_instead_of_read_one_by_one(
    kube_api: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    for index in range(8):
        kube_api.put(*ko.workload("shop", f"svc-{index}", replicas=2, labels=OPT_IN))
    kube_api.clear_requests()

    pods = live_cluster.pods("shop", None)

    assert len(pods) == 16
    assert all(p.owner_kind == "Deployment" for p in pods)
    paths = [r.path for r in kube_api.requests]
    assert "/apis/apps/v1/namespaces/shop/replicasets" in paths
    assert "/apis/apps/v1/namespaces/shop/deployments" in paths
    assert not any(p.startswith("/apis/apps/v1/namespaces/shop/replicasets/") for p in paths)


def test_discovery_sends_no_mutating_request(
    kube_api: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    kube_api.put(*ko.workload("shop", "web", replicas=3, labels=OPT_IN))
    kube_api.clear_requests()

    live_cluster.pods("shop", "app=web")

    assert kube_api.requests
    assert kube_api.mutating_requests() == []


def test_several_namespaces_come_back_in_namespace_order(
    kube_api: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    namespaces = [f"team-{n}" for n in range(6)]
    for namespace in namespaces:
        kube_api.put(*(ko.pod(namespace, f"p{i}") for i in range(4)))

    pods = live_cluster.pods_in(list(reversed(namespaces)), None)

    assert [p.namespace for p in pods] == [ns for ns in reversed(namespaces) for _ in range(4)]


def test_a_failing_namespace_fails_the_whole_discovery(
    kube_api: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    kube_api.put(*(ko.pod(f"team-{n}", "p") for n in range(6)))
    kube_api.fail(503)

    with pytest.raises(Unavailable, match="answered 503 while listing pods in namespace team-"):
        live_cluster.pods_in([f"team-{n}" for n in range(6)], None)
