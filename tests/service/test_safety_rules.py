"""Every safety rule for every kind of run, proven through the assembled service: a
runbook cannot touch protected namespaces or namespaces outside the targets, a dry run
sends no mutating request and runs no control, a monkey follows the safer mode, and a
delete respects PodDisruptionBudgets. The fake Kubernetes API records every request."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gameday.domain.lifecycle import is_final
from gameday.domain.runs import Run, RunKind, RunState
from tests.execution.conftest import experiment, python_activity
from tests.fakes import kube_objects as ko
from tests.service.stack import (
    CAROL,
    CONTROLS,
    Stack,
    k8s,
    run_id_in,
    schedule,
    stack,
    write_runbook,
)

__all__ = ["stack"]  # the fixture

MONKEY = "bookinfo-monkey"


def terminate_runbook(stack: Stack, *, ns: str | None = None) -> str:
    """`chaosk8s.pod.actions.terminate_pods(all=true)` in a namespace: given literally, or
    read from the TARGET_NS variable at run time (out of validation's sight)."""
    configuration = {} if ns else {"target_ns": {"type": "env", "key": "TARGET_NS"}}
    action = k8s(
        "action",
        "terminate every pod",
        "chaosk8s.pod.actions",
        "terminate_pods",
        ns=ns or "${target_ns}",
        all=True,
    )
    doc = experiment(method=[action], configuration=configuration)
    return write_runbook(stack.home, "terminate", doc)


def request_run(stack: Stack, serve: object, runbook: str) -> Run:
    reply = stack.client(serve).command(f"run {runbook}", user=CAROL)  # type: ignore[arg-type]
    assert reply.status_code == 200, reply.text
    return stack.db.runs.get(run_id_in(reply.json()["text"]))


@pytest.mark.parametrize(
    ("live", "env", "refused"),
    [
        (True, {"TARGET_NS": "kube-system"}, "namespace kube-system is protected"),
        (
            True,
            {"TARGET_NS": "payments", "GAMEDAY_TARGET_NAMESPACES": "bookinfo"},
            "GAMEDAY_TARGET_NAMESPACES",
        ),
        (False, {"TARGET_NS": "bookinfo"}, None),
    ],
    ids=["protected", "outside-targets", "dry-run"],
)
def test_a_runbook_sends_no_request_it_must_not(
    stack: Stack, live: bool, env: dict[str, str], refused: str | None
) -> None:
    runbook = terminate_runbook(stack)
    serve = stack.serve(live=live, env=env)

    run = stack.wait_final(serve, request_run(stack, serve, runbook).id)

    assert stack.mutating() == []
    assert len(stack.kube.names("pods", "kube-system")) == 2
    assert len(stack.kube.names("pods", "payments")) == 2
    assert len(stack.kube.names("pods", "bookinfo")) == 3
    events = stack.events(run.id)
    if refused is None:
        assert (run.state, run.dry_run) == (RunState.COMPLETED, True)
        return
    assert run.state is RunState.ABORTED
    (first, *_) = [e for e in events if e.type == "request_refused"]
    assert refused in first.payload["reason"]
    assert first.payload["method"] == "DELETE"
    assert refused in events[-1].payload["reason"]  # the run's end names it
    stack.wait_thread(serve, run.id, "refused a Kubernetes request")


def test_a_live_service_lets_an_allowed_request_through(stack: Stack) -> None:
    """The same runbook aimed at an opted-in target namespace does delete: the guard
    refuses what it must, not everything."""
    runbook = terminate_runbook(stack)
    serve = stack.serve(live=True, env={"TARGET_NS": "bookinfo"})

    run = stack.wait_final(serve, request_run(stack, serve, runbook).id)

    assert run.state is RunState.COMPLETED
    assert {r.method for r in stack.mutating()} == {"DELETE"}
    assert stack.kube.names("pods", "bookinfo") == []


def test_a_literal_protected_namespace_is_refused_before_anything_runs(stack: Stack) -> None:
    terminate_runbook(stack, ns="kube-system")

    done = stack.cli("run", "terminate", "--live")

    assert done.returncode == 2
    assert "runbooks/terminate.json:" in done.stderr
    assert "namespace 'kube-system' is protected" in done.stderr
    assert "Traceback" not in done.stderr
    assert stack.kube.requests == []


def test_gameday_run_live_refuses_a_protected_namespace_read_at_run_time(stack: Stack) -> None:
    terminate_runbook(stack)

    done = stack.cli("run", "terminate", "--live", "--json", env={"TARGET_NS": "kube-system"})

    assert done.returncode == 2, done.stderr
    assert '"state": "aborted"' in done.stdout
    assert stack.mutating() == []
    assert len(stack.kube.names("pods", "kube-system")) == 2


def controlled_runbook(stack: Stack, marker: Path) -> str:
    control = {"name": "marker", "provider": {"type": "python", "module": CONTROLS,
                                              "arguments": {"path": str(marker)}}}  # fmt: skip
    doc = experiment(
        probes=[python_activity("probe", "ok", "value", value=1, tolerance=1)],
        method=[python_activity("action", "mark", "touch", path=str(marker.with_suffix(".ran")))],
        controls=[control],
    )
    return write_runbook(stack.home, "controlled", doc)


@pytest.mark.parametrize("live", [False, True], ids=["dry", "live"])
def test_a_dry_run_executes_no_control(stack: Stack, live: bool) -> None:
    marker = stack.home.evidence("control.txt")
    runbook = controlled_runbook(stack, marker)
    serve = stack.serve(live=live)

    run = stack.wait_final(serve, request_run(stack, serve, runbook).id)

    assert run.state is RunState.COMPLETED
    types = stack.types(run.id)
    journal = stack.db.runs.journal(run.id)
    assert journal is not None
    if live:
        assert "configured" in marker.read_text()
        assert "controls_skipped" not in types
        return
    assert not marker.exists()
    (skipped,) = [e for e in stack.events(run.id) if e.type == "controls_skipped"]
    assert skipped.payload["controls"] == ["marker"]
    assert journal["gameday"]["controls_skipped"] == ["marker"]


def monkey_schedule(stack: Stack, *, heads_up: str, method: str = "evict") -> None:
    """A window open from a minute ago to three minutes ahead and a monkey killing in
    bookinfo about every two seconds, each announced `heads_up` ahead."""
    now = datetime.now(UTC)
    hours = f"{now - timedelta(minutes=1):%H:%M}-{now + timedelta(minutes=3):%H:%M}"
    schedule(
        stack.home,
        "monkey",
        "kind: window\nname: around-now\ntimezone: UTC\n"
        f'weekdays: [mon, tue, wed, thu, fri, sat, sun]\nhours: "{hours}"\n---\n'
        f"kind: monkey\nname: {MONKEY}\nwindow: around-now\n"
        "targets: {namespaces: [bookinfo]}\nmtbf: 2s\nmin_time_between_kills: 1s\n"
        f"heads_up: {heads_up}\nkill_mode: one\nmethod: {method}\n",
    )


def test_a_kill_planned_dry_stays_dry_under_a_service_restarted_live(stack: Stack) -> None:
    monkey_schedule(stack, heads_up="6s")
    dry = stack.serve()

    def announced(run: Run) -> bool:
        ahead = datetime.now(UTC) + timedelta(seconds=3)
        delivered = any(m.delivered_at for m in stack.messages(run.id))
        return run.state is RunState.ANNOUNCED and run.planned_at > ahead and delivered

    heralded = stack.wait_run(dry, "a kill whose heads-up went out", announced, limit=30)
    heads_up = next(m for m in stack.slack.posted() if f"(run #{heralded.id})" in m["text"])
    assert "(dry run)" in str(heads_up["blocks"])
    dry.signal(signal.SIGTERM)
    assert dry.wait_exit() == 0

    live = stack.serve(live=True)
    run = stack.wait_final(live, heralded.id, limit=30)

    kills = [e for e in stack.events(run.id) if e.type == "kill"]
    assert (run.kind, run.state, run.dry_run) == (RunKind.MONKEY, RunState.COMPLETED, True)
    assert kills
    assert all(k.payload["dry_run"] is True for k in kills)
    assert stack.mutating() == []
    assert len(stack.kube.names("pods", "bookinfo")) == 3


def test_a_delete_respects_the_disruption_budget(stack: Stack) -> None:
    stack.kube.put(ko.pdb("bookinfo", "reviews-pdb", {"app": "reviews"}, min_available=3))
    monkey_schedule(stack, heads_up="2s", method="delete")
    serve = stack.serve(live=True)

    def skipped_by_budget(run: Run) -> bool:
        return is_final(run.state) and "kill_skipped" in stack.types(run.id)

    run = stack.wait_run(serve, "a kill the budget stopped", skipped_by_budget, limit=30)

    (skipped,) = [e for e in stack.events(run.id) if e.type == "kill_skipped"]
    assert "PodDisruptionBudget reviews-pdb allows no disruption now" in skipped.payload["reason"]
    assert [r for r in stack.mutating() if r.method == "DELETE"] == []
    assert len(stack.kube.names("pods", "bookinfo")) == 3
