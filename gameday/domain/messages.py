"""What gameday says in Slack about runs: announcements, heads-ups, running and decided
messages, thread notes, each as Block Kit with a plain-text fallback, and the brief of a
run they are built from.

Rules: messages are built where the decision is taken and stored, rendered, in the outbox
in the same transaction (docs/architecture.md, "Messages"); text follows
gameday.domain.mrkdwn and blocks gameday.domain.blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gameday.domain.approval import ApprovalPolicy
from gameday.domain.blocks import (
    BUTTON_LIMIT,
    CONFIRM_LIMITS,
    FIELD_LIMIT,
    HEADER_LIMIT,
    MAX_FIELDS,
    Block,
    Message,
    action_id,
    mrkdwn,
    plain,
    plain_sections,
    section,
)
from gameday.domain.drills import DrillFigures
from gameday.domain.mrkdwn import (
    Mrkdwn,
    date_token,
    format_when,
    join_md,
    link,
    md,
    mention,
)
from gameday.domain.runs import Run, RunKind


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


_VERDICT_ICONS = {
    "met": md(":white_check_mark:"),
    "missed": md(":x:"),
    "none": md(":heavy_minus_sign:"),
}


def drill_outcome(figures: DrillFigures) -> Message:
    """A drill's outcome for its thread: time to detect, acknowledge and resolve, each
    against its target (met / missed / none), how it was detected and who took part."""

    def figure(label: str, value: float | None, target: float, verdict: str) -> Mrkdwn:
        shown = "—" if value is None else _seconds(value)
        return md(
            "{} {} {} (target {}): {}",
            _VERDICT_ICONS.get(verdict, md(":grey_question:")),
            label,
            shown,
            _seconds(target),
            verdict,
        )

    lines = [
        md(":stopwatch: *drill outcome*"),
        figure("detect", figures.ttd_s, figures.detect_within_s, figures.detect),
        figure("acknowledge", figures.tta_s, figures.detect_within_s, figures.acknowledge),
        figure("resolve", figures.ttr_s, figures.resolve_within_s, figures.resolve),
    ]
    if figures.fault_started_at is None:
        lines.append(md("the fault never started: nothing was measured"))
    elif figures.detected_by == "alert":
        names = ", ".join(dict.fromkeys(a.name for a in figures.alerts))
        lines.append(md("detected by an alert ({})", names))
    elif figures.detected_by == "ack":
        lines.append(md("no matching alert fired: detected by the first ack"))
    if figures.participants:
        lines.append(md("participants: {}", join_md(", ", map(mention, figures.participants))))
    text = join_md("\n", lines)
    blocks: list[Block] = [section(text)]
    if figures.resolve_note:
        blocks += plain_sections(f"resolve note: {figures.resolve_note}")
    return Message(text, blocks)


def _seconds(value: float) -> str:
    whole = round(value)
    if whole < 120:
        return f"{value:.1f}s" if value < 10 else f"{whole}s"
    minutes, seconds = divmod(whole, 60)
    return f"{minutes}m{seconds:02d}s" if seconds else f"{minutes}m"
