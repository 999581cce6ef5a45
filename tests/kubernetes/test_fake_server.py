"""The fake API server itself: what later work relies on (leases, Istio, selectors, faults)."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi
from tests.fakes.kube_selectors import SelectorError, parse_label_selector

ISTIO = "networking.istio.io"


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("", {}, True),
        ("a=1", {"a": "1"}, True),
        ("a=1", {}, False),
        ("a!=1", {}, True),
        ("a notin (1,2)", {"a": "3"}, True),
        ("a notin (1,2)", {"a": "2"}, False),
        ("a in (1, 2)", {"a": "2"}, True),
        ("example.com/a", {"example.com/a": ""}, True),
        ("!a", {"a": "x"}, False),
        ("a>3", {"a": "4"}, True),
        ("a<3", {"a": "4"}, False),
        ("a , b=2", {"a": "x", "b": "2"}, True),
    ],
)
def test_label_selector_grammar(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_label_selector(selector)(labels) is matches


@pytest.mark.parametrize("selector", ["a in (1", "a=b=c d", "=x", "a,,b", "a>x"])
def test_malformed_selectors_are_refused(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_cluster_wide_list_paginates_across_namespaces(
    kube_api: FakeKubeApi, kube_client: client.ApiClient
) -> None:
    for ns in ("a", "b", "c"):
        kube_api.put(*(ko.pod(ns, f"p{i}", labels={"n": str(i)}) for i in range(3)))
    core = client.CoreV1Api(kube_client)
    seen: list[str] = []
    token = None
    while True:
        page = core.list_pod_for_all_namespaces(limit=2, label_selector="n!=0", _continue=token)
        seen += [f"{p.metadata.namespace}/{p.metadata.name}" for p in page.items]
        token = page.metadata._continue
        if not token:
            break

    assert seen == ["a/p1", "a/p2", "b/p1", "b/p2", "c/p1", "c/p2"]
    assert [n.metadata.name for n in core.list_namespace().items] == ["a", "b", "c"]


def test_field_selector(kube_api: FakeKubeApi, kube_client: client.ApiClient) -> None:
    kube_api.put(ko.pod("a", "run"), ko.pod("a", "wait", phase="Pending"))
    core = client.CoreV1Api(kube_client)

    pods = core.list_namespaced_pod("a", field_selector="status.phase=Running").items

    assert [p.metadata.name for p in pods] == ["run"]


def test_leases_use_optimistic_concurrency(
    kube_api: FakeKubeApi, kube_client: client.ApiClient
) -> None:
    leases = client.CoordinationV1Api(kube_client)
    body = client.V1Lease(
        metadata=client.V1ObjectMeta(name="leader"),
        spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15),
    )
    created = leases.create_namespaced_lease("gameday", body)
    stale = leases.read_namespaced_lease("leader", "gameday")
    created.spec.holder_identity = "b"
    leases.replace_namespaced_lease("leader", "gameday", created)
    stale.spec.holder_identity = "c"

    with pytest.raises(client.ApiException) as conflict:
        leases.replace_namespaced_lease("leader", "gameday", stale)
    with pytest.raises(client.ApiException) as exists:
        leases.create_namespaced_lease("gameday", body)

    assert (conflict.value.status, exists.value.status) == (409, 409)
    assert leases.read_namespaced_lease("leader", "gameday").spec.holder_identity == "b"


@pytest.mark.parametrize("version", ["v1alpha3", "v1beta1"])
def test_virtual_services(
    kube_api: FakeKubeApi, kube_client: client.ApiClient, version: str
) -> None:
    custom = client.CustomObjectsApi(kube_client)
    args = (ISTIO, version, "shop", "virtualservices")
    custom.create_namespaced_custom_object(*args, ko.virtual_service("shop", "reviews", "reviews"))
    fault = {"fault": {"delay": {"fixedDelay": "5s", "percentage": {"value": 100}}}}
    route = {"route": [{"destination": {"host": "reviews"}}]}

    custom.patch_namespaced_custom_object(
        *args, "reviews", {"spec": {"http": [{**fault, **route}]}}
    )
    got = custom.get_namespaced_custom_object(*args, "reviews")
    listed = custom.list_namespaced_custom_object(*args)["items"]
    got["spec"]["http"] = [route]
    custom.replace_namespaced_custom_object(*args, "reviews", got)
    restored = custom.get_namespaced_custom_object(*args, "reviews")
    custom.delete_namespaced_custom_object(*args, "reviews")

    assert listed[0]["spec"]["http"][0]["fault"]["delay"]["fixedDelay"] == "5s"
    assert listed[0]["apiVersion"] == f"{ISTIO}/{version}"
    assert "fault" not in restored["spec"]["http"][0]
    assert kube_api.names("virtualservices", "shop") == []


def test_injected_failures_stop_after_the_given_count(
    kube_api: FakeKubeApi, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    kube_api.fail(500, times=1)

    with pytest.raises(client.ApiException) as failed:
        core.list_namespace()

    assert failed.value.status == 500
    assert core.list_namespace().items == []
    assert [r.path for r in kube_api.requests] == ["/api/v1/namespaces"] * 2
