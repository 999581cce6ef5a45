"""Replies to `/gameday`: Block Kit with a text fallback, built from the chat use cases."""

from __future__ import annotations

from collections.abc import Sequence

from gameday.domain.messages import (
    Block,
    Message,
    date_token,
    escape_mrkdwn,
    format_when,
    mention,
    mrkdwn,
    plain,
)
from gameday.domain.runs import Run, RunEvent
from gameday.services.chatops import JournalView, ScheduleLine, Status

USAGE = (
    ("help", "this help"),
    ("list", "the schedules"),
    ("upcoming [days]", "runs planned in the next days (default 7)"),
    ("status", "running runs, approvals pending, kill switch"),
    ("run RUNBOOK_NAME", "request an ad-hoc GameDay (goes through approval)"),
    ("approve RUN", "approve a run"),
    ("reject RUN [reason]", "reject a run"),
    ("halt [reason]", "engage the kill switch: nothing starts, running runs roll back"),
    ("resume", "release the kill switch"),
    ("pause SCHEDULE", "skip a schedule's runs until unpaused"),
    ("unpause SCHEDULE", "let a paused schedule run again"),
    ("history [n]", "the last n finished runs (default 10)"),
    ("journal RUN", "what happened in a run"),
    ("note RUN text", "add a note to a run's journal"),
)


def _section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def help_message(problem: str | None = None) -> Message:
    """The usage of `/gameday`, optionally after a line saying what was wrong."""
    lines = "\n".join(f"`/gameday {cmd}` {what}" for cmd, what in USAGE)
    blocks: list[Block] = []
    text = "Usage: /gameday " + " | ".join(cmd.split()[0] for cmd, _ in USAGE)
    if problem:
        blocks.append({"type": "context", "elements": [plain(problem)]})
        text = f"{problem}\n{text}"
    blocks.append(_section(lines))
    return Message(text, blocks)


def notice(text: str, icon: str = ":white_check_mark:") -> Message:
    """A one-line reply we wrote ourselves (user text inside must already be escaped)."""
    return Message(f"{icon} {text}", [_section(f"{icon} {text}")])


def error(text: str) -> Message:
    """A refusal or error: inert plain text in the blocks, escaped in the fallback."""
    block: Block = {"type": "section", "text": {"type": "plain_text", "text": f"⚠️ {text}"}}
    return Message(f":warning: {escape_mrkdwn(text)}", [block])


def _run_line(run: Run, zone: str) -> str:
    name = escape_mrkdwn(run.schedule or run.runbook or "ad-hoc")
    return (
        f"#{run.id} *{name}* ({run.kind.value}) {run.state.value}, "
        f"{date_token(run.planned_at, zone)}{' dry run' if run.dry_run else ''}"
    )


def runs_message(title: str, runs: Sequence[Run], zone: str) -> Message:
    """A titled list of runs, one line each, times in `zone` and the reader's own."""
    if not runs:
        return notice(f"{title}: none", ":information_source:")
    lines = [_run_line(r, zone) for r in runs]
    fallback = "\n".join(
        f"#{r.id} {r.schedule or r.runbook} {r.state.value} {format_when(r.planned_at, zone)}"
        for r in runs
    )
    return Message(f"{title}\n{fallback}", [_section(f"*{title}*"), _section("\n".join(lines))])


def status_message(status: Status, zone: str) -> Message:
    """The kill switch, paused schedules, running runs and approvals pending."""
    ks = status.kill_switch
    if ks.engaged:
        by = f" by {mention(ks.actor)}" if ks.actor else ""
        why = f": {escape_mrkdwn(ks.reason)}" if ks.reason else ""
        switch = f":octagonal_sign: Kill switch *engaged*{by}{why}"
    else:
        switch = ":large_green_circle: Kill switch released"
    lines = [switch]
    if status.pauses:
        names = ", ".join(escape_mrkdwn(p.schedule) for p in status.pauses)
        lines.append(f":double_vertical_bar: Paused: {names}")
    lines.append(f"Running: {len(status.running)}, awaiting approval: {len(status.awaiting)}")
    if status.outbox_depth:
        lines.append(f"Messages waiting for delivery: {status.outbox_depth}")
    for run in [*status.running, *status.awaiting]:
        lines.append(_run_line(run, zone))
    text = "\n".join(lines)
    return Message(text, [_section(text)])


def _code(text: str) -> str:
    """Inline code (Slack does not format inside it) unless the text could break out."""
    return f"`{text}`" if "`" not in text and "\n" not in text else escape_mrkdwn(text)


def schedules_message(lines: Sequence[ScheduleLine]) -> Message:
    """Every schedule: name, kind, when, channel, paused."""
    if not lines:
        return notice("No schedules.", ":information_source:")
    rows = [
        f"*{escape_mrkdwn(s.name)}* ({s.kind}) {_code(s.detail)}"
        + (f" {escape_mrkdwn(s.channel)}" if s.channel else "")
        + (" — paused" if s.paused else "")
        for s in lines
    ]
    text = "\n".join(rows)
    return Message(text, [_section("*Schedules*"), _section(text)])


def _event(event: RunEvent) -> str:
    if event.type == "state_changed":
        moved = f"{event.payload.get('from')} → {event.payload.get('to')}"
        return f"{_code('state_changed')} {_code(moved)}"
    return _code(event.type)


def journal_message(view: JournalView, zone: str, *, limit: int = 40) -> Message:
    """A run's timeline (events, newest last) and its notes."""
    run = view.run
    head = _run_line(run, zone)
    events = view.events[-limit:]
    lines = [f"{format_when(e.at, zone)} {_event(e)} by {mention(e.actor)}" for e in events]
    if len(view.events) > limit:
        lines.insert(0, f"… {len(view.events) - limit} earlier events")
    blocks: list[Block] = [_section(head), _section("\n".join(lines) or "no events")]
    for note in view.notes[-10:]:
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn(f"{mention(note.author)} noted:"), plain(note.text)],
            }
        )
    if view.has_chaos_journal:
        blocks.append(
            {"type": "context", "elements": [mrkdwn(f"Full journal: `gameday journal {run.id}`")]}
        )
    return Message(head + "\n" + "\n".join(lines), blocks)
