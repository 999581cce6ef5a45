"""What gameday says in Slack: Block Kit messages with a plain-text fallback, built from runs.

Rules:
- text a person typed (notes, reasons, summaries) can never mention anyone, link anywhere
  or format: in blocks it goes into `plain_text` objects, in mrkdwn it is escaped with
  `escape_mrkdwn` (`&`, `<`, `>` as entities; `*_~` and backticks fenced by zero-width
  spaces so they cannot open or close formatting);
- every time carries its zone and offset, plus a `<!date^…>` token so each reader also
  sees it in their own local time;
- action ids carry the run id (`gameday:approve:42`), so a click names its run even when
  the message is old.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gameday.domain.approval import ApprovalPolicy
from gameday.domain.runs import OutgoingMessage, Run, RunKind

Block = dict[str, Any]

ACTION_PREFIX = "gameday"
ACTIONS = ("approve", "reject", "postpone", "veto", "halt")
ACTION_ID = re.compile(rf"^{ACTION_PREFIX}:(?P<verb>{'|'.join(ACTIONS)}):(?P<run>\d+)$")

_ZWSP = "\u200b"
_FORMATTING = re.compile(r"([*_~`])")
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")


def escape_mrkdwn(text: str) -> str:
    """Make user text inert in mrkdwn: no mentions, links or formatting."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _FORMATTING.sub(rf"{_ZWSP}\1{_ZWSP}", text)


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    """A plain_text object (never parsed for mentions or formatting), cut to Slack's limit."""
    return {"type": "plain_text", "text": _cut(text, limit) or " ", "emoji": False}


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn object for text we wrote ourselves (user text must be escaped first)."""
    return {"type": "mrkdwn", "text": _cut(text, 3000)}


def mention(slack_id: str) -> str:
    """A mention of a user (`U…`/`W…`) or user group (`S…`); anything else is escaped."""
    if not _SLACK_ID.match(slack_id):
        return escape_mrkdwn(slack_id)
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def format_when(at: datetime, zone: str) -> str:
    """`2026-12-02 14:00 JST (+09:00)`: a time in a zone, with its offset."""
    local = at.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({offset[:3]}:{offset[3:]})"


def date_token(at: datetime, zone: str) -> str:
    """Slack's date token: each reader sees local time; the fallback keeps the zone."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{format_when(at, zone)}>"


def action_id(verb: str, run_id: int) -> str:
    """The action id of a button: `gameday:VERB:RUN_ID`."""
    if verb not in ACTIONS:
        raise ValueError(f"unknown action {verb!r}")
    return f"{ACTION_PREFIX}:{verb}:{run_id}"


@dataclass(frozen=True)
class Message:
    """A message's Block Kit blocks and the plain-text fallback notifications show."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def outgoing(self, channel: str, *, run_id: int | None, kind: str) -> OutgoingMessage:
        """This message addressed to a channel, for the outbox."""
        return OutgoingMessage(
            channel=channel,
            text=self.text,
            blocks=self.blocks or None,
            thread_of_run=run_id,
            kind=kind,
        )


@dataclass(frozen=True)
class RunBrief:
    """What an announcement shows about a run; built by services from the run and its spec."""

    run: Run
    title: str
    timezone: str = "UTC"
    summary: str | None = None
    blast_radius: str | None = None
    policy: ApprovalPolicy | None = None
    drill: bool = False

    @property
    def noun(self) -> str:
        """`GameDay` or `Monkey kill`."""
        return "GameDay" if self.run.kind is RunKind.GAMEDAY else "Monkey kill"


def brief_snapshot(brief: RunBrief, channel: str) -> dict[str, Any]:
    """What the messages about a run need from its specs, as JSON for its start record:
    whoever ends the run (its worker, recovery after a crash) tells the same channel the
    same way without reading the specs again, even if they changed meanwhile."""
    policy = brief.policy
    return {
        "channel": channel,
        "title": brief.title,
        "timezone": brief.timezone,
        "summary": brief.summary,
        "blast_radius": brief.blast_radius,
        "drill": brief.drill,
        "policy": None
        if policy is None
        else {
            "users": sorted(policy.users),
            "usergroups": sorted(policy.usergroups),
            "quorum": policy.quorum,
            "deadline_seconds": None
            if policy.deadline is None
            else policy.deadline.total_seconds(),
        },
    }


def brief_from_snapshot(run: Run, snapshot: Mapping[str, Any]) -> tuple[RunBrief, str]:
    """The brief and channel recorded by `brief_snapshot` (the inverse), for `run`."""
    raw = snapshot.get("policy")
    policy = None
    if isinstance(raw, Mapping):
        seconds = raw.get("deadline_seconds")
        policy = ApprovalPolicy(
            users=frozenset(str(u) for u in raw.get("users") or ()),
            usergroups=frozenset(str(g) for g in raw.get("usergroups") or ()),
            quorum=int(raw.get("quorum") or 1),
            deadline=None if seconds is None else timedelta(seconds=float(seconds)),
        )
    brief = RunBrief(
        run,
        str(snapshot.get("title") or run.runbook or f"run #{run.id}"),
        str(snapshot.get("timezone") or "UTC"),
        _text_or_none(snapshot.get("summary")),
        _text_or_none(snapshot.get("blast_radius")),
        policy,
        drill=bool(snapshot.get("drill")),
    )
    return brief, str(snapshot.get("channel") or "")


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _facts(brief: RunBrief, approvers: Sequence[str]) -> list[Block]:
    run = brief.run
    fields = [
        mrkdwn(f"*When*\n{date_token(run.planned_at, brief.timezone)}"),
        mrkdwn(f"*Run*\n#{run.id}{' (dry run)' if run.dry_run else ' (live)'}"),
    ]
    if run.runbook:
        fields.append(mrkdwn(f"*Runbook*\n{escape_mrkdwn(run.runbook)}"))
    if brief.blast_radius:
        fields.append(mrkdwn(f"*Blast radius*\n{escape_mrkdwn(brief.blast_radius)}"))
    if brief.policy is not None:
        who = ", ".join(mention(x) for x in sorted(brief.policy.users | brief.policy.usergroups))
        got = ", ".join(mention(a) for a in approvers) or "none yet"
        fields.append(
            mrkdwn(f"*Approvals*\n{len(approvers)} of {brief.policy.quorum} ({got})\nfrom {who}")
        )
    if run.requester:
        fields.append(mrkdwn(f"*Requested by*\n{mention(run.requester)}"))
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{brief.noun}: {brief.title}", 150)},
        {"type": "section", "fields": fields[:10]},
    ]
    if brief.summary:
        blocks.append({"type": "section", "text": plain(brief.summary)})
    return blocks


def _button(verb: str, label: str, run_id: int, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id(verb, run_id),
        "text": plain(label),
        "value": str(run_id),
    }
    if style:
        button["style"] = style
    return button


def _fallback(brief: RunBrief, lead: str) -> str:
    when = format_when(brief.run.planned_at, brief.timezone)
    return f"{brief.noun} {escape_mrkdwn(brief.title)} (run #{brief.run.id}) {lead} {when}"


def gameday_announcement(brief: RunBrief, approvers: Sequence[str] = ()) -> Message:
    """The announcement of a GameDay: facts, approvers and Approve / Reject / Postpone."""
    run_id = brief.run.id
    blocks = _facts(brief, approvers)
    buttons = [
        _button("approve", "Approve", run_id, "primary"),
        _button("reject", "Reject", run_id),
    ]
    buttons.append(_button("postpone", "Postpone", run_id))
    blocks.append({"type": "actions", "block_id": f"run:{run_id}", "elements": buttons})
    asks = " Approval needed." if brief.policy is not None else ""
    return Message(_fallback(brief, "planned for") + "." + asks, blocks)


def monkey_heads_up(brief: RunBrief) -> Message:
    """A monkey kill's heads-up: what and when, and a Veto anyone in the channel may press."""
    run_id = brief.run.id
    blocks = _facts(brief, ())
    blocks.append(
        {
            "type": "actions",
            "block_id": f"run:{run_id}",
            "elements": [_button("veto", "Veto", run_id, "danger")],
        }
    )
    return Message(_fallback(brief, "at") + ". Anyone here may veto.", blocks)


def running_message(brief: RunBrief) -> Message:
    """The announcement while the run is running: a Halt button behind a confirm dialog."""
    run_id = brief.run.id
    halt = _button("halt", "Halt", run_id, "danger")
    halt["confirm"] = {
        "title": plain("Halt this run?"),
        "text": plain("gameday stops the experiment and rolls back its changes."),
        "confirm": plain("Halt"),
        "deny": plain("Keep running"),
        "style": "danger",
    }
    blocks = _facts(brief, ())
    blocks.append({"type": "context", "elements": [mrkdwn(":arrow_forward: Running")]})
    blocks.append({"type": "actions", "block_id": f"run:{run_id}", "elements": [halt]})
    return Message(_fallback(brief, "is running, started for") + ".", blocks)


DECISION_ICONS = {
    "approved": ":white_check_mark:",
    "rejected": ":no_entry:",
    "expired": ":hourglass:",
    "postponed": ":calendar:",
    "vetoed": ":no_entry:",
    "halted": ":octagonal_sign:",
    "skipped": ":fast_forward:",
}


def decided_message(
    brief: RunBrief,
    outcome: str,
    *,
    by: Sequence[str] = (),
    reason: str | None = None,
    approvers: Sequence[str] = (),
) -> Message:
    """The announcement after a decision: no buttons, and who decided (and why)."""
    icon = DECISION_ICONS.get(outcome, ":information_source:")
    who = ", ".join(mention(u) for u in by)
    line = f"{icon} *{outcome.capitalize()}*" + (f" by {who}" if who else "")
    blocks = _facts(brief, approvers)
    blocks.append({"type": "context", "elements": [mrkdwn(line)]})
    if reason:
        blocks.append({"type": "context", "elements": [plain(f"Reason: {reason}")]})
    text = f"{_fallback(brief, 'planned for')}: {outcome}"
    if who:
        text += f" by {who}"
    if reason:
        text += f" ({escape_mrkdwn(reason)})"
    return Message(text, blocks)


def thread_note(text: str, *, actor: str | None = None, user_text: str | None = None) -> Message:
    """A thread reply: our own line of mrkdwn, optionally followed by inert user text."""
    head = f"{mention(actor)} {text}" if actor else text
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(head)}]
    fallback = head
    if user_text:
        blocks.append({"type": "section", "text": plain(user_text)})
        fallback += f": {escape_mrkdwn(user_text)}"
    return Message(fallback, blocks)
