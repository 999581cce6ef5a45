"""Eviction (PDB-aware), deletion, read-only refusal and outages, against the fake server."""

from __future__ import annotations

import pytest

from gameday.adapters.kubernetes.cluster import KubeCluster, ReadOnlyCluster
from gameday.domain.errors import Unavailable
from gameday.domain.pods import TerminationOutcome
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi

POD = "web-5d8f7c9b6-x0000"


@pytest.fixture
def web(kube_api: FakeKubeApi) -> FakeKubeApi:
    kube_api.put(*ko.workload("shop", "web", replicas=3))
    kube_api.clear_requests()
    return kube_api


def test_eviction_removes_the_pod(web: FakeKubeApi, live_cluster: KubeCluster) -> None:
    result = live_cluster.terminate("shop", POD, method="evict", grace_period=None)

    assert result.outcome is TerminationOutcome.TERMINATED
    assert POD not in web.names("pods", "shop")
    assert [(r.method, r.path) for r in web.mutating_requests()] == [
        ("POST", f"/api/v1/namespaces/shop/pods/{POD}/eviction")
    ]
    assert web.mutating_requests()[0].body["kind"] == "Eviction"


@pytest.mark.parametrize(
    "budget",
    [
        {"min_available": 3},
        {"min_available": "100%"},
        {"max_unavailable": 0},
    ],
)
def test_budget_without_disruptions_skips_and_never_deletes(
    web: FakeKubeApi, live_cluster: KubeCluster, budget: dict[str, int | str]
) -> None:
    web.put(ko.pdb("shop", "web-pdb", {"app": "web"}, **budget))  # type: ignore[arg-type]

    result = live_cluster.terminate("shop", POD, method="evict", grace_period=None)

    assert result.outcome is TerminationOutcome.SKIPPED
    assert result.reason == "Cannot evict pod as it would violate the pod's disruption budget."
    assert "web-pdb needs 3 healthy pods and has 3 currently" in result.detail
    assert POD in web.names("pods", "shop")
    assert [r.method for r in web.mutating_requests()] == ["POST"]


def test_budget_with_room_allows_one_eviction_then_refuses(
    web: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    web.put(ko.pdb("shop", "web-pdb", {"app": "web"}, max_unavailable=1))
    others = [n for n in web.names("pods", "shop") if n != POD]

    first = live_cluster.terminate("shop", POD, method="evict", grace_period=None)
    second = live_cluster.terminate("shop", others[0], method="evict", grace_period=None)

    assert first.outcome is TerminationOutcome.TERMINATED
    assert second.outcome is TerminationOutcome.SKIPPED


def test_delete_passes_the_grace_period(web: FakeKubeApi, live_cluster: KubeCluster) -> None:
    result = live_cluster.terminate("shop", POD, method="delete", grace_period=12)

    assert result.outcome is TerminationOutcome.TERMINATED
    assert web.state.deletions == [
        {"plural": "pods", "namespace": "shop", "name": POD, "grace_period_seconds": 12}
    ]


def test_missing_pod_is_gone(web: FakeKubeApi, live_cluster: KubeCluster) -> None:
    result = live_cluster.terminate("shop", "nope", method="evict", grace_period=None)

    assert result.outcome is TerminationOutcome.GONE


@pytest.mark.parametrize("method", ["evict", "delete"])
def test_read_only_cluster_refuses_and_sends_nothing(
    web: FakeKubeApi, read_only_cluster: KubeCluster, method: str
) -> None:
    with pytest.raises(ReadOnlyCluster, match="read-only"):
        read_only_cluster.terminate("shop", POD, method=method, grace_period=None)

    assert web.requests == []


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_unavailable_with_host_and_status(
    web: FakeKubeApi, live_cluster: KubeCluster, status: int
) -> None:
    web.fail(status)

    with pytest.raises(Unavailable) as caught:
        live_cluster.terminate("shop", POD, method="evict", grace_period=None)

    assert str(caught.value) == (
        f"Kubernetes API at {web.url} answered {status} while evicting pod shop/{POD}: "
        "injected failure"
    )
    with pytest.raises(
        Unavailable, match=f"answered {status} while listing pods in namespace shop"
    ):
        live_cluster.pods("shop", None)


def test_refused_connection_is_unavailable(web: FakeKubeApi, live_cluster: KubeCluster) -> None:
    web.refuse_connections()

    with pytest.raises(Unavailable) as caught:
        live_cluster.pods("shop", None)

    assert str(caught.value) == (
        f"Kubernetes API at {web.url} cannot be reached while listing pods in namespace shop: "
        "connection refused"
    )
