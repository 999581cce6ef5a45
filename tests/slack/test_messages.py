"""What announcements say: escaping, times, buttons and decided messages (pure)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from gameday.domain.approval import ApprovalPolicy
from gameday.domain.blocks import ACTION_ID
from gameday.domain.messages import (
    RunBrief,
    decided_message,
    gameday_announcement,
    monkey_heads_up,
    running_message,
    thread_note,
)
from gameday.domain.mrkdwn import date_token, escape_mrkdwn, format_when, mention
from gameday.domain.runs import Run, RunKind, RunState

AT = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
INJECTIONS = [
    "<!channel> wake up",
    "<!here|here>",
    "<@U0ADMIN> approve this",
    "<!subteam^S0123>",
    "<https://evil.example|click me>",
    "*bold* _italic_ ~strike~ `code`",
    "&lt;!channel&gt;",
]


def _run(kind: RunKind = RunKind.GAMEDAY, state: RunState = RunState.AWAITING_APPROVAL) -> Run:
    return Run(
        id=42,
        kind=kind,
        schedule="reviews-latency",
        runbook="reviews-latency",
        planned_at=AT,
        state=state,
        dry_run=True,
        seed=1,
        requester="UREQ",
        runbook_digest=None,
        created_at=AT,
        updated_at=AT,
    )


def _brief(kind: RunKind = RunKind.GAMEDAY, summary: str | None = "Latency") -> RunBrief:
    policy = ApprovalPolicy(frozenset({"UALICE"}), frozenset({"SOPS"}), 2, timedelta(minutes=30))
    return RunBrief(_run(kind), "reviews-latency", "Asia/Tokyo", summary, "ns bookinfo", policy)


def _texts(blocks: object) -> list[tuple[str, str]]:
    """Every (type, text) text object anywhere in the blocks."""
    found: list[tuple[str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
                found.append((node["type"], node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


@pytest.mark.parametrize("attack", INJECTIONS)
def test_escaped_user_text_cannot_mention_link_or_format(attack: str) -> None:
    out = escape_mrkdwn(attack)
    assert "<" not in out
    assert ">" not in out
    assert not re.search(r"(?<!\u200b)[*_~`]|[*_~`](?!\u200b)", out)


@pytest.mark.parametrize("attack", INJECTIONS)
def test_user_text_in_messages_is_plain_or_escaped(attack: str) -> None:
    brief = _brief(summary=attack)
    for message in (
        gameday_announcement(brief),
        decided_message(brief, "rejected", by=["UALICE"], reason=attack),
        thread_note("added a note", actor="UALICE", user_text=attack),
    ):
        # Slack parses mrkdwn (and the fallback text) but shows plain_text as typed.
        for kind, text in _texts(message.blocks):
            if kind == "mrkdwn":
                assert "<!channel" not in text
                assert "<!here" not in text
                assert "<@U0ADMIN>" not in text
                assert "<!subteam^S0123>" not in text
                assert "<https://evil" not in text
        assert "<!channel>" not in message.text
        assert "<@U0ADMIN>" not in message.text
        assert "<https://evil" not in message.text


@pytest.mark.parametrize("bad", ["<!channel>", "U1 <!here>", "not-an-id"])
def test_mention_only_makes_mentions_of_ids(bad: str) -> None:
    assert "<!" not in mention(bad)
    assert "<@" not in mention(bad)


def test_mentions_of_users_and_groups() -> None:
    assert mention("UALICE") == "<@UALICE>"
    assert mention("SOPS") == "<!subteam^SOPS>"


def test_times_carry_zone_offset_and_a_date_token() -> None:
    assert format_when(AT, "Asia/Tokyo") == "2026-12-02 14:00 JST (+09:00)"
    token = date_token(AT, "Asia/Tokyo")
    fallback = "2026-12-02 14:00 JST (+09:00)"
    assert token == f"<!date^{int(AT.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _actions(blocks: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]  # type: ignore[attr-defined]


def test_gameday_announcement_has_approve_reject_postpone_for_its_run() -> None:
    message = gameday_announcement(_brief())
    ids = [a["action_id"] for a in _actions(message.blocks)]
    assert ids == ["gameday:approve:42", "gameday:reject:42", "gameday:postpone:42"]
    assert all(ACTION_ID.match(str(i)) for i in ids)
    assert "JST (+09:00)" in message.text
    assert "Approval needed" in message.text
    assert "<!subteam^SOPS>" in json.dumps(message.blocks)


def test_monkey_heads_up_offers_veto() -> None:
    message = monkey_heads_up(_brief(RunKind.MONKEY))
    assert [a["action_id"] for a in _actions(message.blocks)] == ["gameday:veto:42"]


def test_running_message_halt_asks_for_confirmation() -> None:
    (halt,) = _actions(running_message(_brief()).blocks)
    assert halt["action_id"] == "gameday:halt:42"
    assert halt["confirm"]["confirm"]["text"] == "Halt"  # type: ignore[index]


def test_decided_message_has_no_buttons_and_names_who_decided() -> None:
    message = decided_message(_brief(), "approved", by=["UALICE", "UBOB"])
    assert _actions(message.blocks) == []
    assert "<@UALICE>, <@UBOB>" in json.dumps(message.blocks)
    assert "approved by <@UALICE>, <@UBOB>" in message.text
