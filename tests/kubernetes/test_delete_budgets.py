"""`method: delete` honours PodDisruptionBudgets: the budgets of the pod's namespace are read
first and the DELETE is sent only when every budget covering the pod allows a disruption."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from gameday.adapters.kubernetes.cluster import KubeCluster
from gameday.domain.disruption_budgets import blocking_budget, selector_matches
from gameday.domain.errors import Unavailable
from gameday.domain.pods import TerminationOutcome
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi

POD = "web-5d8f7c9b6-x0000"
LIST_BUDGETS = "/apis/policy/v1/namespaces/shop/poddisruptionbudgets"


@pytest.fixture
def web(kube_api: FakeKubeApi) -> FakeKubeApi:
    kube_api.put(*ko.workload("shop", "web", replicas=3))
    kube_api.clear_requests()
    return kube_api


def deletes(api: FakeKubeApi) -> list[str]:
    return [r.path for r in api.mutating_requests() if r.method == "DELETE"]


def budget(name: str, selector: dict[str, Any] | None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"selector": selector, **spec},
    }


@pytest.mark.parametrize(
    "spec", [{"min_available": 3}, {"min_available": "100%"}, {"max_unavailable": 0}]
)
def test_budget_allowing_no_disruption_skips_without_a_delete(
    web: FakeKubeApi, live_cluster: KubeCluster, spec: dict[str, Any]
) -> None:
    web.put(ko.pdb("shop", "web-pdb", {"app": "web"}, **spec))

    result = live_cluster.terminate("shop", POD, method="delete", grace_period=None)

    assert result.outcome is TerminationOutcome.SKIPPED
    assert result.method == "delete"
    assert result.reason == (
        "PodDisruptionBudget web-pdb allows no disruption now (disruptionsAllowed 0)"
    )
    assert web.mutating_requests() == []
    assert POD in web.names("pods", "shop")
    assert [(r.method, r.path) for r in web.requests] == [
        ("GET", LIST_BUDGETS),
        ("GET", f"/api/v1/namespaces/shop/pods/{POD}"),
    ]


def test_budget_allowing_one_deletes_once_then_skips(
    web: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    web.put(ko.pdb("shop", "web-pdb", {"app": "web"}, max_unavailable=1))
    other = next(n for n in web.names("pods", "shop") if n != POD)

    first = live_cluster.terminate("shop", POD, method="delete", grace_period=5)
    second = live_cluster.terminate("shop", other, method="delete", grace_period=5)

    assert first.outcome is TerminationOutcome.TERMINATED
    assert deletes(web) == [f"/api/v1/namespaces/shop/pods/{POD}"]
    assert web.state.deletions[0]["grace_period_seconds"] == 5
    # The ReplicaSet still wants 3: with one pod gone the budget has no room left.
    assert second.outcome is TerminationOutcome.SKIPPED
    assert "web-pdb allows no disruption now" in second.reason


@pytest.mark.parametrize(
    "selector",
    [
        {"matchLabels": {"app": "other"}},
        {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
        {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
        None,
    ],
    ids=["other-labels", "not-in", "exists-missing-key", "null-selector"],
)
def test_budget_not_covering_the_pod_does_not_stop_the_delete(
    web: FakeKubeApi, live_cluster: KubeCluster, selector: dict[str, Any] | None
) -> None:
    web.put(budget("other-pdb", selector, minAvailable="100%"))

    result = live_cluster.terminate("shop", POD, method="delete", grace_period=None)

    assert result.outcome is TerminationOutcome.TERMINATED
    assert deletes(web) == [f"/api/v1/namespaces/shop/pods/{POD}"]


@pytest.mark.parametrize(
    "selector",
    [
        {},
        {"matchExpressions": [{"key": "app", "operator": "In", "values": ["api", "web"]}]},
        {"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]},
    ],
    ids=["empty-selects-all", "in", "does-not-exist"],
)
def test_covering_budget_by_expression_stops_the_delete(
    web: FakeKubeApi, live_cluster: KubeCluster, selector: dict[str, Any]
) -> None:
    web.put(budget("all-pdb", selector, minAvailable=3))

    result = live_cluster.terminate("shop", POD, method="delete", grace_period=None)

    assert result.outcome is TerminationOutcome.SKIPPED
    assert deletes(web) == []


def test_every_covering_budget_must_allow_it(web: FakeKubeApi, live_cluster: KubeCluster) -> None:
    web.put(
        ko.pdb("shop", "a-roomy", {"app": "web"}, max_unavailable=2),
        ko.pdb("shop", "b-strict", {"app": "web"}, min_available=3),
    )

    result = live_cluster.terminate("shop", POD, method="delete", grace_period=None)

    assert result.outcome is TerminationOutcome.SKIPPED
    assert result.reason.startswith("PodDisruptionBudget b-strict ")
    assert deletes(web) == []


def test_budget_list_failure_is_an_outage_and_nothing_is_deleted(
    web: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    web.fail(503, times=1)

    with pytest.raises(Unavailable) as caught:
        live_cluster.terminate("shop", POD, method="delete", grace_period=None)

    assert str(caught.value) == (
        f"Kubernetes API at {web.url} answered 503 while listing PodDisruptionBudgets in "
        "namespace shop: injected failure"
    )
    assert web.mutating_requests() == []
    assert [r.path for r in web.requests] == [LIST_BUDGETS]


def test_pod_already_gone_with_budgets_is_gone(web: FakeKubeApi, live_cluster: KubeCluster) -> None:
    web.put(ko.pdb("shop", "web-pdb", {"app": "web"}, max_unavailable=1))

    result = live_cluster.terminate("shop", "nope", method="delete", grace_period=None)

    assert result.outcome is TerminationOutcome.GONE
    assert web.mutating_requests() == []


def test_namespace_without_budgets_deletes_after_one_list(
    web: FakeKubeApi, live_cluster: KubeCluster
) -> None:
    result = live_cluster.terminate("shop", POD, method="delete", grace_period=None)

    assert result.outcome is TerminationOutcome.TERMINATED
    assert [(r.method, r.path) for r in web.requests] == [
        ("GET", LIST_BUDGETS),
        ("DELETE", f"/api/v1/namespaces/shop/pods/{POD}"),
    ]


def test_fake_reports_budget_status_as_the_disruption_controller(
    web: FakeKubeApi, kube_client: client.ApiClient
) -> None:
    web.put(ko.pdb("shop", "web-pdb", {"app": "web"}, min_available=2))
    policy = client.PolicyV1Api(kube_client)

    listed = policy.list_namespaced_pod_disruption_budget("shop").items[0].status
    web.put(ko.pod("shop", "stray", labels={"app": "web"}, ready=False))
    read = policy.read_namespaced_pod_disruption_budget("web-pdb", "shop").status

    assert (
        listed.disruptions_allowed,
        listed.current_healthy,
        listed.desired_healthy,
        listed.expected_pods,
    ) == (1, 3, 2, 3)
    # A pod without a controller makes the expected count the number of pods.
    assert (read.disruptions_allowed, read.current_healthy, read.expected_pods) == (1, 3, 4)


# -- the pure rules -------------------------------------------------------------------------

LABELS = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        (None, False),
        ({}, True),
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "web", "tier": "back"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}, True),
        ({"matchExpressions": [{"key": "x", "operator": "In", "values": ["web"]}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, False),
        ({"matchExpressions": [{"key": "x", "operator": "NotIn", "values": ["web"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]}, True),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}],
            },
            False,
        ),
    ],
)
def test_label_selector_matching(selector: dict[str, Any] | None, matches: bool) -> None:
    assert selector_matches(selector, LABELS) is matches


@pytest.mark.parametrize(
    ("status", "metadata", "reason"),
    [
        ({"disruptionsAllowed": 1}, {}, None),
        (
            {"disruptionsAllowed": 0},
            {},
            "PodDisruptionBudget b allows no disruption now (disruptionsAllowed 0)",
        ),
        (
            None,
            {},
            "PodDisruptionBudget b allows no disruption now (disruptionsAllowed not reported)",
        ),
        (
            {"disruptionsAllowed": 2, "observedGeneration": 1},
            {"generation": 2},
            "PodDisruptionBudget b is being recounted (observedGeneration 1 < generation 2)",
        ),
    ],
)
def test_blocking_budget(
    status: dict[str, Any] | None, metadata: dict[str, Any], reason: str | None
) -> None:
    pdb: dict[str, Any] = {
        "metadata": {"name": "b", **metadata},
        "spec": {"selector": {}},
        "status": status,
    }
    assert blocking_budget([pdb], LABELS) == reason
