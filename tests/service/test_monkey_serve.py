"""End to end: a real `gameday serve` carries out monkey kills against the fake Kubernetes
API server over real HTTP. A window open around now and a tiny mtbf put kills a few seconds
ahead; assertions read the database the service wrote and the requests the fake received."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.db import Database
from gameday.domain.heads_up import VETO_EVENT
from gameday.domain.lifecycle import is_final
from gameday.domain.runs import Run, RunEvent, RunKind, RunState
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi
from tests.service.serving import Home, Serve

SCHEDULE = "shop-monkey"
PDB_REASON = "Cannot evict pod as it would violate the pod's disruption budget."
WEB_PODS = {f"web-5d8f7c9b6-x{i:04d}" for i in range(3)}


def monkey_schedules(home: Home, *, heads_up: str) -> None:
    """A window open from a minute ago to three minutes ahead (every day, UTC) and a monkey
    in it with kills about every two seconds, each announced `heads_up` ahead."""
    now = datetime.now(UTC)
    hours = f"{now - timedelta(minutes=1):%H:%M}-{now + timedelta(minutes=3):%H:%M}"
    (home.path / "schedules" / "monkey.yaml").write_text(
        "kind: window\n"
        "name: around-now\n"
        "timezone: UTC\n"
        "weekdays: [mon, tue, wed, thu, fri, sat, sun]\n"
        f'hours: "{hours}"\n'
        "---\n"
        "kind: monkey\n"
        f"name: {SCHEDULE}\n"
        "window: around-now\n"
        "targets: {namespaces: [shop]}\n"
        "mtbf: 2s\n"
        "min_time_between_kills: 1s\n"
        f"heads_up: {heads_up}\n"
        "kill_mode: one\n",
        encoding="utf-8",
    )


@dataclass
class MonkeyServe:
    """A serve process, the database it writes and the fake cluster it reaches."""

    serve: Serve
    database: Database
    kube: FakeKubeApi

    def runs(self) -> list[Run]:
        return self.database.runs.list_runs(schedule=SCHEDULE, limit=500)

    def events(self, run: Run) -> dict[str, list[RunEvent]]:
        found: dict[str, list[RunEvent]] = {}
        for event in self.database.runs.events(run.id):
            found.setdefault(event.type, []).append(event)
        return found

    def ended_with(self, event_type: str, limit: float = 20.0) -> tuple[Run, dict[str, Any]]:
        """The first kill run that ended holding an event of `event_type`."""

        def check() -> tuple[Run, dict[str, Any]] | None:
            for run in sorted(self.runs(), key=lambda r: r.planned_at):
                if is_final(run.state) and event_type in (events := self.events(run)):
                    return run, events
            return None

        found: tuple[Run, dict[str, Any]] = self.serve.wait(
            f"a {SCHEDULE} run with a {event_type!r} event", check, limit=limit
        )
        return found

    def reason(self, run: Run) -> str:
        moves = self.events(run)["state_changed"]
        return str(moves[-1].payload["reason"])


@pytest.fixture
def monkey_serve(tmp_path: Path, kube: FakeKubeApi) -> Iterator[Callable[..., MonkeyServe]]:
    started: list[MonkeyServe] = []

    # 2s: the outbox worker (one pass a second) delivers each heads-up before its kill.
    def start(*, live: bool = False, heads_up: str = "2s", kubeconfig: bool = True) -> MonkeyServe:
        home = Home(tmp_path / "home")
        monkey_schedules(home, heads_up=heads_up)
        config = tmp_path / "kubeconfig"
        if kubeconfig:
            ko.write_kubeconfig(config, kube.url)
        url = f"sqlite:///{tmp_path / 'gameday.db'}"
        serve = Serve(
            home,
            url,
            env={"GAMEDAY_KUBECONFIG": str(config), "GAMEDAY_PLAN_HORIZON_HOURS": "1"},
            args=["--live"] if live else [],
        ).start()
        serve.wait_ready()
        running = MonkeyServe(serve, Database.open(url, upgrade=False), kube)
        started.append(running)
        return running

    yield start
    for running in started:
        running.serve.stop()
        running.database.close()


def test_dry_run_kill_is_recorded_and_sends_no_mutating_request(
    monkey_serve: Callable[..., MonkeyServe], kube: FakeKubeApi
) -> None:
    ms = monkey_serve()

    run, events = ms.ended_with("kill")
    metrics = ms.serve.wait(
        "the kill in /metrics", lambda: ms.serve.metrics_with('gameday_kills_total{dry_run="true"}')
    )
    ms.serve.stop()

    assert (run.kind, run.state, run.dry_run) == (RunKind.MONKEY, RunState.COMPLETED, True)
    (kill,) = events["kill"]
    assert kill.payload["dry_run"] is True
    assert kill.payload["pod"] in WEB_PODS
    assert kill.payload["owner"] == "shop/Deployment/web"
    assert isinstance(events["selection"][0].payload["seed"], int)
    assert ms.reason(run) == "1 pod(s) would be killed"
    # The kill waited for its heads-up to leave the outbox (printed by the console notifier).
    (heads_up,) = [m for m in ms.database.outbox.of_run(run.id) if m.message.kind == "announcement"]
    assert heads_up.delivered_at is not None
    assert heads_up.delivered_at <= kill.at
    assert 'gameday_runs_total{kind="monkey",outcome="completed"}' in metrics
    assert kube.requests  # discovery did happen
    assert kube.mutating_requests() == []
    assert set(kube.names("pods", "shop")) == WEB_PODS


def test_live_kill_evicts_the_pod(
    monkey_serve: Callable[..., MonkeyServe], kube: FakeKubeApi
) -> None:
    ms = monkey_serve(live=True)

    run, events = ms.ended_with("kill")

    (kill,) = events["kill"]
    assert (run.state, run.dry_run, kill.payload["dry_run"]) == (RunState.COMPLETED, False, False)
    assert kill.payload["method"] == "evict"
    assert {"namespace": "shop", "name": kill.payload["pod"]} in kube.state.evictions
    assert kill.payload["pod"] not in kube.names("pods", "shop")
    assert kube.state.deletions == []
    assert {(r.method, r.path.rsplit("/", 1)[-1]) for r in kube.mutating_requests()} == {
        ("POST", "eviction")
    }
    assert ms.reason(run) == "1 pod(s) killed"


def test_budget_without_disruptions_skips_the_pod_and_deletes_nothing(
    monkey_serve: Callable[..., MonkeyServe], kube: FakeKubeApi
) -> None:
    kube.put(ko.pdb("shop", "web-pdb", {"app": "web"}, min_available=3))
    ms = monkey_serve(live=True)

    run, events = ms.ended_with("kill_skipped")

    assert run.state is RunState.COMPLETED
    (skipped,) = events["kill_skipped"]
    assert skipped.payload["reason"] == PDB_REASON
    assert "kill" not in events
    assert ms.reason(run) == "0 pod(s) killed, 1 skipped"
    assert set(kube.names("pods", "shop")) == WEB_PODS
    assert kube.state.evictions == kube.state.deletions == []


def test_without_cluster_access_the_kill_is_skipped_with_the_reason(
    monkey_serve: Callable[..., MonkeyServe], kube: FakeKubeApi
) -> None:
    ms = monkey_serve(live=True, kubeconfig=False)

    def skipped_for_access() -> Run | None:
        return next(
            (
                r
                for r in ms.runs()
                if r.state is RunState.SKIPPED and "cluster unavailable" in ms.reason(r)
            ),
            None,
        )

    run = ms.serve.wait("a kill skipped for lack of cluster access", skipped_for_access)

    assert ms.reason(run) == (
        "cluster unavailable: no access to the Kubernetes cluster: kubeconfig "
        f"{ms.serve.home.path.parent / 'kubeconfig'} does not exist: set GAMEDAY_KUBECONFIG "
        "or KUBECONFIG, or run inside the cluster"
    )
    response = ms.serve.get("/readyz")
    assert response is not None
    assert response.status_code == 200
    assert kube.requests == []


def test_veto_during_the_heads_up_skips_the_kill(
    monkey_serve: Callable[..., MonkeyServe], kube: FakeKubeApi
) -> None:
    ms = monkey_serve(heads_up="4s")

    def announced() -> Run | None:
        # Seconds of heads-up left, so the veto lands before the kill is due.
        ahead = datetime.now(UTC) + timedelta(seconds=2)
        return next(
            (r for r in ms.runs() if r.state is RunState.ANNOUNCED and r.planned_at > ahead),
            None,
        )

    run = ms.serve.wait("a kill in its heads-up", announced)
    # What a click on the heads-up's Veto button records.
    ms.database.runs.append_event(run.id, VETO_EVENT, actor="U0VETO", payload={})
    ms.serve.wait("the vetoed kill to end", lambda: is_final(ms.database.runs.get(run.id).state))

    events = ms.events(run)
    assert ms.database.runs.get(run.id).state is RunState.SKIPPED
    assert ms.reason(run) == "vetoed by U0VETO"
    assert [e.actor for e in events["vetoed"]] == ["U0VETO"]
    assert "kill" not in events
    assert "kill_skipped" not in events
