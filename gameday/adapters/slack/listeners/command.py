"""`/gameday SUBCOMMAND ...`: parse, call the chat use case, answer in Block Kit + text.

Reads and quick writes answer in the ack itself (the app processes before responding, so
the reply is the HTTP response). What may ask Slack for user group members acks at once and
answers through the response URL from a lazy listener: approve/reject and a drill's
ack/resolve always, and the
operators' commands (run, resume, pause, unpause) when the person is not an operator by
user id but an operator group might hold them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from gameday.adapters.slack import replies
from gameday.adapters.slack.deps import SlackDeps
from gameday.adapters.slack.listeners import drills
from gameday.domain.approval import ApprovalRefused
from gameday.domain.blocks import Message
from gameday.domain.errors import GamedayError, InvalidInput
from gameday.domain.mrkdwn import md
from gameday.domain.runs import Decision
from gameday.services.chatops import NotAnOperator

log = logging.getLogger(__name__)
LAZY = frozenset({"approve", "reject"}) | drills.SUBCOMMANDS
OPERATORS_ONLY = frozenset({"run", "resume", "pause", "unpause"})


def parse_run_id(text: str) -> int:
    """`42` or `#42` -> 42; InvalidInput otherwise."""
    raw = text.strip().removeprefix("#")
    if not raw.isdigit():
        raise InvalidInput(f"{text.strip()!r} is not a run number (e.g. 42)")
    return int(raw)


def _split(text: str) -> tuple[str, str]:
    parts = (text or "").strip().split(maxsplit=1)
    if not parts:
        return "help", ""
    return parts[0].lower(), parts[1] if len(parts) > 1 else ""


def _int(rest: str, default: int, name: str) -> int:
    raw = rest.strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise InvalidInput(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def _word(rest: str, usage: str) -> str:
    parts = rest.split()
    if len(parts) != 1:
        raise InvalidInput(f"usage: /gameday {usage}")
    return parts[0]


def answer(deps: SlackDeps, sub: str, rest: str, user: str) -> Message:
    """Run one subcommand for `user` and build its reply (errors become replies)."""
    ops, zone = deps.chatops, deps.timezone
    handlers: dict[str, Callable[[], Message]] = {
        "help": lambda: replies.help_message(),
        "list": lambda: replies.schedules_message(ops.schedules()),
        "upcoming": lambda: replies.runs_message(
            "Upcoming runs", ops.upcoming(_int(rest, 7, "days")), zone
        ),
        "status": lambda: replies.status_message(ops.status(), zone),
        "history": lambda: replies.runs_message(
            "Finished runs", ops.history(_int(rest, 10, "n")), zone
        ),
        "journal": lambda: replies.journal_message(ops.journal(parse_run_id(rest)), zone),
        "run": lambda: _run(deps, _word(rest, "run RUNBOOK_NAME"), user),
        "halt": lambda: _halt(deps, rest, user),
        "resume": lambda: _resume(deps, user),
        "pause": lambda: _pause(deps, _word(rest, "pause SCHEDULE"), user, pause=True),
        "unpause": lambda: _pause(deps, _word(rest, "unpause SCHEDULE"), user, pause=False),
        "note": lambda: _note(deps, rest, user),
        "approve": lambda: _decide(deps, rest, user, Decision.APPROVE),
        "reject": lambda: _decide(deps, rest, user, Decision.REJECT),
        "ack": lambda: drills.answer(deps, sub, rest, user),
        "resolve": lambda: drills.answer(deps, sub, rest, user),
    }
    handler = handlers.get(sub)
    if handler is None:
        return replies.help_message(f"Unknown command {sub!r}.")
    try:
        return handler()
    except NotAnOperator as refused:
        return replies.operators_only(refused.action, refused.operators)
    except GamedayError as exc:
        return replies.error(str(exc))


def _run(deps: SlackDeps, name: str, user: str) -> Message:
    run = deps.chatops.request_run(name, actor=user)
    state = run.state.value.replace("_", " ")
    return replies.notice(md("Requested run #{} of {}: {}.", run.id, name, state))


def _halt(deps: SlackDeps, reason: str, user: str) -> Message:
    deps.chatops.halt(actor=user, reason=reason.strip() or None)
    return replies.notice(md("Kill switch engaged: nothing new starts, running runs roll back."))


def _resume(deps: SlackDeps, user: str) -> Message:
    if deps.chatops.resume(actor=user):
        return replies.notice(md("Kill switch released."))
    return replies.notice(md("The kill switch was not engaged."), replies.INFO)


def _pause(deps: SlackDeps, schedule: str, user: str, *, pause: bool) -> Message:
    if pause:
        changed = deps.chatops.pause(schedule, actor=user)
        return replies.notice(
            md("Paused {}.", schedule) if changed else md("{} was already paused.", schedule)
        )
    changed = deps.chatops.unpause(schedule, actor=user)
    return replies.notice(
        md("Unpaused {}.", schedule) if changed else md("{} was not paused.", schedule)
    )


def _note(deps: SlackDeps, rest: str, user: str) -> Message:
    run_text, _, text = rest.strip().partition(" ")
    note = deps.chatops.note(parse_run_id(run_text), text.strip(), actor=user)
    return replies.notice(md("Note added to run #{}.", note.run_id))


def _decide(deps: SlackDeps, rest: str, user: str, decision: Decision) -> Message:
    run_text, _, reason = rest.strip().partition(" ")
    if decision is Decision.APPROVE and reason.strip():
        raise InvalidInput("usage: /gameday approve RUN")
    try:
        result = deps.approvals.decide(
            parse_run_id(run_text), actor=user, decision=decision, reason=reason.strip() or None
        )
    except ApprovalRefused as refused:
        return replies.error(f"Refused: {refused}")
    return replies.notice(md("{}", result.reply))


def answered_later(deps: SlackDeps, body: dict[str, Any]) -> bool:
    """True for what is answered through the response URL: approve, reject, and the
    operators' commands when telling whether the person is an operator may ask Slack."""
    sub = _split(body.get("text", ""))[0]
    if sub in LAZY:
        return True
    return sub in OPERATORS_ONLY and deps.chatops.operator_lookup_needed(body["user_id"])


def register(app: App, deps: SlackDeps) -> None:
    """Attach the `/gameday` command listeners: what may ask Slack (see `answered_later`)
    acks at once and answers from a lazy listener; everything else answers in the ack.

    Two listeners rather than one with a lazy part: Bolt copies the request and starts a
    thread for a lazy listener on every request it handles, which the other subcommands
    would pay for nothing.
    """

    def ack_at_once(ack: Ack) -> None:
        ack()

    def decide_later(body: dict[str, Any], respond: Respond) -> None:
        sub, rest = _split(body.get("text", ""))
        reply = answer(deps, sub, rest, body["user_id"])
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")

    def ack_command(ack: Ack, body: dict[str, Any]) -> None:
        sub, rest = _split(body.get("text", ""))
        reply = answer(deps, sub, rest, body["user_id"])
        ack(text=reply.text, blocks=reply.blocks, response_type="ephemeral")

    def now(body: dict[str, Any]) -> bool:
        return not answered_later(deps, body)

    # Bolt runs the first listener whose matchers all pass; the common case comes first,
    # so it pays for one custom matcher and the rare one for two.
    app.command("/gameday", matchers=[now])(ack_command)
    app.command("/gameday")(ack=ack_at_once, lazy=[decide_later])
