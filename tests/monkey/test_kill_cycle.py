"""One kill cycle end to end: real client, fake API server, real SQLite run repository."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gameday.adapters.db import Database
from gameday.domain.errors import Unavailable
from gameday.domain.runs import OutgoingMessage, RunState
from gameday.domain.windows import Window
from gameday.services.kill_cycle import WindowClosed
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi
from tests.monkey.conftest import RecordingNotifier, ScriptedVeto, ServiceFactory
from tests.monkey.factories import OPT_IN, monkey_spec

ALWAYS = Window(name="always", timezone="UTC")


@pytest.fixture
def shop(kube_api: FakeKubeApi) -> FakeKubeApi:
    kube_api.put(*ko.workload("shop", "web", replicas=3, labels=OPT_IN))
    kube_api.put(*ko.workload("shop", "private", replicas=2))
    kube_api.put(*ko.workload("kube-system", "dns", replicas=2, pod_labels=OPT_IN))
    kube_api.clear_requests()
    return kube_api


def _events(run_db: Database, run_id: int) -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for event in run_db.runs.events(run_id):
        found.setdefault(event.type, []).append({"actor": event.actor, **event.payload})
    return found


def test_dry_run_sends_no_mutating_request_and_journals_the_decision(
    shop: FakeKubeApi, make_service: ServiceFactory, run_db: Database
) -> None:
    report = make_service().kill_once(monkey_spec(kill_mode="fixed:2"), ALWAYS, seed=7)

    assert shop.mutating_requests() == []
    assert shop.requests  # discovery did happen
    assert len(shop.names("pods", "shop")) == 5
    assert report.outcome == "completed"
    assert (report.run.state, report.run.dry_run, report.run.seed) == (
        RunState.COMPLETED,
        True,
        7,
    )
    events = _events(run_db, report.run.id)
    assert [k["pod"] for k in events["kill"]] == [p.name for p in report.selection.picks]
    assert all(k["dry_run"] is True for k in events["kill"])
    assert events["selection"][0]["seed"] == 7
    assert events["selection"][0]["workload"] == "shop/Deployment/web"


def test_live_eviction_records_owner_node_and_age(
    shop: FakeKubeApi, make_service: ServiceFactory, run_db: Database, veto: ScriptedVeto
) -> None:
    report = make_service(live=True).kill_once(monkey_spec(), ALWAYS, seed=3)

    (killed,) = report.killed
    assert killed["pod"] not in shop.names("pods", "shop")
    assert [r.path for r in shop.mutating_requests()] == [
        f"/api/v1/namespaces/shop/pods/{killed['pod']}/eviction"
    ]
    (event,) = _events(run_db, report.run.id)["kill"]
    assert event["owner"] == "shop/Deployment/web"
    assert event["node"] in {"node-1", "node-2", "node-3"}
    assert event["age_seconds"] == 7 * 86400 + 12 * 3600 + 600  # heads-up passed first
    assert event["dry_run"] is False
    assert veto.waits == [(report.run.id, timedelta(minutes=10))]
    assert report.run.state is RunState.COMPLETED


def test_budget_with_no_disruptions_skips_with_the_reason_and_deletes_nothing(
    shop: FakeKubeApi, make_service: ServiceFactory, run_db: Database
) -> None:
    shop.put(ko.pdb("shop", "web-pdb", {"app": "web"}, min_available=3))

    report = make_service(live=True).kill_once(monkey_spec(kill_mode="fixed:2"), ALWAYS, seed=1)

    assert len(shop.names("pods", "shop")) == 5
    assert shop.state.deletions == []
    assert shop.state.evictions == []
    assert {r.method for r in shop.mutating_requests()} == {"POST"}
    skipped = _events(run_db, report.run.id)["kill_skipped"]
    assert len(skipped) == 2
    assert {s["reason"] for s in skipped} == {
        "Cannot evict pod as it would violate the pod's disruption budget."
    }
    assert "kill" not in _events(run_db, report.run.id)
    assert report.outcome == "completed"
    assert report.reason == "0 pod(s) killed, 2 skipped"


def test_delete_method_sends_the_grace_period(
    shop: FakeKubeApi, make_service: ServiceFactory
) -> None:
    spec = monkey_spec(method="delete", grace_period=5)

    report = make_service(live=True).kill_once(spec, ALWAYS, seed=2)

    assert [d["grace_period_seconds"] for d in shop.state.deletions] == [5]
    assert report.killed[0]["grace_period"] == 5


def test_protected_namespace_named_by_the_spec_is_never_listed(
    shop: FakeKubeApi, make_service: ServiceFactory
) -> None:
    spec = monkey_spec(targets={"namespaces": ["kube-system", "shop"]}, kill_mode="all")

    report = make_service(live=True).kill_once(spec, ALWAYS, seed=4)

    assert not any("/namespaces/kube-system/" in r.path for r in shop.requests)
    assert {p.namespace for p in report.selection.picks} == {"shop"}
    assert len(shop.names("pods", "kube-system")) == 2


def test_veto_rejects_the_run_and_terminates_nothing(
    shop: FakeKubeApi,
    make_service: ServiceFactory,
    run_db: Database,
    veto: ScriptedVeto,
    notifier: RecordingNotifier,
) -> None:
    veto.vetoer = "U0VETO"

    report = make_service(live=True).kill_once(monkey_spec(), ALWAYS, seed=5)

    assert shop.mutating_requests() == []
    assert (report.outcome, report.vetoed_by, report.run.state) == (
        "vetoed",
        "U0VETO",
        RunState.REJECTED,
    )
    assert _events(run_db, report.run.id)["vetoed"][0]["actor"] == "U0VETO"
    (heads_up,) = notifier.sent
    assert heads_up.channel == "#chaos"
    assert "Anyone here may veto" in heads_up.text


def test_no_wait_skips_the_veto_gate(
    shop: FakeKubeApi, make_service: ServiceFactory, veto: ScriptedVeto
) -> None:
    report = make_service(live=True).kill_once(monkey_spec(), ALWAYS, seed=5, heads_up=timedelta(0))

    assert veto.waits == []
    assert len(report.killed) == 1


def test_outside_the_window_refuses_naming_the_next_open_time(
    shop: FakeKubeApi, make_service: ServiceFactory, run_db: Database
) -> None:
    window = Window(name="weekends", timezone="Asia/Tokyo", weekdays=frozenset({5, 6}))

    with pytest.raises(WindowClosed) as refused:
        make_service(live=True).kill_once(monkey_spec(window="weekends"), window)

    assert "outside its window weekends" in str(refused.value)
    assert "next open: 2026-01-10 00:00 JST (+09:00)" in str(refused.value)
    assert run_db.runs.list_runs() == []
    assert shop.requests == []


@pytest.mark.parametrize("guard", ["kill_switch", "paused"])
def test_kill_switch_or_pause_skips_before_discovery(
    shop: FakeKubeApi, make_service: ServiceFactory, run_db: Database, guard: str
) -> None:
    if guard == "kill_switch":
        run_db.control.engage_kill_switch(actor="U1", reason="incident 42")
    else:
        run_db.control.pause("shop-monkey", actor="U1")

    report = make_service(live=True).kill_once(monkey_spec(), ALWAYS, seed=1)

    assert (report.outcome, report.run.state) == ("skipped", RunState.SKIPPED)
    assert (
        ("incident 42" in report.reason) if guard == "kill_switch" else ("paused" in report.reason)
    )
    assert shop.requests == []


def test_kill_switch_engaged_during_the_heads_up_skips_the_kill(
    shop: FakeKubeApi, make_service: ServiceFactory, run_db: Database, veto: ScriptedVeto
) -> None:
    class EngageWhileWaiting(ScriptedVeto):
        def wait_for_veto(self, run_id: int, heads_up: timedelta) -> str | None:
            run_db.control.engage_kill_switch(actor="U2", reason="stop")
            return None

    service = make_service(live=True, veto=EngageWhileWaiting(veto.clock))

    report = service.kill_once(monkey_spec(), ALWAYS, seed=1)

    assert report.run.state is RunState.SKIPPED
    assert shop.mutating_requests() == []


def test_no_opted_in_pods_skips_with_no_targets(
    kube_api: FakeKubeApi, make_service: ServiceFactory
) -> None:
    kube_api.put(*ko.workload("shop", "private", replicas=2))

    report = make_service(live=True).kill_once(monkey_spec(), ALWAYS, seed=1)

    assert report.run.state is RunState.SKIPPED
    assert report.reason == "no targets: no candidates"


def test_api_outage_fails_the_run_and_records_no_kill(
    shop: FakeKubeApi, make_service: ServiceFactory, run_db: Database, veto: ScriptedVeto
) -> None:
    class OutageWhileWaiting(ScriptedVeto):
        def wait_for_veto(self, run_id: int, heads_up: timedelta) -> str | None:
            shop.fail(503)
            return None

    service = make_service(live=True, veto=OutageWhileWaiting(veto.clock))

    with pytest.raises(Unavailable, match="answered 503 while evicting pod shop/web-"):
        service.kill_once(monkey_spec(), ALWAYS, seed=1)

    (run,) = run_db.runs.list_runs()
    events = _events(run_db, run.id)
    assert run.state is RunState.FAILED
    assert "kill" not in events
    assert "503" in str(events["kill_failed"][0]["error"])
    assert len(shop.names("pods", "shop")) == 5


def test_api_outage_during_discovery_skips_the_run(
    shop: FakeKubeApi, make_service: ServiceFactory, run_db: Database
) -> None:
    shop.refuse_connections()

    with pytest.raises(Unavailable, match="cannot be reached while listing pods"):
        make_service().kill_once(monkey_spec(), ALWAYS, seed=1)

    (run,) = run_db.runs.list_runs()
    assert run.state is RunState.SKIPPED
    assert "selection" not in _events(run_db, run.id)


def test_blackout_today_refuses(make_service: ServiceFactory) -> None:
    today = date(2026, 1, 7)
    window = Window(name="w", timezone="UTC", blackouts=((today, today),))

    with pytest.raises(WindowClosed, match="next open: 2026-01-08 00:00 UTC"):
        make_service().kill_once(monkey_spec(window="w"), window)


def test_undelivered_heads_up_skips_the_kill(
    shop: FakeKubeApi, make_service: ServiceFactory
) -> None:
    class SlackDown(RecordingNotifier):
        def notify(self, message: OutgoingMessage) -> None:
            raise Unavailable("Slack API at https://slack.example answered 503")

    report = make_service(live=True, notifier=SlackDown()).kill_once(monkey_spec(), ALWAYS)

    assert report.run.state is RunState.SKIPPED
    assert report.reason.startswith("heads-up could not be delivered: Slack API")
    assert shop.mutating_requests() == []


def test_a_cycle_outside_the_target_namespaces_is_skipped_before_listing(
    shop: FakeKubeApi, make_service: ServiceFactory
) -> None:
    service = make_service(live=True, targets=frozenset({"payments"}))

    report = service.kill_once(monkey_spec(), ALWAYS, seed=1)

    assert report.run.state is RunState.SKIPPED
    assert report.reason == (
        "schedule shop-monkey targets namespace 'shop', which is not in "
        "GAMEDAY_TARGET_NAMESPACES (payments): gameday may not act there"
    )
    assert shop.requests == []  # refused before a single request
