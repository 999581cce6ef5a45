"""Runbooks calling an installed Chaos Toolkit extension (chaostoolkit-kubernetes) and
gameday's own Istio fault providers from the worker, against the fake Kubernetes API over
real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gameday.domain.runs import RunState
from gameday.services import halting
from tests.execution.conftest import Gameday, experiment, python_activity, sqlite_copy
from tests.fakes.kube_api import FakeKubeApi
from tests.fakes.kube_objects import pod, virtual_service, write_kubeconfig

pytest.importorskip("chaosk8s")

ROUTES = [{"destination": {"host": "reviews"}}]


@pytest.fixture
def db_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: the subject here is the extensions, not the database."""
    return sqlite_copy(tmp_path, _sqlite_template)


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKubeApi]:
    """The fake API with three Bookinfo reviews pods and the reviews VirtualService; the
    worker finds it through KUBECONFIG as any Chaos Toolkit extension would."""
    api = FakeKubeApi().start()
    labels = {"app": "reviews", "gameday.io/enabled": "true"}
    api.put(*(pod("bookinfo", f"reviews-v{n}", labels=labels) for n in (1, 2, 3)))
    api.put(virtual_service("bookinfo", "reviews", "reviews"))
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", api.url)))
    try:
        yield api
    finally:
        api.stop()


def k8s(kind: str, name: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    provider = {"type": "python", "module": module, "func": func, "arguments": arguments}
    return {"type": kind, "name": name, "provider": provider}


def reviews_pods(tolerance: int) -> dict[str, Any]:
    probe = k8s("probe", "reviews pods", "chaosk8s.pod.probes", "count_pods",
                label_selector="app=reviews", ns="bookinfo")  # fmt: skip
    return {**probe, "tolerance": tolerance}


@pytest.mark.parametrize(
    ("dry_run", "state", "deleted"), [(True, RunState.COMPLETED, 0), (False, RunState.DEVIATED, 1)]
)
def test_chaostoolkit_kubernetes_terminates_a_pod_only_when_live(
    gameday: Gameday, cluster: FakeKubeApi, dry_run: bool, state: RunState, deleted: int
) -> None:
    doc = experiment(
        probes=[reviews_pods(3)],
        method=[k8s("action", "terminate one reviews pod", "chaosk8s.pod.actions",
                    "terminate_pods", label_selector="app=reviews", ns="bookinfo", qty=1)],
    )  # fmt: skip
    gameday.write_runbook("kill-reviews", doc)
    cluster.clear_requests()

    run = gameday.run("kill-reviews", dry_run=dry_run)

    assert run.state is state
    assert len(cluster.mutating_requests()) == deleted
    assert len(cluster.names("pods", "bookinfo")) == 3 - deleted


def test_halted_latency_fault_is_removed_by_the_rollback(
    gameday: Gameday, cluster: FakeKubeApi
) -> None:
    """The Bookinfo reviews-latency shape: inject an Istio delay, hold it, halt; the
    rollback removes the fault from the VirtualService."""
    doc = experiment(
        method=[
            k8s("action", "delay reviews", "gameday.chaos.istio", "add_delay_fault",
                virtual_service_name="reviews", fixed_delay="5s", routes=ROUTES,
                percentage=100.0, ns="bookinfo"),
            python_activity("action", "hold the fault", "block_until",
                            started=str(gameday.file("holding")),
                            release=str(gameday.file("never"))),
        ],
        rollbacks=[
            k8s("action", "remove the delay", "gameday.chaos.istio", "remove_delay_fault",
                virtual_service_name="reviews", routes=ROUTES, ns="bookinfo"),
        ],
    )  # fmt: skip
    gameday.write_runbook("reviews-latency", doc)
    run = gameday.start("reviews-latency")
    gameday.wait_for_file(gameday.file("holding"))
    faulty = cluster.get("virtualservices", "bookinfo", "reviews")
    assert faulty is not None
    assert faulty["spec"]["http"][0]["fault"] == {
        "delay": {"fixedDelay": "5s", "percentage": {"value": 100.0}}
    }

    results = halting.halt_running(
        gameday.runs, gameday.workers, actor="test:sre", reason="reviews are too slow"
    )

    assert [r.state for r in results] == [RunState.ABORTED]
    healed = cluster.get("virtualservices", "bookinfo", "reviews")
    assert healed is not None
    assert "fault" not in healed["spec"]["http"][0]
    assert run.id == results[0].run_id


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease", "gameday"])
def test_the_istio_providers_never_touch_a_protected_namespace(
    cluster: FakeKubeApi, namespace: str
) -> None:
    from chaoslib.exceptions import ActivityFailed

    from gameday.chaos.istio import add_delay_fault

    cluster.put(virtual_service(namespace, "reviews", "reviews"))
    cluster.clear_requests()

    with pytest.raises(ActivityFailed, match="is protected"):
        add_delay_fault("reviews", "5s", ROUTES, ns=namespace)

    assert cluster.requests == []
