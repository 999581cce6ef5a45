"""What gameday says in Slack: Block Kit messages with a plain-text fallback, built from runs.

Rules:
- one rendering path: mrkdwn (block text and every message's fallback `text`, which Slack
  also parses) is a `Mrkdwn` string, made only by `md` (our own template, arguments
  escaped), `mention`, `date_token` and `code`; builders take our markup as Mrkdwn and
  user or spec text as plain `str`, so no caller can pass text a person typed as markup;
- text a person or a spec wrote (notes, reasons, titles, names, errors) can never mention
  anyone, link anywhere or format: in blocks it goes into `plain_text` objects, in mrkdwn
  it is escaped with `escape_mrkdwn` (`&`, `<`, `>` as entities; `*_~` and backticks
  fenced by zero-width spaces so they cannot open or close formatting);
- every message stays within Slack's limits (`TEXT_LIMIT`, `SECTION_LIMIT`, …): long text
  is cut with "…", never inside one of our tokens, an entity or a fence;
- every time carries its zone and offset, plus a `<!date^…>` token so each reader also
  sees it in their own local time;
- action ids carry the run id (`gameday:approve:42`), so a click names its run even when
  the message is old.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from gameday.domain.approval import ApprovalPolicy
from gameday.domain.runs import OutgoingMessage, Run, RunKind

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

_ZWSP = "\u200b"
_FORMATTING = re.compile(r"([*_~`])")
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
# An address Slack's `<url|label>` token can hold: http(s), no space, `<`, `>` or `|`.
_LINKABLE = re.compile(r"^https?://[^\s<>|]+$")
_ENTITY_TAIL = len("&amp;") - 1


class Mrkdwn(str):
    """Text safe to send where Slack parses mrkdwn: our own markup with any user text
    escaped in. Make it with `md`, `mention`, `date_token`, `code` or `escape_mrkdwn`."""

    __slots__ = ()


def escape_mrkdwn(text: str) -> Mrkdwn:
    """Make user text inert in mrkdwn: no mentions, links or formatting."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Mrkdwn(_FORMATTING.sub(rf"{_ZWSP}\1{_ZWSP}", text))


def _inert(value: object) -> str:
    if isinstance(value, Mrkdwn):
        return value
    if isinstance(value, Enum):  # our own vocabulary (states, kinds), never typed by anyone
        return str(value.value)
    if isinstance(value, int | float):
        return str(value)
    return escape_mrkdwn(str(value))


def md(template: str, /, *args: object) -> Mrkdwn:
    """Our own mrkdwn `template` (a literal we wrote) with its `{}` filled in: Mrkdwn as
    is, enum values and numbers as text, anything else escaped as user text."""
    return Mrkdwn(template.format(*(_inert(a) for a in args)))


def join_md(separator: str, parts: Iterable[object]) -> Mrkdwn:
    """`parts` (as `md` treats arguments) joined by our own `separator`."""
    return Mrkdwn(separator.join(_inert(p) for p in parts))


def code(text: str) -> Mrkdwn:
    """Inline code (Slack does not format inside it, though it still reads `&<>`), or
    fully escaped text when the text could break out of the backticks."""
    if "`" in text or "\n" in text:
        return escape_mrkdwn(text)
    return Mrkdwn("`" + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "`")


def plain(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """A plain_text object (never parsed for mentions or formatting), cut to `limit`."""
    return {"type": "plain_text", "text": _cut(text, limit) or " ", "emoji": False}


def mrkdwn(text: Mrkdwn, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """A mrkdwn object, cut to `limit` (a plain str given by mistake is shown inert)."""
    safe = text if isinstance(text, Mrkdwn) else escape_mrkdwn(text)
    return {"type": "mrkdwn", "text": str(_cut_markup(safe, limit) or " ")}


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
    for line in (_cut_markup(line, SECTION_LIMIT) for line in lines):
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


def mention(slack_id: str) -> Mrkdwn:
    """A mention of a user (`U…`/`W…`) or user group (`S…`); anything else is escaped."""
    if not _SLACK_ID.match(slack_id):
        return escape_mrkdwn(slack_id)
    return Mrkdwn(f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>")


def format_when(at: datetime, zone: str) -> str:
    """`2026-12-02 14:00 JST (+09:00)`: a time in a zone, with its offset."""
    local = at.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({offset[:3]}:{offset[3:]})"


def date_token(at: datetime, zone: str) -> Mrkdwn:
    """Slack's date token: each reader sees local time; the fallback keeps the zone."""
    shown = escape_mrkdwn(format_when(at, zone))
    return Mrkdwn(f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{shown}>")


def run_page(public_url: str | None, run_id: int) -> str | None:
    """The address of a run's web page under the service's `public_url`; None without one,
    or when it is not an http(s) address that can sit inside a Slack link."""
    if not public_url:
        return None
    url = f"{public_url.strip().rstrip('/')}/runs/{run_id}"
    return url if _LINKABLE.match(url) else None


def link(url: str, label: str) -> Mrkdwn:
    """A link to an address we built (`run_page`) showing `label` as inert text; the label
    alone when the address could break out of Slack's `<url|label>` token."""
    text = escape_mrkdwn(label)
    if not _LINKABLE.match(url):
        return text
    return Mrkdwn(f"<{url.replace('&', '&amp;')}|{text}>")


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
        object.__setattr__(self, "text", Mrkdwn(_cut_markup(safe, TEXT_LIMIT) or " "))

    def outgoing(self, channel: str, *, run_id: int | None, kind: str) -> OutgoingMessage:
        """This message addressed to a channel, for the outbox."""
        return OutgoingMessage(
            channel=channel,
            text=str(self.text),  # a plain str from here on: drivers and JSON see no subclass
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
    # The run's web page (journal and postmortem), when the service has a public URL.
    page: str | None = None

    @property
    def noun(self) -> str:
        """`GameDay` or `Monkey kill`."""
        return "GameDay" if self.run.kind is RunKind.GAMEDAY else "Monkey kill"


def brief_snapshot(brief: RunBrief, channel: str) -> dict[str, Any]:
    """What the messages about a run need from its specs, as JSON for its start record:
    whoever ends the run (its worker, recovery after a crash) tells the same channel the
    same way without reading the specs again, even if they changed meanwhile."""
    policy = brief.policy
    # Only when there is one: a start record without a page reads as before.
    page = {"page": brief.page} if brief.page else {}
    return {
        **page,
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
        page=_text_or_none(snapshot.get("page")),
    )
    return brief, str(snapshot.get("channel") or "")


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cut_markup(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    # Never end inside one of our tokens (`<@U…>`, `<!date^…|…>`), an entity (`&amp;`) or
    # a fence (ZWSP*ZWSP): half of one shows as garbage, or as a character user text
    # was not meant to have, or leaves formatting open.
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    amp = head.rfind("&", max(0, len(head) - _ENTITY_TAIL))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    if head[-2:-1] == _ZWSP and _FORMATTING.fullmatch(head[-1:]):
        head = head[:-2]
    return head + "…"


def _facts(brief: RunBrief, approvers: Sequence[str]) -> list[Block]:
    run = brief.run
    fields = [
        md("*When*\n{}", date_token(run.planned_at, brief.timezone)),
        md("*Run*\n#{} ({})", run.id, "dry run" if run.dry_run else "live"),
    ]
    if run.runbook:
        fields.append(md("*Runbook*\n{}", run.runbook))
    if brief.blast_radius:
        fields.append(md("*Blast radius*\n{}", brief.blast_radius))
    if brief.policy is not None:
        who = join_md(
            ", ", (mention(x) for x in sorted(brief.policy.users | brief.policy.usergroups))
        )
        got = join_md(", ", (mention(a) for a in approvers)) or md("none yet")
        fields.append(
            md("*Approvals*\n{} of {} ({})\nfrom {}", len(approvers), brief.policy.quorum, got, who)
        )
    if run.requester:
        fields.append(md("*Requested by*\n{}", mention(run.requester)))
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{brief.noun}: {brief.title}", HEADER_LIMIT)},
        {"type": "section", "fields": [mrkdwn(f, FIELD_LIMIT) for f in fields[:MAX_FIELDS]]},
    ]
    if brief.page:
        page = link(brief.page, f"Run #{run.id}: journal and postmortem")
        blocks.append({"type": "context", "elements": [mrkdwn(md(":page_facing_up: {}", page))]})
    if brief.summary:
        blocks += plain_sections(brief.summary, most=2)
    return blocks


def _button(verb: str, label: str, run_id: int, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id(verb, run_id),
        "text": plain(label, BUTTON_LIMIT),
        "value": str(run_id),
    }
    if style:
        button["style"] = style
    return button


def _fallback(brief: RunBrief, lead: str) -> Mrkdwn:
    when = format_when(brief.run.planned_at, brief.timezone)
    return md("{} {} (run #{}) {} {}", brief.noun, brief.title, brief.run.id, lead, when)


def gameday_announcement(brief: RunBrief, approvers: Sequence[str] = ()) -> Message:
    """The announcement of a GameDay: facts, approvers and Approve / Reject / Postpone."""
    run_id = brief.run.id
    blocks = _facts(brief, approvers)
    buttons = [
        _button("approve", "Approve", run_id, "primary"),
        _button("reject", "Reject", run_id),
        _button("postpone", "Postpone", run_id),
    ]
    blocks.append({"type": "actions", "block_id": f"run:{run_id}", "elements": buttons})
    asks = " Approval needed." if brief.policy is not None else ""
    return Message(md("{}.{}", _fallback(brief, "planned for"), asks), blocks)


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
    return Message(md("{}. Anyone here may veto.", _fallback(brief, "at")), blocks)


def running_message(brief: RunBrief) -> Message:
    """The announcement while the run is running: a Halt button behind a confirm dialog."""
    run_id = brief.run.id
    halt = _button("halt", "Halt", run_id, "danger")
    limits = CONFIRM_LIMITS
    halt["confirm"] = {
        "title": plain("Halt this run?", limits["title"]),
        "text": plain("gameday stops the experiment and rolls back its changes.", limits["text"]),
        "confirm": plain("Halt", limits["confirm"]),
        "deny": plain("Keep running", limits["deny"]),
        "style": "danger",
    }
    blocks = _facts(brief, ())
    blocks.append({"type": "context", "elements": [mrkdwn(md(":arrow_forward: Running"))]})
    blocks.append({"type": "actions", "block_id": f"run:{run_id}", "elements": [halt]})
    return Message(md("{}.", _fallback(brief, "is running, started for")), blocks)


DECISION_ICONS = {
    "approved": md(":white_check_mark:"),
    "rejected": md(":no_entry:"),
    "expired": md(":hourglass:"),
    "postponed": md(":calendar:"),
    "vetoed": md(":no_entry:"),
    "halted": md(":octagonal_sign:"),
    "skipped": md(":fast_forward:"),
}
INFO_ICON = md(":information_source:")


def decided_message(
    brief: RunBrief,
    outcome: str,
    *,
    by: Sequence[str] = (),
    reason: str | None = None,
    approvers: Sequence[str] = (),
) -> Message:
    """The announcement after a decision: no buttons, and who decided (and why)."""
    icon = DECISION_ICONS.get(outcome, INFO_ICON)
    who = join_md(", ", (mention(u) for u in by))
    line = md("{} *{}*", icon, outcome.capitalize())
    if who:
        line = md("{} by {}", line, who)
    blocks = _facts(brief, approvers)
    blocks.append({"type": "context", "elements": [mrkdwn(line)]})
    if reason:
        blocks.append({"type": "context", "elements": [plain(f"Reason: {reason}")]})
    text = md("{}: {}", _fallback(brief, "planned for"), outcome)
    if who:
        text = md("{} by {}", text, who)
    if reason:
        text = md("{} ({})", text, reason)
    return Message(text, blocks)


def thread_note(text: Mrkdwn, *, actor: str | None = None, user_text: str | None = None) -> Message:
    """A thread reply: our own line of mrkdwn (by `actor`), then inert user text."""
    head = md("{} {}", mention(actor), text) if actor else text
    blocks: list[Block] = [section(head)]
    fallback = head
    if user_text:
        blocks += plain_sections(user_text)
        fallback = md("{}: {}", head, user_text)
    return Message(fallback, blocks)
