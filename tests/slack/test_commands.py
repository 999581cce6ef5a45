"""Every `/gameday` subcommand over HTTP, signed like Slack, against a real database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.runs import Run, RunState
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import ALICE, BOB, CAROL, OUTSIDER
from tests.slack.support import SlackClient


def _reply(slack: SlackClient, text: str, user: str = CAROL) -> dict:
    response = slack.command(text, user)
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert body["blocks"], "replies carry Block Kit"
    # What a person sees: the blocks' texts (errors are plain text there).
    body["shown"] = body["text"] + json.dumps(body["blocks"], ensure_ascii=False)
    return body


@pytest.mark.parametrize("text", ["", "help", "frobnicate", "HELP me"])
def test_help_and_unknown_input_get_the_usage(slack: SlackClient, text: str) -> None:
    body = _reply(slack, text)
    assert "/gameday" in body["text"]
    for word in ("upcoming", "journal", "unpause", "note"):
        assert word in str(body["blocks"])
    if text == "frobnicate":
        assert "Unknown command 'frobnicate'" in body["text"]


def test_list_shows_schedules_and_pauses(slack: SlackClient) -> None:
    _reply(slack, "pause bookinfo-monkey")
    text = _reply(slack, "list")["text"]
    assert "*reviews-latency* (gameday) `0 14 * * wed` #gameday" in text
    assert "*bookinfo-monkey* (monkey) `mtbf 2d` #chaos — paused" in text


def test_upcoming_lists_planned_runs_in_range(
    slack: SlackClient, gameday_run: Callable[..., Run]
) -> None:
    soon, later = gameday_run(hours=4), gameday_run(hours=24 * 5)
    body = _reply(slack, "upcoming 2")
    assert f"#{soon.id} " in body["text"]
    assert f"#{later.id} " not in body["text"]
    assert f"#{later.id} " in _reply(slack, "upcoming")["text"]  # default 7 days
    assert "between 1 and 90" in _reply(slack, "upcoming 365")["shown"]
    assert "whole number" in _reply(slack, "upcoming soon")["shown"]


def test_status_shows_kill_switch_and_waiting_runs(
    slack: SlackClient, gameday_run: Callable[..., Run]
) -> None:
    run = gameday_run()
    body = _reply(slack, "status")
    assert "Kill switch released" in body["text"]
    assert f"#{run.id} *reviews-latency* (gameday) awaiting_approval" in body["text"]
    assert "JST (+09:00)" in body["text"]
    assert "<!date^" in body["text"]


def test_run_requests_an_adhoc_gameday_by_name_only(slack: SlackClient, database: Database) -> None:
    body = _reply(slack, "run reviews-latency", user=BOB)
    assert "Requested run #1 of reviews-latency: awaiting approval" in body["text"]
    run = database.runs.get(1)
    assert (run.requester, run.schedule, run.state) == (BOB, None, RunState.AWAITING_APPROVAL)
    assert database.outbox.due(now=run.created_at)[0].message.channel == "#adhoc"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("run runbooks/reviews-latency.yaml", "is not a runbook name"),
        ("run ../etc/passwd", "is not a runbook name"),
        ("run reviews-latency.yaml", "is not a runbook name"),
        ("run nope", "no runbook named 'nope'"),
        ("run", "usage: /gameday run RUNBOOK_NAME"),
    ],
)
def test_run_refuses_paths_and_unknown_names(
    slack: SlackClient, database: Database, text: str, error: str
) -> None:
    assert error in _reply(slack, text)["shown"]
    assert database.runs.list_runs() == []


def test_approve_and_reject_commands_answer_through_the_response_url(
    slack: SlackClient,
    fake_slack: FakeSlackApi,
    gameday_run: Callable[..., Run],
    database: Database,
) -> None:
    first, second = gameday_run(), gameday_run(hours=6)
    assert slack.command(f"approve {first.id}", ALICE).text == ""  # acked at once
    assert "1 of 2" in fake_slack.wait_for("response_url", 1)[-1].args["text"]
    slack.command(f"reject #{second.id} not during the sale", BOB)
    assert "You rejected run" in fake_slack.wait_for("response_url", 2)[-1].args["text"]
    assert database.runs.get(second.id).state is RunState.REJECTED
    slack.command(f"approve {first.id}", OUTSIDER)
    refused = fake_slack.wait_for("response_url", 3)[-1].args
    assert refused["response_type"] == "ephemeral"
    assert "not an approver" in refused["text"]


def test_halt_and_resume_drive_the_kill_switch(slack: SlackClient, database: Database) -> None:
    assert "Kill switch engaged" in _reply(slack, "halt <!channel> latency spike")["text"]
    assert database.control.kill_switch() == (True, "<!channel> latency spike")
    assert "engaged" in _reply(slack, "status")["text"]
    queued = database.outbox.due(now=database.control.kill_switch_detail().at)  # type: ignore[arg-type]
    assert "<!channel>" not in queued[0].message.text
    assert "nothing new starts" in _reply(slack, "run reviews-latency")["shown"]
    assert database.runs.list_runs() == []
    assert "released" in _reply(slack, "resume")["text"]
    assert database.control.kill_switch() == (False, None)
    assert "was not engaged" in _reply(slack, "resume")["text"]


def test_pause_and_unpause_named_schedules(slack: SlackClient, database: Database) -> None:
    assert "Paused reviews-latency" in _reply(slack, "pause reviews-latency")["text"]
    assert database.control.is_paused("reviews-latency")
    assert "Unpaused" in _reply(slack, "unpause reviews-latency")["text"]
    assert not database.control.is_paused("reviews-latency")
    assert "no schedule named 'nope'" in _reply(slack, "pause nope")["shown"]


def test_history_lists_finished_runs(
    slack: SlackClient, gameday_run: Callable[..., Run], database: Database
) -> None:
    done = gameday_run()
    database.runs.transition(done.id, RunState.REJECTED, actor=ALICE, reason="no")
    waiting = gameday_run(hours=8)
    text = _reply(slack, "history 5")["text"]
    assert f"#{done.id} reviews-latency rejected" in text
    assert f"#{waiting.id} " not in text
    assert "between 1 and 50" in _reply(slack, "history 500")["shown"]


def test_note_and_journal(
    slack: SlackClient, gameday_run: Callable[..., Run], database: Database
) -> None:
    run = gameday_run()
    reply = _reply(slack, f"note {run.id} *saw* <!here> errors at <https://x.example|x>", ALICE)
    assert "Note added" in reply["text"]
    (note,) = database.runs.notes(run.id)
    assert note.text == "*saw* <!here> errors at <https://x.example|x>"  # stored as typed
    journal = _reply(slack, f"journal {run.id}")
    assert "`note` by <@UALICE>" in journal["text"]
    assert "`state_changed` `planned → awaiting_approval` by gameday" in journal["text"]
    shown = str(journal["blocks"])
    assert "plain_text" in shown
    assert note.text in shown
    assert "is not a run number" in _reply(slack, "journal abc")["shown"]
    assert "no run 999" in _reply(slack, "journal 999")["shown"]
    assert "needs some text" in _reply(slack, f"note {run.id}")["shown"]


def test_a_retried_command_is_idempotent(
    slack: SlackClient,
    fake_slack: FakeSlackApi,
    gameday_run: Callable[..., Run],
    database: Database,
) -> None:
    run = gameday_run()
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    slack.command(f"approve {run.id}", ALICE)
    slack.command(f"approve {run.id}", ALICE, headers=headers)
    texts = sorted(c.args["text"] for c in fake_slack.wait_for("response_url", 2))
    assert "Approval recorded: 1 of 2" in texts[0]
    assert "already decided" in texts[1]
    assert len(database.runs.approvals(run.id)) == 1


def test_upcoming_ignores_runs_in_the_past(
    slack: SlackClient, gameday_run: Callable[..., Run], db_clock: FixedClock
) -> None:
    run = gameday_run(hours=1)
    db_clock.advance(timedelta(hours=2))
    assert f"#{run.id} " not in _reply(slack, "upcoming")["text"]


def test_commands_answer_while_the_slack_web_api_is_down(
    slack: SlackClient, fake_slack: FakeSlackApi, database: Database
) -> None:
    fake_slack.fail(500)  # until healed: acks must not depend on Web API calls
    assert "Kill switch engaged" in _reply(slack, "halt drill")["text"]
    assert "engaged" in _reply(slack, "status")["text"]
    assert fake_slack.calls == []
    assert database.outbox.depth() == 1  # the notice waits for Slack to come back
