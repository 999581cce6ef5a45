"""The kill switch, schedule pauses and the outbox on both databases."""

from __future__ import annotations

from datetime import timedelta

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.runs import OutgoingMessage, RunState
from tests.db.factories import make_run


def test_kill_switch_records_who_when_and_why(database: Database, db_clock: FixedClock) -> None:
    control = database.control
    assert control.kill_switch() == (False, None)

    control.engage_kill_switch(actor="cli:alice", reason="payments incident")
    engaged_at = db_clock.now()
    db_clock.advance(timedelta(minutes=30))

    assert control.kill_switch() == (True, "payments incident")
    detail = control.kill_switch_detail()
    assert (detail.actor, detail.at) == ("cli:alice", engaged_at)

    control.release_kill_switch(actor="U42")
    assert control.kill_switch() == (False, None)
    assert control.kill_switch_detail().actor == "U42"


def test_pauses_are_per_schedule(database: Database) -> None:
    control = database.control
    control.pause("reviews-latency", actor="cli:bob")
    control.pause("reviews-latency", actor="cli:bob")  # twice is the same as once

    assert control.is_paused("reviews-latency") is True
    assert control.is_paused("bookinfo-monkey") is False
    assert [p.schedule for p in control.pauses()] == ["reviews-latency"]

    control.unpause("reviews-latency", actor="cli:bob")
    control.unpause("never-paused", actor="cli:bob")
    assert control.is_paused("reviews-latency") is False
    assert control.pauses() == []


def _message(text: str, channel: str = "#gameday", run_id: int | None = None) -> OutgoingMessage:
    return OutgoingMessage(channel=channel, text=text, thread_of_run=run_id)


def test_outbox_keeps_order_per_channel_and_holds_back_behind_a_retry(
    database: Database, db_clock: FixedClock
) -> None:
    outbox = database.outbox
    a1, b1, a2 = outbox.enqueue([_message("a1"), _message("b1", "#chaos"), _message("a2")])
    now = db_clock.now()

    assert [i.id for i in outbox.due(now=now)] == [a1, b1, a2]

    outbox.mark_failed(a1, error="ratelimited", retry_at=now + timedelta(seconds=30))
    assert [i.message.text for i in outbox.due(now=now)] == ["b1"]  # a2 waits behind a1
    later = now + timedelta(seconds=30)
    assert [i.message.text for i in outbox.due(now=later)] == ["a1", "b1", "a2"]

    outbox.mark_delivered(a1, at=later, remote_id="1700000000.000100")
    item = outbox.get(a1)
    assert (item.attempts, item.last_error, item.delivered_at) == (2, "ratelimited", later)
    assert outbox.depth() == 2
    assert [i.id for i in outbox.due(now=later, limit=1)] == [b1]


def test_outbox_threads_follow_the_first_delivered_message_of_a_run(
    database: Database, db_clock: FixedClock
) -> None:
    run = make_run(database.runs, RunState.ANNOUNCED)
    first, reply = database.outbox.enqueue(
        [_message("announce", run_id=run.id), _message("started", run_id=run.id)]
    )
    assert database.outbox.thread_of(run.id, "#gameday") is None

    database.outbox.mark_delivered(first, at=db_clock.now(), remote_id="111.222")
    database.outbox.mark_delivered(reply, at=db_clock.now(), remote_id="111.333")

    assert database.outbox.thread_of(run.id, "#gameday") == "111.222"
    assert database.outbox.thread_of(run.id, "#chaos") is None
