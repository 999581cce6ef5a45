"""The request guard on the real kubernetes client, against the fake API server over HTTP:
refused requests never leave the process, reads and allowed writes do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.config import kube_config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ForbiddenError
from kubernetes.dynamic.resource import Resource
from kubernetes.stream import stream

from gameday.adapters.kubernetes.errors import server_message
from gameday.adapters.kubernetes.guard import (
    RequestRefused,
    guard_api_client,
    install_request_guard,
)
from gameday.domain.kube_requests import RequestPolicy
from gameday.domain.protection import PROTECTED_NAMESPACES
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi

ISTIO = ("networking.istio.io", "v1alpha3")
PATCH = {"spec": {"http": [{"route": [{"destination": {"host": "x"}}], "fault": {}}]}}
LIVE = RequestPolicy(protected=PROTECTED_NAMESPACES | {"gameday"}, targets=None, dry_run=False)
DRY = RequestPolicy(protected=LIVE.protected, targets=None, dry_run=True)
SHOP_ONLY = RequestPolicy(protected=LIVE.protected, targets=frozenset({"shop"}), dry_run=False)

Refusals = list[tuple[str, str, str]]
Install = Callable[[RequestPolicy], Refusals]


@pytest.fixture
def cluster(kube_api: FakeKubeApi) -> FakeKubeApi:
    """Pods and a VirtualService in shop, bookinfo, kube-system and gameday's namespace."""
    for ns in ("shop", "bookinfo", "kube-system", "gameday"):
        kube_api.put(ko.pod(ns, "p1"), ko.pod(ns, "p2"), ko.virtual_service(ns, "vs", "vs"))
    kube_api.clear_requests()
    return kube_api


@pytest.fixture
def guard() -> Iterator[Install]:
    """Install the process-wide guard with a policy; it is removed after the test."""
    uninstalls: list[Callable[[], None]] = []

    def install(policy: RequestPolicy) -> Refusals:
        refused: Refusals = []
        uninstalls.append(install_request_guard(policy, lambda *r: refused.append(r)))
        return refused

    try:
        yield install
    finally:
        for uninstall in reversed(uninstalls):
            uninstall()


def core(kube_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(kube_client)


def evict(api: client.CoreV1Api, ns: str, name: str) -> None:
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=ns))
    api.create_namespaced_pod_eviction(name, ns, body)


def patch_vs(kube_client: client.ApiClient, ns: str) -> None:
    client.CustomObjectsApi(kube_client).patch_namespaced_custom_object(
        *ISTIO, ns, "virtualservices", "vs", PATCH
    )


def dynamic_pods(kube_client: client.ApiClient) -> tuple[DynamicClient, Resource]:
    # The fake serves no discovery documents: describe the resource by hand.
    dyn = DynamicClient(kube_client, discoverer=lambda _client, _cache: None)
    pods = Resource(
        prefix="api", group="", api_version="v1", kind="Pod", namespaced=True, name="pods"
    )
    return dyn, pods


def dynamic_delete(kube_client: client.ApiClient, ns: str) -> object:
    dyn, pods = dynamic_pods(kube_client)
    return dyn.delete(pods, name="p1", namespace=ns)


MUTATIONS: dict[str, Callable[[client.ApiClient, str], object]] = {
    "delete": lambda c, ns: core(c).delete_namespaced_pod("p1", ns),
    "evict": lambda c, ns: evict(core(c), ns, "p1"),
    "patch-virtual-service": patch_vs,
    "delete-collection": lambda c, ns: core(c).delete_collection_namespaced_pod(ns),
    "create": lambda c, ns: core(c).create_namespaced_pod(ns, ko.pod(ns, "p9")),
    "dynamic-delete": dynamic_delete,
    "rest-delete": lambda c, ns: c.rest_client.request(
        "DELETE", f"{c.configuration.host}/api/v1/namespaces/{ns}/pods/p1"
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("ns", ["kube-system", "gameday"])
def test_protected_namespace_is_never_changed(
    cluster: FakeKubeApi,
    kube_client: client.ApiClient,
    guard: Install,
    mutation: str,
    ns: str,
) -> None:
    refused = guard(LIVE)

    with pytest.raises((RequestRefused, ForbiddenError)) as caught:
        MUTATIONS[mutation](kube_client, ns)

    assert cluster.requests == []
    assert cluster.names("pods", ns) == ["p1", "p2"]
    assert len(refused) == 1
    method, path, reason = refused[0]
    assert path.startswith(f"/api{'s' if mutation == 'patch-virtual-service' else ''}/")
    assert reason.startswith(f"namespace {ns} is protected: gameday never changes it (")
    assert method in reason
    if isinstance(caught.value, RequestRefused):
        assert (caught.value.status, caught.value.reason) == (403, reason)
        assert server_message(caught.value) == reason


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_namespace_outside_targets_is_never_changed(
    cluster: FakeKubeApi, kube_client: client.ApiClient, guard: Install, mutation: str
) -> None:
    refused = guard(SHOP_ONLY)

    with pytest.raises((RequestRefused, ForbiddenError)):
        MUTATIONS[mutation](kube_client, "bookinfo")

    assert cluster.mutating_requests() == []
    assert "namespace bookinfo is not a target (GAMEDAY_TARGET_NAMESPACES: shop)" in refused[0][2]


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_dry_run_sends_no_mutating_request(
    cluster: FakeKubeApi, kube_client: client.ApiClient, guard: Install, mutation: str
) -> None:
    refused = guard(DRY)

    with pytest.raises((RequestRefused, ForbiddenError)):
        MUTATIONS[mutation](kube_client, "shop")

    assert cluster.mutating_requests() == []
    assert refused[0][2].startswith("dry run: gameday sends no mutating request (")


@pytest.mark.parametrize("mutation", sorted(set(MUTATIONS) - {"delete-collection", "create"}))
def test_allowed_live_requests_reach_the_server(
    cluster: FakeKubeApi, kube_client: client.ApiClient, guard: Install, mutation: str
) -> None:
    refused = guard(SHOP_ONLY)

    MUTATIONS[mutation](kube_client, "shop")

    assert refused == []
    assert len(cluster.mutating_requests()) == 1
    assert cluster.mutating_requests()[0].path.startswith(
        "/apis/networking.istio.io/v1alpha3/namespaces/shop/"
        if mutation == "patch-virtual-service"
        else "/api/v1/namespaces/shop/pods/p1"
    )


@pytest.mark.parametrize("policy", [LIVE, DRY, SHOP_ONLY])
def test_reads_go_through_everywhere(
    cluster: FakeKubeApi, kube_client: client.ApiClient, guard: Install, policy: RequestPolicy
) -> None:
    refused = guard(policy)
    dyn, pods = dynamic_pods(kube_client)

    names = [p.metadata.name for p in core(kube_client).list_namespaced_pod("kube-system").items]
    vs = client.CustomObjectsApi(kube_client).get_namespaced_custom_object(
        *ISTIO, "kube-system", "virtualservices", "vs"
    )
    dynamic = dyn.get(pods, namespace="gameday")
    raw = kube_client.rest_client.request("GET", f"{cluster.url}/api/v1/namespaces/shop/pods/p1")

    assert names == ["p1", "p2"]
    assert vs["metadata"]["name"] == "vs"
    assert [p.metadata.name for p in dynamic.items] == ["p1", "p2"]
    assert raw.status == 200
    assert refused == []
    assert [r.method for r in cluster.requests] == ["GET"] * 4


@pytest.mark.parametrize("policy", [LIVE, DRY])
def test_exec_is_refused_whatever_the_method(
    cluster: FakeKubeApi, kube_client: client.ApiClient, guard: Install, policy: RequestPolicy
) -> None:
    refused = guard(policy)

    with pytest.raises(RequestRefused):
        stream(
            core(kube_client).connect_get_namespaced_pod_exec,
            "p1",
            "kube-system" if policy is LIVE else "shop",
            command=["kill", "1"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
        )

    assert cluster.requests == []
    assert refused[0][0] == "GET"
    assert "pods/p1/exec" in refused[0][2]


def test_clients_built_before_the_guard_are_guarded(
    cluster: FakeKubeApi, kube_client: client.ApiClient, guard: Install
) -> None:
    api = core(kube_client)  # built before install
    guard(DRY)

    with pytest.raises(RequestRefused):
        api.delete_namespaced_pod("p1", "shop")

    assert cluster.mutating_requests() == []


def test_installing_twice_replaces_the_policy_and_never_wraps_twice(
    cluster: FakeKubeApi, kube_client: client.ApiClient, guard: Install
) -> None:
    first = guard(DRY)
    wrapped = client.ApiClient.call_api
    second = guard(LIVE)

    core(kube_client).delete_namespaced_pod("p1", "shop")

    assert client.ApiClient.call_api is wrapped
    assert (first, second) == ([], [])
    assert [r.method for r in cluster.mutating_requests()] == ["DELETE"]


def test_uninstall_restores_the_client(cluster: FakeKubeApi, kube_client: client.ApiClient) -> None:
    original = (client.ApiClient.call_api, client.rest.RESTClientObject.request)
    uninstall = install_request_guard(DRY)
    uninstall()
    uninstall()  # idempotent

    core(kube_client).delete_namespaced_pod("p1", "shop")

    assert (client.ApiClient.call_api, client.rest.RESTClientObject.request) == original
    assert len(cluster.mutating_requests()) == 1


@pytest.fixture
def chaosk8s_kubeconfig(
    cluster: FakeKubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A kubeconfig for the fake, found by chaostoolkit-kubernetes in this process.

    chaosk8s loads it into the client's process-wide default configuration (and overwrites
    the `Configuration.debug` property with a bool); both are restored after the test. The
    kubernetes library reads KUBECONFIG once, at import, hence its module variable too.
    """
    path = ko.write_kubeconfig(tmp_path / "kubeconfig", cluster.url)
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    monkeypatch.setattr(client.Configuration, "_default", client.Configuration._default)
    monkeypatch.setattr(client.Configuration, "debug", vars(client.Configuration)["debug"])
    monkeypatch.setattr(client.Configuration, "verify_ssl", False, raising=False)
    return path


@pytest.mark.usefixtures("chaosk8s_kubeconfig")
def test_chaostoolkit_kubernetes_cannot_terminate_kube_system_pods(
    cluster: FakeKubeApi, guard: Install
) -> None:
    actions = pytest.importorskip("chaosk8s.pod.actions")
    refused = guard(LIVE)

    with pytest.raises(RequestRefused):
        actions.terminate_pods(ns="kube-system", all=True)

    assert cluster.mutating_requests() == []
    assert cluster.names("pods", "kube-system") == ["p1", "p2"]
    assert [r.method for r in cluster.requests] == ["GET"]  # it listed, then was refused
    assert refused[0][:2] == ("DELETE", "/api/v1/namespaces/kube-system/pods/p1")


@pytest.mark.usefixtures("chaosk8s_kubeconfig")
def test_chaostoolkit_kubernetes_terminates_in_a_target_when_live(
    cluster: FakeKubeApi, guard: Install
) -> None:
    actions = pytest.importorskip("chaosk8s.pod.actions")
    guard(SHOP_ONLY)

    deleted = actions.terminate_pods(ns="shop", all=True)

    assert deleted == ["p1", "p2"]
    assert cluster.names("pods", "shop") == []


def test_one_guarded_client_leaves_the_others_alone(
    cluster: FakeKubeApi, kube_client: client.ApiClient
) -> None:
    refused: Refusals = []
    guarded = client.ApiClient(client.Configuration(host=cluster.url))
    try:
        guard_api_client(guarded, DRY, lambda *r: refused.append(r))
        guard_api_client(guarded, DRY, lambda *r: refused.append(r))  # no double wrapping

        with pytest.raises(RequestRefused):
            core(guarded).delete_namespaced_pod("p1", "shop")
        with pytest.raises(RequestRefused):
            guarded.rest_client.request("DELETE", f"{cluster.url}/api/v1/namespaces/shop/pods/p2")
        core(kube_client).delete_namespaced_pod("p1", "gameday")  # e.g. the service's Lease
    finally:
        guarded.close()

    assert [r.path for r in cluster.mutating_requests()] == ["/api/v1/namespaces/gameday/pods/p1"]
    assert [r[0] for r in refused] == ["DELETE", "DELETE"]


LAZY_SCRIPT = """
import sys
from gameday.adapters.kubernetes.request_guard import RequestGuard

refused = []
guard = RequestGuard(protected=frozenset({"kube-system"}), targets=None, allow_cluster_scoped=False)
uninstall = guard.install(True, lambda method, path, reason: refused.append(reason))
assert "kubernetes.client" not in sys.modules, "the guard imported the client"
from kubernetes import client
api = client.CoreV1Api(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))
try:
    api.delete_namespaced_pod("web-1", "shop")
except client.exceptions.ApiException as exc:
    print(exc.status, refused[0])
uninstall()
"""


def test_the_worker_guard_waits_for_the_client_and_guards_it_on_import() -> None:
    """A runbook that imports the kubernetes client only when it runs is guarded all the
    same, and a runbook that never does pays nothing for the guard."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", LAZY_SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    status, reason = done.stdout.strip().split(" ", 1)
    assert status == "403"
    assert reason.startswith("dry run: gameday sends no mutating request")
