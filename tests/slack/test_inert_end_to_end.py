"""User text stays inert all the way: signed `/gameday note`, `/gameday halt` and a reject
with a reason through the real Bolt app, checked in what the fake Slack Web API received
(channel messages, edits, thread replies) and in the response_url replies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from gameday.adapters.db import Database
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.domain.runs import Run, RunState
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import ALICE, BOB, OUTSIDER
from tests.slack.support import SlackClient

ATTACK = "<!channel> look at <https://evil.example|this> & <@U0ADMIN> *now*"
ESCAPED = "&lt;!channel&gt; look at &lt;https://evil.example|this&gt; &amp; &lt;@U0ADMIN&gt;"


def _texts(node: object) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            yield node["type"], node["text"]
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def assert_inert(message: dict[str, Any], *, ours: tuple[str, ...] = ()) -> None:
    """Where Slack parses markup (fallback text, mrkdwn) the attack is escaped and only
    `ours` (our mentions) remain as markup; plain_text shows it as typed."""
    parsed = [
        message["text"],
        *(t for kind, t in _texts(message.get("blocks")) if kind == "mrkdwn"),
    ]
    for text in parsed:
        rest = text
        for token in ours:
            rest = rest.replace(token, "")
        rest = re.sub(r"<!date\^\d+\^[^<>|]*\|[^<>]*>", "", rest)
        assert "<" not in rest, text
        assert ">" not in rest, text
        assert not re.search(r"&(?!amp;|lt;|gt;)", rest), text


def _shown_plain(message: dict[str, Any]) -> list[str]:
    return [t for kind, t in _texts(message.get("blocks")) if kind == "plain_text"]


def _deliver(runtime: SlackRuntime) -> None:
    report = runtime.dispatcher.dispatch_once()
    assert not report.failed


def test_a_note_is_echoed_in_the_thread_with_its_markup_inert(
    slack: SlackClient,
    fake_slack: FakeSlackApi,
    runtime: SlackRuntime,
    gameday_run: Callable[..., Run],
    database: Database,
) -> None:
    run = gameday_run()
    reply = slack.command(f"note {run.id} hello {ATTACK}", ALICE)
    assert reply.status_code == 200
    body = reply.json()
    assert (body["response_type"], body["text"]) == (
        "ephemeral",
        f":white_check_mark: Note added to run #{run.id}.",
    )
    assert database.runs.notes(run.id)[0].text == f"hello {ATTACK}"  # stored as typed

    _deliver(runtime)
    announcement, note = fake_slack.posted()
    assert note["thread_ts"] == announcement["ts"]
    assert note["text"].startswith("<@UALICE> added a note: hello ")  # our mention stays
    assert ESCAPED in note["text"]
    assert_inert(note, ours=("<@UALICE>",))
    assert f"hello {ATTACK}" in _shown_plain(note)
    assert_inert(announcement, ours=("<@UALICE>", "<@UBOB>", "<@UCAROL>", "<!subteam^SAPPROVERS>"))

    journal = slack.command(f"journal {run.id}", BOB).json()
    assert_inert(journal, ours=("<@UALICE>",))
    assert f"hello {ATTACK}" in _shown_plain(journal)


def test_a_halt_reason_is_inert_in_the_notice_and_in_status(
    slack: SlackClient, fake_slack: FakeSlackApi, runtime: SlackRuntime, database: Database
) -> None:
    reply = slack.command("halt <!channel> drill", OUTSIDER)  # anyone may halt
    assert reply.status_code == 200
    assert "Kill switch engaged" in reply.json()["text"]
    assert database.control.kill_switch() == (True, "<!channel> drill")

    _deliver(runtime)
    (notice,) = fake_slack.posted()
    assert notice["channel"] == fake_slack.state.channel_ids["#gameday"]
    assert notice["text"] == "<@UOUTSIDER> engaged the kill switch: &lt;!channel&gt; drill"
    assert_inert(notice, ours=("<@UOUTSIDER>",))
    assert "<!channel> drill" in _shown_plain(notice)

    status = slack.command("status", BOB).json()
    assert "*engaged* by <@UOUTSIDER>: &lt;!channel&gt; drill" in status["text"]
    assert_inert(status, ours=("<@UOUTSIDER>",))


def test_a_reject_reason_is_inert_in_the_reply_the_announcement_and_the_thread(
    slack: SlackClient,
    fake_slack: FakeSlackApi,
    runtime: SlackRuntime,
    gameday_run: Callable[..., Run],
    database: Database,
) -> None:
    run = gameday_run()
    _deliver(runtime)  # the announcement is in the channel
    assert slack.command(f"reject {run.id} {ATTACK}", BOB).text == ""  # acked at once
    (answer,) = fake_slack.wait_for("response_url", 1)
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["text"] == f":white_check_mark: You rejected run #{run.id}."
    assert_inert(answer.args)
    assert database.runs.get(run.id).state is RunState.REJECTED

    _deliver(runtime)
    (edit,) = fake_slack.calls_to("chat.update")
    assert ESCAPED in edit.args["text"]
    assert_inert(edit.args, ours=("<@UALICE>", "<@UBOB>", "<@UCAROL>", "<!subteam^SAPPROVERS>"))
    assert f"Reason: {ATTACK}" in _shown_plain(edit.args)
    assert not [b for b in edit.args["blocks"] if b["type"] == "actions"]  # buttons gone
    thread = [m for m in fake_slack.posted() if m.get("thread_ts")]
    (line,) = thread
    assert line["text"].startswith("<@UBOB> rejected: ")
    assert_inert(line, ours=("<@UBOB>",))
    assert ATTACK in _shown_plain(line)
    assert ATTACK not in json.dumps([line["text"], edit.args["text"]])
