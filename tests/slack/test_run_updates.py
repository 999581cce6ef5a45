"""A run's life in Slack: reminders at later leads, Halt while running, events in the
thread, the outcome on the announcement."""

from __future__ import annotations

from collections.abc import Callable

from gameday.adapters.db import Database
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.domain.runs import Decision, Run, RunState
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import ALICE, BOB


def _buttons(message: dict) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


def test_later_leads_remind_in_the_thread_with_a_broadcast(
    runtime: SlackRuntime, gameday_run: Callable[..., Run], fake_slack: FakeSlackApi
) -> None:
    run = gameday_run()
    runtime.deps.approvals.announce(run.id)  # the 1h lead
    runtime.dispatcher.dispatch_once()
    first, reminder = fake_slack.posted()
    assert "thread_ts" not in first
    assert reminder["thread_ts"] == first["ts"]
    assert reminder["reply_broadcast"] is True


def test_a_run_shows_halt_while_running_then_its_outcome(
    runtime: SlackRuntime,
    gameday_run: Callable[..., Run],
    fake_slack: FakeSlackApi,
    database: Database,
) -> None:
    run = gameday_run()
    for approver in (ALICE, BOB):
        runtime.deps.approvals.decide(run.id, actor=approver, decision=Decision.APPROVE)
    updates = runtime.deps.updates
    approved = database.runs.get(run.id)
    assert database.runs.claim(run.id, actor="test", messages=updates.messages_for_start(approved))
    running = database.runs.get(run.id)
    database.outbox.enqueue(
        updates.messages_for_note(
            running, "rollback started", detail="<!channel> reviews-v2 restored"
        )
    )
    runtime.dispatcher.dispatch_once()
    anchor = fake_slack.posted()[0]
    key = (anchor["channel"], anchor["ts"])
    (halt,) = _buttons(fake_slack.state.messages[key])
    assert halt["action_id"] == f"gameday:halt:{run.id}"
    assert halt["confirm"]["title"]["text"] == "Halt this run?"
    done = database.runs.transition(
        run.id,
        RunState.COMPLETED,
        actor="test",
        reason="done",
        messages=updates.messages_for_end(running, "completed", journal_hint="gameday journal 1"),
    )
    runtime.dispatcher.dispatch_once()
    assert done.state is RunState.COMPLETED
    assert _buttons(fake_slack.state.messages[key]) == []
    thread = [m["text"] for m in fake_slack.posted() if m.get("thread_ts") == anchor["ts"]]
    assert any("rollback started" in t and "<!channel>" not in t for t in thread)
    assert "finished: *completed* (journal: `gameday journal 1`)" in thread[-1]
