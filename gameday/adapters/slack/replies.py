"""Replies to `/gameday`: Block Kit with a text fallback, built from the chat use cases.

Rules: our own markup is Mrkdwn made with `md` (see gameday.domain.messages); names,
reasons, notes and error texts are passed to it as arguments (escaped) or shown as plain
text, never pasted into a template.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from gameday.domain.blocks import MAX_BLOCKS, Block, Message, line_sections, mrkdwn, plain, section
from gameday.domain.mrkdwn import Mrkdwn, code, date_token, format_when, join_md, md, mention
from gameday.domain.runs import Run, RunEvent
from gameday.services.chatops import JournalView, Operators, ScheduleLine, Status

OK = md(":white_check_mark:")
INFO = md(":information_source:")
REFUSED = md(":no_entry:")

USAGE = (
    ("help", "this help"),
    ("list", "the schedules"),
    ("upcoming [days]", "runs planned in the next days (default 7)"),
    ("status", "running runs, approvals pending, kill switch"),
    ("run RUNBOOK_NAME", "request an ad-hoc GameDay (goes through approval; operators)"),
    ("approve RUN", "approve a run"),
    ("reject RUN [reason]", "reject a run"),
    ("halt [reason]", "engage the kill switch: nothing starts, running runs roll back"),
    ("resume", "release the kill switch (operators)"),
    ("pause SCHEDULE", "skip a schedule's runs until unpaused (operators)"),
    ("unpause SCHEDULE", "let a paused schedule run again (operators)"),
    ("history [n]", "the last n finished runs (default 10)"),
    ("journal RUN", "what happened in a run"),
    ("note RUN text", "add a note to a run's journal"),
    ("ack RUN", "acknowledge a running drill (we noticed)"),
    ("resolve RUN [note]", "resolve a running drill: its method ends, the rollbacks play"),
)
# Room for the head and tail blocks of a reply around its list sections.
_LIST_BLOCKS = MAX_BLOCKS - 15


def help_message(problem: str | None = None) -> Message:
    """The usage of `/gameday`, optionally after a line (user text) saying what was wrong."""
    text, usage = _usage()
    blocks: list[Block] = []
    if problem:
        blocks.append({"type": "context", "elements": [plain(problem)]})
        text = md("{}\n{}", problem, text)
    blocks.append(usage)
    return Message(text, blocks)


@functools.cache
def _usage() -> tuple[Mrkdwn, Block]:
    # The same for every reply, and `help` is the default subcommand: built once.
    lines = [md("{} {}", code(f"/gameday {cmd}"), what) for cmd, what in USAGE]
    text = md("Usage: /gameday {}", " | ".join(cmd.split()[0] for cmd, _ in USAGE))
    return text, section(join_md("\n", lines))


def notice(text: Mrkdwn, icon: Mrkdwn = OK) -> Message:
    """A one-line reply of our own mrkdwn (user text inside went through `md`)."""
    line = md("{} {}", icon, text)
    return Message(line, [section(line)])


def error(text: str) -> Message:
    """A refusal or error (its text may quote user input): plain text in the blocks,
    escaped in the fallback."""
    return Message(md(":warning: {}", text), [{"type": "section", "text": plain(f"⚠️ {text}")}])


def operators_only(action: str, operators: Operators) -> Message:
    """The refusal of `/gameday ACTION` to someone who is not an operator: who may, and
    that halting stays open to everyone."""
    who = join_md(", ", (mention(i) for i in operators.ids()))
    if not who:
        whom = md(
            "nobody is an operator yet: set {} or name approvers in the specs",
            code("GAMEDAY_SLACK_OPERATORS"),
        )
    elif operators.configured:
        whom = md("operators are {}", who)
    else:
        whom = md("operators are the approvers named in the specs: {}", who)
    line = md(
        "Only operators may {}; {}. Anyone may {} to stop chaos.",
        code(f"/gameday {action}"),
        whom,
        code("/gameday halt"),
    )
    return notice(line, REFUSED)


def _run_name(run: Run) -> str:
    return run.schedule or run.runbook or "ad-hoc"


def _run_line(run: Run, zone: str) -> Mrkdwn:
    return md(
        "#{} *{}* ({}) {}, {}{}",
        run.id,
        _run_name(run),
        run.kind,
        run.state,
        date_token(run.planned_at, zone),
        md(" dry run") if run.dry_run else md(""),
    )


def runs_message(title: str, runs: Sequence[Run], zone: str) -> Message:
    """A titled list of runs, one line each, times in `zone` and the reader's own."""
    if not runs:
        return notice(md("{}: none", title), INFO)
    fallback = [
        md("#{} {} {} {}", r.id, _run_name(r), r.state, format_when(r.planned_at, zone))
        for r in runs
    ]
    blocks = [section(md("*{}*", title))]
    blocks += line_sections([_run_line(r, zone) for r in runs], most=_LIST_BLOCKS)
    return Message(md("{}\n{}", title, join_md("\n", fallback)), blocks)


def status_message(status: Status, zone: str) -> Message:
    """The kill switch, paused schedules, running runs and approvals pending."""
    ks = status.kill_switch
    if ks.engaged:
        switch = md(":octagonal_sign: Kill switch *engaged*")
        if ks.actor:
            switch = md("{} by {}", switch, mention(ks.actor))
        if ks.reason:
            switch = md("{}: {}", switch, ks.reason)
    else:
        switch = md(":large_green_circle: Kill switch released")
    lines = [switch]
    if status.pauses:
        names = join_md(", ", (p.schedule for p in status.pauses))
        lines.append(md(":double_vertical_bar: Paused: {}", names))
    lines.append(
        md("Running: {}, awaiting approval: {}", len(status.running), len(status.awaiting))
    )
    if status.outbox_depth:
        lines.append(md("Messages waiting for delivery: {}", status.outbox_depth))
    lines += [_run_line(run, zone) for run in [*status.running, *status.awaiting]]
    return Message(join_md("\n", lines), line_sections(lines, most=_LIST_BLOCKS))


def schedules_message(lines: Sequence[ScheduleLine]) -> Message:
    """Every schedule: name, kind, when, channel, paused."""
    if not lines:
        return notice(md("No schedules."), INFO)
    rows = [
        md(
            "*{}* ({}) {}{}{}",
            s.name,
            s.kind,
            code(s.detail),
            md(" {}", s.channel) if s.channel else md(""),
            md(" — paused") if s.paused else md(""),
        )
        for s in lines
    ]
    blocks = [section(md("*Schedules*")), *line_sections(rows, most=_LIST_BLOCKS)]
    return Message(join_md("\n", rows), blocks)


def _event(event: RunEvent) -> Mrkdwn:
    if event.type == "state_changed":
        moved = f"{event.payload.get('from')} → {event.payload.get('to')}"
        return md("{} {}", code("state_changed"), code(moved))
    return code(event.type)


def journal_message(view: JournalView, zone: str, *, limit: int = 40) -> Message:
    """A run's timeline (events, newest last) and its notes."""
    run = view.run
    head = _run_line(run, zone)
    events = view.events[-limit:]
    lines = [
        md("{} {} by {}", format_when(e.at, zone), _event(e), mention(e.actor)) for e in events
    ]
    if len(view.events) > limit:
        lines.insert(0, md("… {} earlier events", len(view.events) - limit))
    blocks: list[Block] = [section(head)]
    blocks += line_sections(lines, most=10) if lines else [section(md("no events"))]
    for note in view.notes[-10:]:
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn(md("{} noted:", mention(note.author))), plain(note.text)],
            }
        )
    if view.has_chaos_journal:
        hint = md("Full journal: {}", code(f"gameday journal {run.id}"))
        blocks.append({"type": "context", "elements": [mrkdwn(hint)]})
    return Message(md("{}\n{}", head, join_md("\n", lines)), blocks)
