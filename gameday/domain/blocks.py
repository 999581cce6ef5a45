"""Block Kit, as gameday uses it: text objects, sections, buttons' action ids, and a
message's blocks with its plain-text fallback, always within Slack's limits.

Rules: user text goes into `plain_text` objects (never parsed) or into mrkdwn escaped
(see gameday.domain.mrkdwn); every message stays within Slack's limits (`TEXT_LIMIT`,
`SECTION_LIMIT`, …); action ids carry the run id (`gameday:approve:42`), so a click names
its run even when the message is old.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gameday.domain.mrkdwn import Mrkdwn, cut, cut_markup, escape_mrkdwn
from gameday.domain.runs import MessageKind, OutgoingMessage

Block = dict[str, Any]

ACTION_PREFIX = "gameday"
ACTIONS = ("approve", "reject", "postpone", "veto", "halt")
ACTION_ID = re.compile(rf"^{ACTION_PREFIX}:(?P<verb>{'|'.join(ACTIONS)}):(?P<run>\d+)$")

# Slack's limits: chat.postMessage's `text`, and Block Kit's
# (https://api.slack.com/reference/block-kit).
TEXT_LIMIT = 40_000
SECTION_LIMIT = 3_000
FIELD_LIMIT = 2_000
HEADER_LIMIT = 150
BUTTON_LIMIT = 75
MAX_BLOCKS = 50
MAX_FIELDS = 10
CONFIRM_LIMITS = {"title": 100, "text": 300, "confirm": 30, "deny": 30}


def plain(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """A plain_text object (never parsed for mentions or formatting), cut to `limit`."""
    return {"type": "plain_text", "text": cut(text, limit) or " ", "emoji": False}


def mrkdwn(text: Mrkdwn, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """A mrkdwn object, cut to `limit` (a plain str given by mistake is shown inert)."""
    safe = text if isinstance(text, Mrkdwn) else escape_mrkdwn(text)
    return {"type": "mrkdwn", "text": str(cut_markup(safe, limit) or " ")}


def section(text: Mrkdwn) -> Block:
    """A section of our own mrkdwn."""
    return {"type": "section", "text": mrkdwn(text)}


def plain_sections(text: str, *, most: int = 4) -> list[Block]:
    """User text as plain_text sections of at most SECTION_LIMIT each (at most `most`
    of them; the last is cut)."""
    chunks = [text[i : i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)] or [""]
    if len(chunks) > most:
        chunks = [*chunks[: most - 1], text[(most - 1) * SECTION_LIMIT :]]
    return [{"type": "section", "text": plain(chunk)} for chunk in chunks]


def line_sections(lines: Sequence[Mrkdwn], *, most: int) -> list[Block]:
    """Lines of our own mrkdwn packed into at most `most` sections of at most
    SECTION_LIMIT each; the lines that do not fit are counted in a last line."""
    chunks: list[list[str]] = []
    size = 0
    for line in (cut_markup(line, SECTION_LIMIT) for line in lines):
        if not chunks or size + 1 + len(line) > SECTION_LIMIT:
            chunks.append([])
            size = -1
        chunks[-1].append(line)
        size += 1 + len(line)
    if len(chunks) > most:
        chunks = chunks[:most]
        last, shown = chunks[-1], sum(len(chunk) for chunk in chunks)
        more = f"… {len(lines) - shown} more"
        while last and sum(len(line) + 1 for line in last) + len(more) > SECTION_LIMIT:
            last.pop()
            shown -= 1
            more = f"… {len(lines) - shown} more"
        last.append(more)
    return [section(Mrkdwn("\n".join(chunk))) for chunk in chunks]


def action_id(verb: str, run_id: int) -> str:
    """The action id of a button: `gameday:VERB:RUN_ID`."""
    if verb not in ACTIONS:
        raise ValueError(f"unknown action {verb!r}")
    return f"{ACTION_PREFIX}:{verb}:{run_id}"


@dataclass(frozen=True)
class Message:
    """A message's Block Kit blocks and the fallback text notifications show.

    Rules: the fallback is parsed like mrkdwn, so it is Mrkdwn (a plain str is shown
    inert); it is cut to TEXT_LIMIT and never empty.
    """

    text: Mrkdwn
    blocks: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        safe = self.text if isinstance(self.text, Mrkdwn) else escape_mrkdwn(self.text)
        # Never empty: Slack refuses a message without text or blocks (`no_text`).
        object.__setattr__(self, "text", Mrkdwn(cut_markup(safe, TEXT_LIMIT) or " "))

    def outgoing(self, channel: str, *, run_id: int | None, kind: MessageKind) -> OutgoingMessage:
        """This message addressed to a channel, for the outbox."""
        return OutgoingMessage(
            channel=channel,
            text=str(self.text),  # a plain str from here on: drivers and JSON see no subclass
            blocks=self.blocks or None,
            thread_of_run=run_id,
            kind=kind,
        )
