"""Buttons over HTTP: approve (quorum), reject, postpone, veto, halt; refusals; expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gameday.adapters.db import Database
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.adapters.slack.veto import EventVetoGate
from gameday.domain.clock import FixedClock
from gameday.domain.runs import Decision, Run, RunState
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import ALICE, BOB, CAROL, GROUPIE, OUTSIDER
from tests.slack.support import SlackClient


@pytest.fixture
def click(slack: SlackClient, fake_slack: FakeSlackApi) -> Callable[..., dict]:
    """Click a button and return the ephemeral answer sent to the response URL."""

    def do(verb: str, run_id: int, user: str) -> dict:
        before = len(fake_slack.calls_to("response_url"))
        response = slack.click(verb, run_id, user)
        assert (response.status_code, response.text) == (200, "")  # acked, nothing else
        answer = fake_slack.wait_for("response_url", before + 1)[before].args
        assert answer["response_type"] == "ephemeral"
        assert answer["replace_original"] is False
        return answer

    return do


def _events(database: Database, run: Run) -> list[str]:
    return [e.type for e in database.runs.events(run.id)]


def test_two_distinct_authorised_approvals_approve(
    click: Callable[..., dict], gameday_run: Callable[..., Run], database: Database
) -> None:
    run = gameday_run(requester=CAROL)
    assert "1 of 2" in click("approve", run.id, ALICE)["text"]
    assert database.runs.get(run.id).state is RunState.AWAITING_APPROVAL
    assert database.runs.claim(run.id, actor="executor") is False  # cannot start yet
    assert "already decided" in click("approve", run.id, ALICE)["text"]  # double click
    assert database.runs.get(run.id).state is RunState.AWAITING_APPROVAL
    assert "is approved" in click("approve", run.id, GROUPIE)["text"]  # via the user group
    assert database.runs.get(run.id).state is RunState.APPROVED
    assert [a.user for a in database.runs.approvals(run.id)] == [ALICE, GROUPIE]
    assert database.runs.claim(run.id, actor="executor") is True  # now it may run
    assert "already decided" in click("approve", run.id, GROUPIE)["text"]


@pytest.mark.parametrize(
    ("user", "why"),
    [(CAROL, "cannot approve it yourself"), (OUTSIDER, "not an approver")],
)
def test_self_approval_and_outsiders_are_refused_leaving_only_an_event(
    click: Callable[..., dict],
    gameday_run: Callable[..., Run],
    database: Database,
    user: str,
    why: str,
) -> None:
    run = gameday_run(requester=CAROL)
    before = database.runs.events(run.id)
    depth = database.outbox.depth()
    answer = click("approve", run.id, user)
    assert why in answer["text"]
    assert answer["text"].startswith(":warning: Refused")
    assert database.runs.get(run.id) == run
    assert database.runs.approvals(run.id) == []
    assert database.outbox.depth() == depth
    after = database.runs.events(run.id)
    assert after[: len(before)] == before
    (refused,) = after[len(before) :]
    assert (refused.type, refused.actor, refused.payload["decision"]) == (
        "approval_refused",
        user,
        "approve",
    )


def test_an_outsider_cannot_reject_either(
    click: Callable[..., dict], gameday_run: Callable[..., Run], database: Database
) -> None:
    run = gameday_run()
    assert "not an approver" in click("reject", run.id, OUTSIDER)["text"]
    assert database.runs.get(run.id).state is RunState.AWAITING_APPROVAL


def test_one_authorised_reject_rejects(
    click: Callable[..., dict], gameday_run: Callable[..., Run], database: Database
) -> None:
    run = gameday_run()
    click("approve", run.id, ALICE)
    assert "You rejected" in click("reject", run.id, BOB)["text"]
    assert database.runs.get(run.id).state is RunState.REJECTED
    assert "not waiting for approval" in click("approve", run.id, GROUPIE)["text"]


def test_postpone_skips_this_occurrence_and_plans_a_later_one(
    click: Callable[..., dict], gameday_run: Callable[..., Run], database: Database
) -> None:
    run = gameday_run()
    assert "postponed to" in click("postpone", run.id, BOB)["text"]
    assert database.runs.get(run.id).state is RunState.SKIPPED
    later = [r for r in database.runs.list_runs() if r.id != run.id]
    assert [r.planned_at for r in later] == [run.planned_at + timedelta(days=1)]
    assert "only approvers may postpone" in click("postpone", later[0].id, OUTSIDER)["text"]


def test_anyone_may_veto_a_monkey_kill_during_its_heads_up(
    click: Callable[..., dict],
    monkey_run: Run,
    database: Database,
    db_clock: FixedClock,
) -> None:
    assert monkey_run.state is RunState.ANNOUNCED
    gate = EventVetoGate(
        database.runs, db_clock, wait=lambda s: db_clock.advance(timedelta(seconds=s))
    )
    assert "no pod will be killed" in click("veto", monkey_run.id, OUTSIDER)["text"]
    assert gate.wait_for_veto(monkey_run.id, timedelta(minutes=10)) == OUTSIDER
    assert "already vetoed by UOUTSIDER" in click("veto", monkey_run.id, ALICE)["text"]
    assert _events(database, monkey_run).count("veto_requested") == 1


def test_without_a_veto_the_gate_waits_out_the_heads_up(
    monkey_run: Run, database: Database, db_clock: FixedClock
) -> None:
    start = db_clock.now()
    gate = EventVetoGate(
        database.runs, db_clock, wait=lambda s: db_clock.advance(timedelta(seconds=s))
    )
    assert gate.wait_for_veto(monkey_run.id, timedelta(minutes=10)) is None
    assert db_clock.now() - start == timedelta(minutes=10)


def test_a_veto_after_the_heads_up_is_refused(
    click: Callable[..., dict], monkey_run: Run, database: Database
) -> None:
    database.runs.transition(monkey_run.id, RunState.APPROVED, actor="test", reason="heads-up over")
    assert "the heads-up is over" in click("veto", monkey_run.id, ALICE)["text"]
    assert database.runs.get(monkey_run.id).state is RunState.APPROVED


def test_veto_is_only_for_monkey_kills(
    click: Callable[..., dict], gameday_run: Callable[..., Run], database: Database
) -> None:
    run = gameday_run()
    assert "only a monkey kill can be vetoed" in click("veto", run.id, ALICE)["text"]
    assert database.runs.get(run.id).state is RunState.AWAITING_APPROVAL


def test_halt_engages_the_kill_switch_for_anyone(
    click: Callable[..., dict], gameday_run: Callable[..., Run], database: Database
) -> None:
    run = gameday_run()
    assert "Halting run" in click("halt", run.id, OUTSIDER)["text"]
    assert database.control.kill_switch() == (True, f"halt pressed on run #{run.id}")
    assert "halt_pressed" in _events(database, run)
    depth = database.outbox.depth()
    click("halt", run.id, ALICE)  # a second press keeps the switch engaged, no new notice
    assert database.control.kill_switch()[0] is True
    assert database.outbox.depth() == depth + 1  # only the run's thread note


def test_approval_expires_at_its_deadline(
    click: Callable[..., dict],
    gameday_run: Callable[..., Run],
    database: Database,
    runtime: SlackRuntime,
    db_clock: FixedClock,
) -> None:
    early, late = gameday_run(), gameday_run(hours=6)
    click("approve", late.id, ALICE)
    db_clock.advance(timedelta(minutes=29))
    assert runtime.deps.approvals.expire_due() == []
    db_clock.advance(timedelta(minutes=1))
    assert "expired" in click("approve", early.id, BOB)["text"]
    assert database.runs.get(early.id).state is RunState.EXPIRED
    assert [r.id for r in runtime.deps.approvals.expire_due()] == [late.id]
    assert database.runs.get(late.id).state is RunState.EXPIRED


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_quorum_holds_on_both_databases(
    runtime: SlackRuntime, gameday_run: Callable[..., Run], database: Database
) -> None:
    run = gameday_run(requester=CAROL)
    approvals = runtime.deps.approvals
    approvals.decide(run.id, actor=ALICE, decision=Decision.APPROVE)
    approvals.decide(run.id, actor=ALICE, decision=Decision.APPROVE)
    assert database.runs.get(run.id).state is RunState.AWAITING_APPROVAL
    approvals.decide(run.id, actor=BOB, decision=Decision.APPROVE)
    assert database.runs.get(run.id).state is RunState.APPROVED
