"""Health gates and stop conditions through the assembled service: a real `gameday serve`
(and the CLI) reading the fake monitoring over HTTP. No chaos starts while the system is
already degraded, and a run whose stop condition breaches is halted with its rollbacks."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from gameday.domain.runs import RunState
from tests.fakes.monitoring import FakeMonitoring
from tests.service.serving import free_port
from tests.service.stack import Stack, at_in, quick_runbook, schedule, stack

__all__ = ["stack"]  # the fixture

ERRORS = 'sum(rate(http_requests_total{app="checkout",code=~"5.."}[1m]))'


def default_gates(stack: Stack, *gates: str) -> None:
    """A `kind: gates` spec named default (it applies to every run) holding `gates`."""
    schedule(stack.home, "gates", "kind: gates\nname: default\ngates:\n" + "".join(gates))


def errors_gate(monitoring: FakeMonitoring, *, stop: bool = False, interval: str = "2s") -> str:
    return (
        "  - name: checkout-errors\n"
        f"    prometheus: {{url: '{monitoring.url}', query: '{ERRORS}', max: 5}}\n"
        f"    stop_condition: {str(stop).lower()}\n"
        f"    interval: {interval}\n"
    )


def health_gate(url: str) -> str:
    return f"  - name: productpage-up\n    http: {{url: '{url}', timeout: 2s}}\n"


def test_a_stop_condition_breach_aborts_the_running_gameday_with_its_rollbacks(
    stack: Stack, monitoring: FakeMonitoring
) -> None:
    monitoring.set_value(ERRORS, 1)
    default_gates(stack, errors_gate(monitoring, stop=True, interval="2s"))
    slow = stack.home.slow_runbook()  # its action holds until released: only a halt ends it
    serve = stack.serve(live=True)
    serve.start_slow_gameday(slow)
    (run,) = [r for r in stack.runs() if r.state is RunState.RUNNING]

    monitoring.set_value(ERRORS, 42)
    breached = time.monotonic()
    # The guarantee: halted within the gate's interval + 5 s of the breach, rollbacks run.
    ended = stack.wait_final(serve, run.id, limit=2 + 5)
    took = time.monotonic() - breached

    assert ended.state is RunState.ABORTED
    assert slow.rolled.exists()
    assert took <= 2 + 5
    (stop,) = [e for e in stack.events(run.id) if e.type == "stop_condition"]
    assert (stop.payload["gate"], stop.payload["observed"], stop.payload["bound"]) == (
        "checkout-errors",
        "42",
        "max 5",
    )
    assert stop.payload["reason"] == "above max 5"
    assert not stack.db.control.kill_switch()[0]  # this run only, not all chaos
    evaluations = [e.payload for e in stack.events(run.id) if e.type == "gate_evaluated"]
    assert evaluations[0]["passed"] is True  # the decision to start
    assert evaluations[-1]["passed"] is False
    stack.wait_thread(serve, run.id, "stop condition checkout-errors breached")
    stack.wait_thread(serve, run.id, "finished: *aborted*")
    assert serve.wait(
        "the breach in /metrics",
        lambda: serve.metrics_with('gameday_stop_conditions_total{gate="checkout-errors"} 1.0'),
    )
    assert serve.metrics_with(
        'gameday_gate_evaluations_total{gate="checkout-errors",result="fail"} 1.0'
    )
    postmortem = stack.cli("journal", "export", str(run.id), "--format", "markdown").stdout
    gates = postmortem.split("## Health gates")[1].split("## ")[0]
    assert "| checkout-errors | pass | 1; bound: max 5;" in gates
    assert "| checkout-errors | stop condition breached | 42 (above max 5); bound: max 5;" in gates


def test_an_unreachable_gate_keeps_gameday_run_from_starting_with_exit_3(stack: Stack) -> None:
    port = free_port()  # nothing listens there
    default_gates(stack, health_gate(f"http://127.0.0.1:{port}/health"))
    runbook = quick_runbook(stack.home, "touchy")

    done = stack.cli("run", runbook, "--json")

    assert done.returncode == 3, done.stderr
    reason = (
        f"gate productpage-up failed: no answer (unreachable: 127.0.0.1:{port}: connection refused)"
    )
    summary = json.loads(done.stdout)
    assert (summary["state"], summary["reason"]) == ("skipped", reason)
    (run,) = stack.runs()
    assert run.state is RunState.SKIPPED
    (gate,) = [e.payload for e in stack.events(run.id) if e.type == "gate_evaluated"]
    assert gate["passed"] is False
    assert not stack.home.evidence("ran-touchy.txt").exists()

    shown = stack.cli("run", runbook)
    assert shown.returncode == 3
    assert f"not started: {reason}" in " ".join(shown.stdout.split())


def test_gates_lists_each_gate_with_its_result_for_scripts(
    stack: Stack, monitoring: FakeMonitoring
) -> None:
    monitoring.set_value(ERRORS, 9)
    default_gates(stack, errors_gate(monitoring))
    runbook = quick_runbook(
        stack.home,
        "checked",
        gates=[{"name": "productpage-up", "http": {"url": monitoring.url + "/health"}}],
    )

    done = stack.cli("gates", runbook, "--json")

    assert done.returncode == 1, done.stderr  # one gate fails
    listed = json.loads(done.stdout)
    assert [(g["name"], g["passed"], g["observed"], g["reason"]) for g in listed] == [
        ("checkout-errors", False, "9", "above max 5"),
        ("productpage-up", True, "HTTP 200", ""),
    ]
    assert all(isinstance(g["latency_ms"], float) for g in listed)

    monitoring.set_value(ERRORS, 0)
    assert stack.cli("gates", runbook, "--json").returncode == 0
    unknown = stack.cli("gates", "nothing-like-it")
    assert unknown.returncode == 2
    assert "no schedule or runbook named 'nothing-like-it'" in unknown.stderr


def test_a_monkey_cycle_is_skipped_during_an_outage(
    stack: Stack, monitoring: FakeMonitoring
) -> None:
    monitoring.fire("CheckoutDown", severity="critical", namespace="bookinfo")
    now = datetime.now(UTC)
    hours = f"{now - timedelta(minutes=1):%H:%M}-{now + timedelta(minutes=3):%H:%M}"
    schedule(
        stack.home,
        "monkey",
        "kind: window\nname: around-now\ntimezone: UTC\n"
        f'weekdays: [mon, tue, wed, thu, fri, sat, sun]\nhours: "{hours}"\n'
        "---\n"
        "kind: monkey\nname: reviews-monkey\nwindow: around-now\n"
        "targets: {namespaces: [bookinfo]}\nmtbf: 2s\nmin_time_between_kills: 1s\n"
        "heads_up: 2s\nkill_mode: one\n"
        "gates:\n  - name: no-critical-alerts\n"
        f"    alertmanager: {{url: '{monitoring.url}', "
        """matchers: ['severity="critical"', 'namespace="bookinfo"']}\n""",
    )
    serve = stack.serve(live=True)

    skipped = stack.wait_run(
        serve,
        "a kill skipped by its gate",
        lambda r: r.schedule == "reviews-monkey" and r.state is RunState.SKIPPED,
    )

    moves = [e.payload for e in stack.events(skipped.id) if e.payload.get("to") == "skipped"]
    assert moves[-1]["reason"] == (
        "gate no-critical-alerts failed: 1 alert(s) firing: CheckoutDown (an alert matches)"
    )
    assert stack.mutating() == []  # nothing was killed during the outage
    assert "selection" not in stack.types(skipped.id)  # not even chosen

    monitoring.clear_alerts()
    killed = stack.wait_run(
        serve,
        "a kill once the outage is over",
        lambda r: r.schedule == "reviews-monkey" and r.state is RunState.COMPLETED,
    )
    assert "kill" in stack.types(killed.id)


def test_a_gate_failing_at_the_announcement_but_passing_at_the_start_runs(
    stack: Stack, monitoring: FakeMonitoring
) -> None:
    monitoring.health = (503, "starting")
    runbook = quick_runbook(stack.home, "latency")
    schedule(
        stack.home,
        "weekly",
        "kind: gameday\nname: weekly-latency\n"
        f"runbook: runbooks/{runbook}.json\n"
        f'at: "{at_in(12)}"\n'
        "announce: [10s]\n"
        "gates:\n" + health_gate(monitoring.url + "/health"),
    )
    serve = stack.serve()
    run = stack.wait_run(serve, "the planned run", lambda r: r.schedule == "weekly-latency")

    stack.wait_thread(serve, run.id, "health gates now: 0 of 1 passing")
    monitoring.health = (200, "ok")
    ended = stack.wait_final(serve, run.id, limit=40)

    assert ended.state is RunState.COMPLETED
    gates = [e.payload for e in stack.events(run.id) if e.type == "gate_evaluated"]
    assert [g["passed"] for g in gates] == [False, True]  # announced, then started
    assert gates[0]["observed"] == "HTTP 503"
