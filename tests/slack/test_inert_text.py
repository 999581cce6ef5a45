"""Text a person or a spec wrote is inert in Slack, and every message fits Slack's limits:
a property over every message builder, every `/gameday` reply and every RunUpdates
message, with arbitrary text in every slot that takes user or spec text."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import gameday
from gameday.adapters.slack import replies
from gameday.domain import execution as ex
from gameday.domain import messages
from gameday.domain.approval import ApprovalPolicy
from gameday.domain.blocks import Message
from gameday.domain.drills import (
    ALERT_FIRED,
    DRILL_ACKED,
    DRILL_RESOLVED,
    FAULT_STARTED,
    DrillFigures,
    DrillSpec,
    drill_figures,
)
from gameday.domain.gates import GateResult
from gameday.domain.messages import (
    RunBrief,
    decided_message,
    drill_outcome,
    gameday_announcement,
    monkey_heads_up,
    running_message,
    thread_note,
)
from gameday.domain.mrkdwn import code, date_token, escape_mrkdwn, join_md, md
from gameday.domain.run_mode import RunMode
from gameday.domain.run_policy import Briefing
from gameday.domain.runs import (
    KillSwitch,
    Note,
    OutgoingMessage,
    Pause,
    Run,
    RunEvent,
    RunKind,
    RunState,
)
from gameday.services.chatops import JournalView, Operators, ScheduleLine, Status
from gameday.services.run_updates import RunUpdates

AT = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
ZONE = "Asia/Tokyo"
# The only ids our own markup mentions here; user text never becomes one of these tokens.
OUR_USERS = ("UOURSA", "UOURSB", "WOURSC")
OUR_GROUPS = ("SOURSOPS",)
_OURS = re.compile(
    "|".join(
        [
            *(re.escape(f"<@{u}>") for u in OUR_USERS),
            *(re.escape(f"<!subteam^{g}>") for g in OUR_GROUPS),
            rf"<!date\^{int(AT.timestamp())}\^\{{date_short_pretty\}} \{{time\}}\|[^<>]*>",
        ]
    )
)
_BARE_AMP = re.compile(r"&(?!amp;|lt;|gt;)")

ATTACKS = [
    "<!channel>",
    "<!here|here>",
    "<@U123>",
    "<@UOURSA|alice>",
    "<!subteam^S0123>",
    "<!date^1700000000^{date}|x>",
    "<https://x|y>",
    "<mailto:a@b.c|mail>",
    "&",
    "&amp;",
    "&lt;!channel&gt;",
    "*_~`",
    "```",
    "<",
    ">",
    "\u200b*",
    "日本語",
    "🙂",
    "\n",
]
_pieces = st.sampled_from(ATTACKS) | st.text(max_size=12)
user_text = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(max_size=300),
    st.lists(_pieces, max_size=30).map("".join),
    # Very long text: past the section (3,000), field (2,000) and fallback (40,000) limits.
    st.tuples(st.sampled_from([*ATTACKS, "x", "é"]), st.integers(1, 6_000)).map(
        lambda pair: pair[0] * pair[1]
    ),
)
# Who did something: one of our ids, or any other text (a CLI user, a forged id).
actor_text = st.sampled_from(OUR_USERS) | user_text
many = st.integers(0, 120)

LIMITED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- what a message must satisfy ------------------------------------------------------------
def assert_inert(text: str, where: str) -> None:
    """No `<`, `>` or unescaped `&` besides our own tokens."""
    rest = _OURS.sub("", text)
    assert "<" not in rest, f"markup from user text in {where}: {text[:300]!r}"
    assert ">" not in rest, f"markup from user text in {where}: {text[:300]!r}"
    assert not _BARE_AMP.search(rest), f"unescaped & in {where}: {text[:300]!r}"


def _text_objects(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            yield node
        for value in node.values():
            yield from _text_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _text_objects(value)


def _text_of(obj: dict[str, Any]) -> str:
    text = obj["text"]
    assert isinstance(text, str)
    assert text, f"empty text object {obj!r}"
    return text


def assert_within_limits(text: str, blocks: list[dict[str, Any]]) -> None:
    """Slack's limits for chat.postMessage and Block Kit."""
    assert text
    assert len(text) <= 40_000
    assert len(blocks) <= 50
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(_text_of(block["text"])) <= 150
        elif kind == "section":
            if "text" in block:
                assert len(_text_of(block["text"])) <= 3_000
            fields = block.get("fields", [])
            assert "text" in block or fields
            assert len(fields) <= 10
            assert all(len(_text_of(f)) <= 2_000 for f in fields)
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(len(_text_of(e)) <= 3_000 for e in block["elements"])
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["text"]["type"] == "plain_text"
                assert len(_text_of(button["text"])) <= 75
                confirm = button.get("confirm")
                if confirm:
                    limits = {"title": 100, "text": 300, "confirm": 30, "deny": 30}
                    for key, limit in limits.items():
                        assert len(_text_of(confirm[key])) <= limit
        else:
            raise AssertionError(f"unexpected block type {kind}")


def check(text: str, blocks: list[dict[str, Any]] | None, where: str) -> None:
    """Inert wherever Slack parses markup, and within Slack's limits."""
    assert_inert(text, f"{where} fallback")
    for obj in _text_objects(blocks or []):
        if obj["type"] == "mrkdwn":
            assert_inert(obj["text"], f"{where} mrkdwn")
    assert_within_limits(text, blocks or [])


def check_message(message: Message, where: str) -> None:
    check(message.text, message.blocks, where)


def check_outgoing(messages_: list[OutgoingMessage], where: str) -> None:
    assert messages_
    for message in messages_:
        check(message.text, message.blocks, where)


# -- what goes in ---------------------------------------------------------------------------
def _run(
    t: str, requester: str | None, *, kind: RunKind = RunKind.GAMEDAY, run_id: int = 42
) -> Run:
    return Run(
        id=run_id,
        kind=kind,
        schedule=t,
        runbook=t,
        planned_at=AT,
        state=RunState.AWAITING_APPROVAL,
        dry_run=run_id % 2 == 0,
        seed=1,
        requester=requester,
        runbook_digest=None,
        created_at=AT,
        updated_at=AT,
    )


def _brief(t: str, actor: str, kind: RunKind = RunKind.GAMEDAY) -> RunBrief:
    policy = ApprovalPolicy(frozenset(OUR_USERS), frozenset(OUR_GROUPS), 2, timedelta(minutes=30))
    return RunBrief(_run(t, actor, kind=kind), t, ZONE, t, t, policy, drill=True)


def _figures(t: str, actor: str) -> DrillFigures:
    """A drill's figures whose alert, participants and note carry hostile text."""
    alert = {"alertname": t, "labels": {t: t}, "starts_at": (AT + timedelta(seconds=3)).isoformat()}
    events = [
        RunEvent(42, 1, AT, FAULT_STARTED, "worker", {}),
        RunEvent(42, 2, AT + timedelta(seconds=4), ALERT_FIRED, "alertmanager", alert),
        RunEvent(42, 3, AT + timedelta(seconds=5), DRILL_ACKED, actor, {"by": actor}),
        RunEvent(42, 4, AT + timedelta(hours=2), DRILL_RESOLVED, t, {"by": t, "note": t}),
    ]
    return drill_figures(DrillSpec(responders=(OUR_GROUPS[0],)), events)


# -- the property, per place messages are built ---------------------------------------------
LONG = ["<!channel>" * 5_000, "&" * 45_000, "*_" * 12_000, "<@U123>" + "é" * 3_000]


def long_examples(test: Callable[..., None]) -> Callable[..., None]:
    """Always try text past every limit, whatever hypothesis draws."""
    for text in LONG:
        test = example(t=text, actor=text)(test)
    return test


@LIMITED
@long_examples
@given(t=user_text, actor=actor_text)
def test_message_builders_keep_user_text_inert_and_within_limits(t: str, actor: str) -> None:
    brief = _brief(t, actor)
    checks: dict[str, Message] = {
        "gameday_announcement": gameday_announcement(brief, [OUR_USERS[0], actor]),
        "monkey_heads_up": monkey_heads_up(_brief(t, actor, RunKind.MONKEY)),
        "running_message": running_message(brief),
        "decided_message": decided_message(
            brief, t, by=[actor, OUR_USERS[1]], reason=t, approvers=[actor]
        ),
        "decided_message(known outcome)": decided_message(brief, "rejected", by=[actor], reason=t),
        "thread_note": thread_note(md("added a note"), actor=actor, user_text=t),
        "thread_note(md)": thread_note(md("{} said {}", t, code(t)), user_text=t),
        "thread_note(join_md)": thread_note(join_md(", ", [t, escape_mrkdwn(t)])),
        "drill_outcome": drill_outcome(_figures(t, actor)),
    }
    assert {name.split("(")[0] for name in checks} >= BUILDERS
    for name, message in checks.items():
        check_message(message, name)


@LIMITED
@example(t=LONG[0], actor=LONG[1], n=120)
@given(t=user_text, actor=actor_text, n=many)
def test_replies_keep_user_text_inert_and_within_limits(t: str, actor: str, n: int) -> None:
    runs = [_run(t, actor, run_id=i) for i in range(n)]
    status = Status(
        running=runs[: n // 2],
        awaiting=runs[n // 2 :],
        kill_switch=KillSwitch(engaged=True, actor=actor, at=AT, reason=t),
        pauses=[Pause(schedule=t, actor=actor, at=AT, reason=t)] * min(n, 30),
        outbox_depth=n,
    )
    events = [
        RunEvent(42, i, AT, t if i % 2 else "state_changed", actor, {"from": t, "to": t})
        for i in range(n)
    ]
    notes = [Note(42, actor, t, AT)] * min(n, 20)
    lines = [ScheduleLine(t, t, t, t if i % 2 else None, i % 3 == 0) for i in range(n)]
    operators = Operators.of([*OUR_USERS, *OUR_GROUPS], configured=n % 2 == 0)
    checks: dict[str, Message] = {
        "help_message": replies.help_message(t),
        "help_message(no problem)": replies.help_message(),
        "notice": replies.notice(md("Paused {}.", t), replies.INFO),
        "error": replies.error(t),
        "operators_only": replies.operators_only(t, operators),
        "operators_only(nobody)": replies.operators_only(t, Operators.of([], configured=False)),
        "runs_message": replies.runs_message(t, runs, ZONE),
        "status_message": replies.status_message(status, ZONE),
        "schedules_message": replies.schedules_message(lines),
        "journal_message": replies.journal_message(
            JournalView(_run(t, actor), events, notes, n % 2 == 0), ZONE
        ),
    }
    assert {name.split("(")[0] for name in checks} >= REPLIES
    for name, message in checks.items():
        check_message(message, name)


@LIMITED
@example(t=LONG[0], actor=LONG[1], hard=True)
@example(t=LONG[2], actor=LONG[3], hard=False)
@given(t=user_text, actor=actor_text, hard=st.booleans())
def test_run_updates_keep_user_text_inert_and_within_limits(t: str, actor: str, hard: bool) -> None:
    brief = _brief(t, actor)
    updates = RunUpdates(lambda run: Briefing(brief, t))
    run = brief.run
    payload = {
        "reason": t,
        "error": t,
        "probes": [t, t],
        "statuses": [t, "succeeded", t],
        "hard": hard,
        "timeout_seconds": 90,
        "gate": t,
        "observed": t,
        "bound": t,
    }
    for event_type in EVENT_TYPES:
        event = RunEvent(run.id, 3, AT, event_type, actor, payload)
        check_outgoing(updates.messages_for_event(run, event), f"event {event_type}")
    check_outgoing(updates.messages_for_start(run, RunMode(hard, t)), "start")
    check_outgoing(updates.messages_for_start(run), "start without mode")
    check_outgoing(updates.messages_for_note(run, t, detail=t), "note")
    check_outgoing(updates.messages_for_end(run, t, reason=t, journal_hint=t), "end")
    check_outgoing(
        updates.messages_for_end(run, "completed", journal_hint="gameday journal 42"), "end"
    )
    check_outgoing(updates.end_messages(run, "failed", t), "end_messages")
    # Gate observations carry what a remote endpoint said (alert names, bodies).
    results = [GateResult(t, "http", passed, t, t, 1.0) for passed in (True, False)]
    check_outgoing(updates.messages_for_gates(run, results), "gates")


# Every public builder is covered above: a new one must be added to these tests.
BUILDERS = {
    "gameday_announcement",
    "monkey_heads_up",
    "running_message",
    "decided_message",
    "thread_note",
    "drill_outcome",
}
REPLIES = {
    "help_message",
    "notice",
    "error",
    "operators_only",
    "runs_message",
    "status_message",
    "schedules_message",
    "journal_message",
}
EVENT_TYPES = [
    ex.HALT_REQUESTED,
    ex.TIMED_OUT,
    ex.HARD_STOPPED,
    ex.DEVIATED,
    ex.STEADY_STATE_NOT_MET,
    ex.ROLLBACK_FINISHED,
    ex.REQUEST_REFUSED,
    ex.SUPERVISOR_LOST,
    ex.WATCH_FAILED,
    ex.STOP_CONDITION,
]


def _message_builders(module: object) -> set[str]:
    return {
        name
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == getattr(module, "__name__", None)
        and not name.startswith("_")
        and inspect.signature(fn).return_annotation in ("Message", Message)
    }


def test_every_builder_and_reply_is_in_the_property() -> None:
    assert _message_builders(messages) == BUILDERS
    assert _message_builders(replies) == REPLIES
    public = {n for n in dir(RunUpdates) if n.startswith(("messages_for", "end_messages"))}
    assert public == {
        "messages_for_event",
        "messages_for_start",
        "messages_for_note",
        "messages_for_end",
        "messages_for_gates",
        "end_messages",
    }
    from gameday.services import run_updates

    assert set(run_updates._LINES) == set(EVENT_TYPES)


# -- one rendering path ---------------------------------------------------------------------
def _calls(name: str) -> Iterator[tuple[Path, ast.Call]]:
    root = Path(gameday.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                yield path, node


@pytest.mark.parametrize("name", ["md", "join_md"])
def test_templates_are_literals_we_wrote(name: str) -> None:
    """`md("…{}", text)`, never `md(f"…{text}")`: user text only enters as an argument,
    where it is escaped."""
    found = list(_calls(name))
    assert found
    for path, call in found:
        first = call.args[0]
        assert isinstance(first, ast.Constant), f"{path}:{call.lineno}: needs a literal"
        assert isinstance(first.value, str), f"{path}:{call.lineno}: needs a literal"


def test_only_the_text_rules_make_mrkdwn_directly() -> None:
    """Mrkdwn is built in the module that escapes and in the one that lays out blocks."""
    made = {path.name for path, _ in _calls("Mrkdwn")}
    assert made == {"mrkdwn.py", "blocks.py"}


@pytest.mark.parametrize("attack", ATTACKS)
def test_markup_given_as_a_plain_str_is_shown_inert(attack: str) -> None:
    """Code not checked by mypy that hands a str where Mrkdwn belongs still sends it inert."""
    raw: Callable[..., Any] = thread_note
    message = raw(attack)
    check_message(message, "thread_note(str)")
    check_message(Message(attack), "Message(str)")  # type: ignore[arg-type]


def test_our_own_mentions_and_dates_stay() -> None:
    message = thread_note(
        md("approved for {}", date_token(AT, ZONE)), actor="UOURSA", user_text="<@U1>"
    )
    assert message.text.startswith("<@UOURSA> approved for <!date^")
    assert message.blocks[1]["text"] == {"type": "plain_text", "text": "<@U1>", "emoji": False}
    assert "&lt;@U1&gt;" in message.text
    assert (
        replies.operators_only(
            "resume", Operators.of(["UOURSA", "SOURSOPS"], configured=True)
        ).text.count("<")
        == 2
    )


@pytest.mark.parametrize("size", [2_999, 3_000, 3_001, 5_000])
@pytest.mark.parametrize("piece", ["<!channel>", "&", "*", "<@UOURSA>"])
def test_cutting_long_text_never_splits_a_token_entity_or_fence(size: int, piece: str) -> None:
    text = (piece * size)[:size]
    note = thread_note(md("{}", text), actor="UOURSA")
    head = note.blocks[0]["text"]["text"]
    assert len(head) <= 3_000
    assert_inert(head, "cut head")
    if len(md("<@UOURSA> {}", text)) > 3_000:
        assert head.endswith("…")
        tail = head[:-1]
        assert not re.search(r"&[a-z]{0,3}$", tail)
        assert not tail.endswith("\u200b*")


@pytest.mark.parametrize("count", [1, 270, 271, 272, 273, 1_000, 5_000])
def test_long_lists_of_our_mentions_are_cut_between_tokens(count: int) -> None:
    ids = [OUR_USERS[i % len(OUR_USERS)] for i in range(count)]
    brief = _brief("reviews", "UOURSA")
    message = decided_message(brief, "approved", by=ids, approvers=ids)
    check_message(message, "decided_message(many deciders)")
    check_message(gameday_announcement(brief, ids), "gameday_announcement(many approvers)")
