"""`/gameday ack RUN` and `/gameday resolve RUN [note]` over HTTP, signed like Slack, on a
real database: who may act, what is recorded, what the thread is told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.drills import DRILL_ACKED, DRILL_RESOLVED, FAULT_STARTED, DrillSpec
from gameday.domain.messages import RunBrief, brief_snapshot
from gameday.domain.runs import NewRun, Run, RunKind, RunState
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import ALICE, APPROVERS_GROUP, BOB, GROUPIE, OUTSIDER
from tests.slack.support import SlackClient


def _running(
    database: Database, clock: FixedClock, drill: DrillSpec | None, *, start: bool = True
) -> Run:
    """A GameDay run that is running, its start recording `drill` and a thread."""
    runs = database.runs
    run = runs.create(
        NewRun(RunKind.GAMEDAY, "reviews-latency", "reviews-latency", clock.now()),
        actor="test",
        reason="test",
    )
    run = runs.transition(run.id, RunState.APPROVED, actor="test", reason="test")
    if not start:
        return run
    record: dict[str, Any] = {"dry_run": True, "mode": "test", "thread": None}
    record["thread"] = brief_snapshot(RunBrief(run, "reviews-latency"), "#gameday")
    if drill is not None:
        record["drill"] = drill.to_json()
    assert runs.claim(run.id, actor="test", dry_run=True, payload=record)
    runs.append_event(run.id, FAULT_STARTED, actor="worker", payload={"activity": "inject"})
    return runs.get(run.id)


def _answer(slack: SlackClient, fake: FakeSlackApi, text: str, user: str) -> dict[str, Any]:
    before = len([c for c in fake.calls if c.method == "response_url"])
    assert slack.command(text, user).text == ""  # acked at once, answered later
    reply = fake.wait_for("response_url", before + 1)[-1].args
    assert reply["response_type"] == "ephemeral"
    return reply


def _types(database: Database, run_id: int) -> list[str]:
    return [e.type for e in database.runs.events(run_id)]


def test_ack_then_resolve_records_who_and_when_with_thread_lines(
    slack: SlackClient, fake_slack: FakeSlackApi, database: Database, db_clock: FixedClock
) -> None:
    run = _running(database, db_clock, DrillSpec(responders=(ALICE, APPROVERS_GROUP)))
    db_clock.advance(timedelta(seconds=2))
    acked = _answer(slack, fake_slack, f"ack {run.id}", ALICE)["text"]
    assert "You acknowledged drill run" in acked
    db_clock.advance(timedelta(seconds=1))
    # A member of a responder group acks later: kept as a participant.
    later = _answer(slack, fake_slack, f"ack #{run.id}", GROUPIE)["text"]
    assert "already acknowledged" in later
    db_clock.advance(timedelta(seconds=1))
    note = "restarted reviews <!channel> <script>"
    reply = _answer(slack, fake_slack, f"resolve {run.id} {note}", ALICE)
    assert "You resolved drill run" in reply["text"]
    events = database.runs.events(run.id)
    acks = [e for e in events if e.type == DRILL_ACKED]
    assert [e.actor for e in acks] == [ALICE, GROUPIE]
    resolved = next(e for e in events if e.type == DRILL_RESOLVED)
    assert resolved.payload == {"by": ALICE, "note": note}  # stored as typed
    lines = [
        item.message for item in database.outbox.of_run(run.id) if "drill" in item.message.text
    ]
    assert len(lines) == 3
    assert all(m.channel == "#gameday" and m.thread_of_run == run.id for m in lines)
    shown = lines[-1]
    assert "<!channel>" not in shown.text
    assert "&lt;!channel&gt;" in shown.text
    assert "<script>" not in shown.text


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("outsider", "only the responders of run"),
        ("not-a-drill", "is not a drill"),
        ("not-running", "not running: only a running drill can be acknowledged"),
        ("unknown", "no run 9999"),
        ("bad-number", "is not a run number"),
    ],
)
def test_refusals_write_nothing(
    slack: SlackClient,
    fake_slack: FakeSlackApi,
    database: Database,
    db_clock: FixedClock,
    case: str,
    expected: str,
) -> None:
    drill = DrillSpec(responders=(ALICE,))
    run = _running(
        database,
        db_clock,
        None if case == "not-a-drill" else drill,
        start=case != "not-running",
    )
    target = {"unknown": "9999", "bad-number": "soon"}.get(case, str(run.id))
    user = OUTSIDER if case == "outsider" else ALICE
    before = (_types(database, run.id), len(database.outbox.of_run(run.id)))
    assert expected in _answer(slack, fake_slack, f"ack {target}", user)["text"]
    assert (_types(database, run.id), len(database.outbox.of_run(run.id))) == before


def test_an_approver_and_anyone_for_a_drill_without_responders(
    slack: SlackClient, fake_slack: FakeSlackApi, database: Database, db_clock: FixedClock
) -> None:
    open_drill = _running(database, db_clock, DrillSpec())
    assert "You acknowledged" in _answer(slack, fake_slack, f"ack {open_drill.id}", BOB)["text"]
    resolved = _answer(slack, fake_slack, f"resolve {open_drill.id}", OUTSIDER)["text"]
    assert "You resolved drill run" in resolved
    assert DRILL_RESOLVED in _types(database, open_drill.id)
