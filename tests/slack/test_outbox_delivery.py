"""The outbox dispatcher with the real slack_sdk client against the fake Slack Web API."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from pydantic import SecretStr

from gameday import wiring
from gameday.adapters.db import Database
from gameday.adapters.slack.app import web_client
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.adapters.slack.senders import ConsoleSender
from gameday.adapters.slack.usergroups import CachedUserGroups
from gameday.domain.clock import FixedClock
from gameday.domain.runs import Decision, OutgoingMessage, Run, RunState
from gameday.services.catalog import Catalog
from gameday.services.outbox import Backoff, OutboxDispatcher
from gameday.settings import Settings
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import ALICE, BOB
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET


def _queue(database: Database, channel: str, count: int) -> list[int]:
    return database.outbox.enqueue(
        [OutgoingMessage(channel=channel, text=f"{channel} message {i}") for i in range(count)]
    )


def _drain(dispatcher: OutboxDispatcher, clock: FixedClock, passes: int = 50) -> None:
    """Dispatch until nothing is due, moving the clock past every backoff."""
    for _ in range(passes):
        report = dispatcher.dispatch_once()
        if report.delivered == report.failed == report.dropped == 0 and not report.paused_until:
            clock.advance(timedelta(minutes=5))
            if not dispatcher.dispatch_once().delivered:
                return
        clock.advance(timedelta(seconds=1) if report.paused_until is None else timedelta(0))
        if report.paused_until is not None:
            clock.advance(report.paused_until - clock.now())


def test_slack_down_then_up_delivers_everything_once_in_order(
    runtime: SlackRuntime, database: Database, fake_slack: FakeSlackApi, db_clock: FixedClock
) -> None:
    ids = _queue(database, "#gameday", 5) + _queue(database, "#chaos", 3)
    fake_slack.fail(500)  # until healed
    dispatcher = runtime.dispatcher
    for _ in range(6):  # an outage across several passes and backoffs
        report = dispatcher.dispatch_once()
        assert report.delivered == 0
        assert report.failed in (0, 2)
        db_clock.advance(timedelta(minutes=1))
    assert database.outbox.depth() == 8
    attempts = len(fake_slack.calls_to("chat.postMessage"))
    assert 2 <= attempts <= 12  # one head per channel per due pass, never the later ones
    fake_slack.heal()
    db_clock.advance(timedelta(minutes=10))
    _drain(dispatcher, db_clock)
    assert database.outbox.depth() == 0
    posted = fake_slack.posted()
    by_channel = {
        ch: [m["text"] for m in posted if m["text"].startswith(ch)] for ch in ("#gameday", "#chaos")
    }
    assert by_channel["#gameday"] == [f"#gameday message {i}" for i in range(5)]
    assert by_channel["#chaos"] == [f"#chaos message {i}" for i in range(3)]
    assert len(posted) == 8  # once each
    keys = [m["metadata"]["event_payload"]["key"] for m in posted]
    assert sorted(keys) == sorted(f"gameday-outbox-{i}" for i in ids)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    backoff = Backoff(base=timedelta(seconds=2), cap=timedelta(seconds=60))
    assert [backoff.delay(n).total_seconds() for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def test_rate_limit_retry_after_pauses_every_channel(
    runtime: SlackRuntime, database: Database, fake_slack: FakeSlackApi, db_clock: FixedClock
) -> None:
    _queue(database, "#gameday", 2)
    _queue(database, "#chaos", 1)
    fake_slack.rate_limit(retry_after=30)
    report = runtime.dispatcher.dispatch_once()
    assert report.paused_until == db_clock.now() + timedelta(seconds=30)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # stopped at once
    db_clock.advance(timedelta(seconds=29))
    assert runtime.dispatcher.dispatch_once().delivered == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # nothing sent while paused
    db_clock.advance(timedelta(seconds=1))
    assert runtime.dispatcher.dispatch_once().delivered == 3
    assert database.outbox.depth() == 0


def test_a_permanent_error_is_recorded_and_the_channel_moves_on(
    runtime: SlackRuntime, database: Database, fake_slack: FakeSlackApi
) -> None:
    bad, good = _queue(database, "#gameday", 2)
    fake_slack.error("channel_not_found", times=1)
    report = runtime.dispatcher.dispatch_once()
    assert (report.dropped, report.delivered) == (1, 1)
    dropped = database.outbox.get(bad)
    assert "channel_not_found" in (dropped.last_error or "")
    assert dropped.remote_id is None
    assert database.outbox.get(good).remote_id is not None


def test_run_messages_thread_under_the_announcement_and_decisions_update_it(
    runtime: SlackRuntime,
    database: Database,
    fake_slack: FakeSlackApi,
    gameday_run: Callable[..., Run],
    db_clock: FixedClock,
) -> None:
    run = gameday_run()
    runtime.dispatcher.dispatch_once()
    (announcement,) = fake_slack.posted()
    actions = [b for b in announcement["blocks"] if b["type"] == "actions"]
    assert next(e["action_id"] for e in actions[0]["elements"]) == f"gameday:approve:{run.id}"
    approvals = runtime.deps.approvals
    approvals.decide(run.id, actor=ALICE, decision=Decision.APPROVE)
    approvals.decide(run.id, actor=BOB, decision=Decision.APPROVE)
    runtime.deps.chatops.note(run.id, "watching the dashboards", actor=BOB)
    runtime.dispatcher.dispatch_once()
    assert database.runs.get(run.id).state is RunState.APPROVED
    replies = [m for m in fake_slack.posted() if m.get("thread_ts") == announcement["ts"]]
    assert len(replies) == 3  # 1 of 2, approved, the note
    assert "<@UBOB> approved" in replies[1]["text"]
    updates = fake_slack.calls_to("chat.update")
    assert len(updates) == 2
    assert all(u.args["ts"] == announcement["ts"] for u in updates)
    final = fake_slack.state.messages[(announcement["channel"], announcement["ts"])]
    assert not [b for b in final["blocks"] if b["type"] == "actions"]  # buttons gone
    assert "approved by <@UALICE>, <@UBOB>" in final["text"]


def test_console_notifier_prints_the_same_messages(
    tmp_path, database: Database, catalog: Catalog, db_clock: FixedClock
) -> None:
    settings = Settings(home=tmp_path, default_channel="#gameday")
    slack = wiring.slack_for(settings, database=database, catalog=lambda: catalog, clock=db_clock)
    assert slack.app is None
    assert slack.wsgi_app() is None
    out = io.StringIO()
    dispatcher = OutboxDispatcher(database.outbox, ConsoleSender(out), db_clock)
    _queue(database, "#gameday", 2)
    assert dispatcher.dispatch_once().delivered == 2
    assert out.getvalue().splitlines() == [
        "[#gameday] #gameday message 0",
        "[#gameday] #gameday message 1",
    ]


def test_usergroup_members_are_cached_for_a_while(
    fake_slack: FakeSlackApi, db_clock: FixedClock
) -> None:
    groups = CachedUserGroups(web_client(BOT_TOKEN, fake_slack.base_url), db_clock)
    assert groups.members("SAPPROVERS") == frozenset({"UGROUPIE"})
    fake_slack.set_usergroup("SAPPROVERS", ["UNEW"])
    assert groups.members("SAPPROVERS") == frozenset({"UGROUPIE"})
    fake_slack.fail(500, times=1)
    db_clock.advance(timedelta(minutes=6))
    assert groups.members("SAPPROVERS") == frozenset({"UGROUPIE"})  # stale beats nothing
    assert groups.members("SAPPROVERS") == frozenset({"UNEW"})
    assert groups.members("SUNKNOWN") == frozenset()
    assert len(fake_slack.calls_to("usergroups.users.list")) == 4
    assert all(c.authorized for c in fake_slack.calls)


def test_the_outbox_worker_delivers_in_the_background(
    runtime: SlackRuntime, database: Database, fake_slack: FakeSlackApi
) -> None:
    worker = runtime.outbox_worker(interval=0.05).start()
    try:
        _queue(database, "#gameday", 3)
        worker.poke()
        posted = fake_slack.wait_for("chat.postMessage", 3)
    finally:
        worker.stop()
    assert [c.args["text"] for c in posted] == [f"#gameday message {i}" for i in range(3)]


def test_socket_mode_is_used_when_an_app_token_is_set(
    settings: Settings, database: Database, catalog: Catalog, db_clock: FixedClock
) -> None:
    settings.slack_app_token = SecretStr("xapp-1-A111-222-abc")
    settings.slack_signing_secret = None
    slack = wiring.slack_for(settings, database=database, catalog=lambda: catalog, clock=db_clock)
    assert slack.wsgi_app() is None  # no signing secret: no unverifiable HTTP endpoint
    handler = slack.socket_mode()
    assert handler is not None
    assert handler.app is slack.app
    assert handler.client.app_token == "xapp-1-A111-222-abc"


def test_tokens_and_secrets_never_reach_the_logs(
    caplog: pytest.LogCaptureFixture,
    runtime: SlackRuntime,
    database: Database,
    fake_slack: FakeSlackApi,
    slack,
) -> None:
    caplog.set_level(logging.DEBUG)
    _queue(database, "#gameday", 1)
    fake_slack.fail(500, times=1)
    runtime.dispatcher.dispatch_once()
    runtime.dispatcher.dispatch_once()
    slack.command("status")
    slack.command("status", signature="v0=" + "1" * 64)
    text = caplog.text + "".join(str(c.headers) + str(c.args) for c in fake_slack.calls)
    assert caplog.records, "the check must see some logging"
    assert BOT_TOKEN not in text
    assert SIGNING_SECRET not in text


def test_a_decision_made_during_an_outage_reaches_slack_in_order_afterwards(
    runtime: SlackRuntime,
    database: Database,
    fake_slack: FakeSlackApi,
    gameday_run: Callable[..., Run],
    db_clock: FixedClock,
) -> None:
    fake_slack.fail(500)
    run = gameday_run()
    for approver in (ALICE, BOB):
        runtime.deps.approvals.decide(run.id, actor=approver, decision=Decision.APPROVE)
    for _ in range(3):
        runtime.dispatcher.dispatch_once()
        db_clock.advance(timedelta(minutes=2))
    assert fake_slack.posted() == []
    fake_slack.heal()
    _drain(runtime.dispatcher, db_clock)
    announcement, *replies = fake_slack.posted()
    assert "thread_ts" not in announcement
    assert [r["thread_ts"] for r in replies] == [announcement["ts"]] * 2
    assert ["1 of 2" in replies[0]["text"], "approved" in replies[1]["text"]] == [True, True]
    final = fake_slack.state.messages[(announcement["channel"], announcement["ts"])]
    assert "approved by <@UALICE>, <@UBOB>" in final["text"]
    assert database.outbox.depth() == 0
