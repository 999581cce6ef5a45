"""A run's flow through the assembled service, the way a team lives it: requested or
scheduled, approved in Slack, started with a Halt button in its thread, ended with its
outcome; halted from Slack, the CLI or a tool; live only when both the plan and the service
say so."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest

from gameday.domain.runs import Run, RunState
from tests.service.serving import Serve
from tests.service.stack import (
    ALICE,
    CAROL,
    Stack,
    at_in,
    buttons,
    quick_runbook,
    run_id_in,
    schedule,
    stack,
)

__all__ = ["stack"]  # the fixture


def _started_with_halt(stack: Stack, run: Run) -> None:
    """The run's announcement showed a Halt button while it ran, and its thread says it
    started; then the announcement shows the outcome without buttons."""
    updates = stack.anchor_updates(run.id)
    assert any(f"gameday:halt:{run.id}" in buttons(u.get("blocks")) for u in updates), updates
    assert buttons(updates[-1].get("blocks")) == []
    thread = stack.thread(run.id)
    started = next(i for i, t in enumerate(thread) if "started" in t)
    finished = next(i for i, t in enumerate(thread) if f"finished: *{run.state.value}*" in t)
    assert started < finished


def test_an_adhoc_run_requested_in_slack_and_approved_runs_to_completion(stack: Stack) -> None:
    runbook = quick_runbook(
        stack.home,
        "reviews-check",
        approval={"approvers": {"users": [ALICE]}, "quorum": 1, "deadline": "30m"},
    )
    serve = stack.serve()
    slack = stack.client(serve)

    reply = slack.command(f"run {runbook}", user=CAROL)
    assert reply.status_code == 200
    run_id = run_id_in(reply.json()["text"])
    assert stack.db.runs.get(run_id).state is RunState.AWAITING_APPROVAL
    assert slack.click("approve", run_id, ALICE).status_code == 200

    run = stack.wait_final(serve, run_id)
    assert run.state is RunState.COMPLETED
    assert run.dry_run  # the service is not live
    stack.wait_thread(serve, run_id, "finished: *completed*")
    _started_with_halt(stack, run)
    approved = [e for e in stack.events(run_id) if e.payload.get("to") == "approved"]
    assert approved
    assert approved[0].actor == ALICE


def test_a_scheduled_run_approved_in_slack_runs_at_its_time(stack: Stack) -> None:
    runbook = quick_runbook(stack.home, "latency")
    schedule(
        stack.home,
        "weekly",
        "kind: gameday\n"
        "name: weekly-latency\n"
        f"runbook: runbooks/{runbook}.json\n"
        f'at: "{at_in(12)}"\n'
        "announce: [10s]\n"
        f"approval: {{approvers: {{users: [{ALICE}]}}, quorum: 1, deadline: 8s}}\n",
    )
    serve = stack.serve()
    pending = stack.wait_run(
        serve, "the announcement", lambda r: r.state is RunState.AWAITING_APPROVAL, limit=20
    )
    assert stack.client(serve).click("approve", pending.id, ALICE).status_code == 200

    run = stack.wait_final(serve, pending.id)
    assert run.state is RunState.COMPLETED
    stack.wait_thread(serve, run.id, "finished: *completed*")
    _started_with_halt(stack, run)


HaltHow = Callable[[Stack, Serve, int], None]


def _slack_command(stack: Stack, serve: Serve, run_id: int) -> None:
    reply = stack.client(serve).command("halt <!channel> drill", user=CAROL)
    assert reply.status_code == 200


def _halt_button(stack: Stack, serve: Serve, run_id: int) -> None:
    assert stack.client(serve).click("halt", run_id, CAROL).status_code == 200


def _cli(stack: Stack, serve: Serve, run_id: int) -> None:
    done = stack.cli("halt", "--reason", "drill")
    assert done.returncode == 0, done.stderr


def _http(stack: Stack, serve: Serve, run_id: int) -> None:
    assert stack.halt_over_http(serve, "drill").status_code == 200


@pytest.mark.parametrize(
    "how", [_slack_command, _halt_button, _cli, _http], ids=["slack", "button", "cli", "http"]
)
def test_a_halt_stops_a_running_gameday_with_its_rollbacks(stack: Stack, how: HaltHow) -> None:
    slow = stack.home.slow_runbook()
    serve = stack.serve(live=True)  # a dry run would not run the blocking action at all
    serve.start_slow_gameday(slow)
    (run,) = [r for r in stack.runs() if r.state is RunState.RUNNING]

    asked = time.monotonic()
    how(stack, serve, run.id)
    # The guarantee: every running run stops within 5 s of a halt, rollbacks included.
    ended = stack.wait_final(serve, run.id, limit=5.0)
    took = time.monotonic() - asked

    assert ended.state is RunState.ABORTED, stack.events(run.id)[-1].payload
    assert slow.rolled.exists()
    assert took <= 5.0
    assert stack.db.control.kill_switch()[0]
    stack.wait_thread(serve, run.id, "finished: *aborted*")
    assert all("<!channel>" not in t for t in stack.thread(run.id))


def test_a_run_planned_live_runs_dry_under_a_service_restarted_without_live(
    stack: Stack,
) -> None:
    quick_runbook(stack.home, "touchy")
    schedule(
        stack.home,
        "once",
        f'kind: gameday\nname: once\nrunbook: runbooks/touchy.json\nat: "{at_in(15)}"\n',
    )
    live = stack.serve(live=True)
    planned = stack.wait_run(live, "the planned run", lambda r: r.schedule == "once")
    assert planned.dry_run is False  # planned while the service was live
    live.signal(signal.SIGTERM)
    assert live.wait_exit() == 0

    dry = stack.serve()
    run = stack.wait_final(dry, planned.id, limit=40)

    assert run.state is RunState.COMPLETED
    assert run.dry_run is True
    assert not stack.home.evidence("ran-touchy.txt").exists()  # the action never ran
    start = next(e for e in stack.events(run.id) if e.payload.get("to") == "running")
    assert "not live" in start.payload["mode"]
    stack.wait_thread(dry, run.id, "started (dry run)")
