"""`gameday targets` and `gameday monkey --once` through the CLI entry point."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi
from tests.monkey.factories import OPT_IN
from tests.support import CliResult, run_main

SCHEDULES = """\
kind: window
name: {window}
timezone: UTC
weekdays: [mon, tue, wed, thu, fri, sat, sun]
blackouts: {blackouts}
---
kind: monkey
name: shop-monkey
window: {window}
targets: {{namespaces: [shop, kube-system], selector: "app in (web, private)"}}
kill_mode: one
max_kills: 2
heads_up: 1h
channel: "#chaos"
"""


Gameday = Callable[..., CliResult]


@pytest.fixture
def gameday(
    tmp_path: Path,
    kube_api: FakeKubeApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Gameday:
    """Run the CLI against a home with an always-open (or closed) window and the fake API."""
    kube_api.put(*ko.workload("shop", "web", replicas=3, labels=OPT_IN))
    kube_api.put(*ko.workload("shop", "private", replicas=2))
    kube_api.put(*ko.workload("kube-system", "dns", replicas=2, pod_labels=OPT_IN))
    kube_api.clear_requests()
    config = ko.write_kubeconfig(tmp_path / "kubeconfig", kube_api.url, token="tok-123456")
    monkeypatch.setenv("GAMEDAY_KUBECONFIG", str(config))
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", f"sqlite:///{tmp_path / 'gameday.db'}")
    monkeypatch.delenv("GAMEDAY_LIVE", raising=False)
    monkeypatch.setenv("COLUMNS", "160")

    def run(*args: str, closed: bool = False) -> CliResult:
        home = tmp_path / "home"
        (home / "schedules").mkdir(parents=True, exist_ok=True)
        today = datetime.now(UTC).date()
        blackouts = (
            f'["{today - timedelta(days=1)}..{today + timedelta(days=1)}"]' if closed else "[]"
        )
        (home / "schedules" / "monkeys.yaml").write_text(
            SCHEDULES.format(window="all-week", blackouts=blackouts)
        )
        return run_main(monkeypatch, capsys, "--home", home, *args)

    return run


def test_targets_json_lists_candidates_and_reasons(gameday: Gameday, kube_api: FakeKubeApi) -> None:
    ran = gameday("targets", "shop-monkey", "--json")

    assert ran.code == 0, ran.err
    data = ran.json()
    assert data["protected_namespaces_skipped"] == ["kube-system"]
    assert data["namespaces"] == ["shop"]
    assert sorted(c["pod"] for c in data["candidates"]) == [
        f"web-5d8f7c9b6-x{i:04d}" for i in range(3)
    ]
    assert {(e["owner"], e["reason"]) for e in data["exclusions"]} == {
        ("shop/Deployment/private", "not_opted_in")
    }
    assert kube_api.mutating_requests() == []


def test_targets_table_names_the_protected_namespace(gameday: Gameday) -> None:
    ran = gameday("targets", "shop-monkey")

    assert ran.code == 0, ran.err
    assert "namespace kube-system is protected" in ran.out
    assert "not_opted_in" in ran.out


def test_monkey_once_is_a_dry_run_by_default(gameday: Gameday, kube_api: FakeKubeApi) -> None:
    ran = gameday("monkey", "shop-monkey", "--once", "--no-wait", "--seed", "9", "--json")

    assert ran.code == 0, ran.err
    data = ran.json()
    assert (data["dry_run"], data["seed"], data["state"]) == (True, 9, "completed")
    assert len(data["killed"]) == 1
    assert kube_api.mutating_requests() == []
    assert "[#chaos] Monkey kill shop-monkey" in ran.err
    assert "(dry run: nothing will be terminated)" in ran.err


def test_monkey_once_live_evicts(gameday: Gameday, kube_api: FakeKubeApi) -> None:
    ran = gameday("monkey", "shop-monkey", "--once", "--live", "--heads-up", "0s", "--json")

    assert ran.code == 2
    assert "--heads-up" in ran.err

    ran = gameday("monkey", "shop-monkey", "--once", "--live", "--no-wait")

    assert ran.code == 0, ran.err
    assert "(live, seed" in ran.out
    assert [r.method for r in kube_api.mutating_requests()] == ["POST"]
    assert len(kube_api.names("pods", "shop")) == 4


def test_monkey_outside_the_window_is_refused(gameday: Gameday, kube_api: FakeKubeApi) -> None:
    ran = gameday("monkey", "shop-monkey", "--once", "--live", "--no-wait", closed=True)

    reopen = datetime.now(UTC).date() + timedelta(days=2)
    assert ran.code == 4
    assert ran.err.startswith("gameday: error: schedule shop-monkey is outside its window")
    assert f"next open: {reopen} 00:00 UTC (+00:00)" in ran.err
    assert kube_api.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("monkey", "shop-monkey"), "needs --once"),
        (("monkey", "nope", "--once"), "no schedule named 'nope'"),
        (("targets", "shop-monkey", "--context", "prod"), "context 'prod' is not in kubeconfig"),
    ],
)
def test_bad_input_is_one_line(gameday: Gameday, args: tuple[str, ...], message: str) -> None:
    ran = gameday(*args)

    assert ran.code != 0
    assert message in ran.err
    assert len(ran.err.strip().splitlines()) == 1
    assert "tok-123456" not in ran.err


def test_targets_refuses_a_namespace_outside_the_target_namespaces(
    gameday: Gameday, kube_api: FakeKubeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMEDAY_TARGET_NAMESPACES", "bookinfo,payments")

    ran = gameday("targets", "shop-monkey", "--json")

    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.strip().splitlines() == [
        "gameday: error: schedule shop-monkey targets namespace 'shop', which is not in "
        "GAMEDAY_TARGET_NAMESPACES (bookinfo,payments): gameday may not act there"
    ]
    # Refused from the schedule alone: the cluster never heard of it.
    assert kube_api.requests == []


def test_targets_inside_the_target_namespaces_lists_them(
    gameday: Gameday, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kube-system is named too, but protected namespaces are skipped, not a reason to refuse.
    monkeypatch.setenv("GAMEDAY_TARGET_NAMESPACES", "shop")

    ran = gameday("targets", "shop-monkey", "--json")

    assert ran.code == 0, ran.err
    assert ran.json()["namespaces"] == ["shop"]
    assert ran.json()["protected_namespaces_skipped"] == ["kube-system"]
