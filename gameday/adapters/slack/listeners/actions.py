"""Buttons: Approve / Reject / Postpone (GameDays), Veto (monkey), Halt (while running).

The click is acked at once; the decision runs in a lazy listener and the person who
clicked gets an ephemeral answer (a refusal says why and changes nothing).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from gameday.adapters.slack import replies
from gameday.adapters.slack.deps import SlackDeps
from gameday.domain.approval import ApprovalRefused
from gameday.domain.blocks import ACTION_ID, Message
from gameday.domain.errors import GamedayError
from gameday.domain.mrkdwn import md
from gameday.domain.runs import Decision


def handle(deps: SlackDeps, verb: str, run_id: int, user: str) -> Message:
    """Carry out one click of `user` on run `run_id`; errors become replies."""
    try:
        if verb in ("approve", "reject"):
            decision = Decision.APPROVE if verb == "approve" else Decision.REJECT
            result = deps.approvals.decide(run_id, actor=user, decision=decision)
        elif verb == "postpone":
            result = deps.approvals.postpone(run_id, actor=user)
        elif verb == "veto":
            result = deps.approvals.veto(run_id, actor=user)
        else:
            deps.chatops.halt(actor=user, reason=None, run_id=run_id)
            return replies.notice(md("Halting run #{}: the kill switch is engaged.", run_id))
    except ApprovalRefused as refused:
        return replies.error(f"Refused: {refused}")
    except GamedayError as exc:
        return replies.error(str(exc))
    return replies.notice(md("{}", result.reply))


def register(app: App, deps: SlackDeps) -> None:
    """Attach the button listeners (one pattern: `gameday:VERB:RUN`)."""

    def ack_click(ack: Ack) -> None:
        ack()

    def act(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        match = ACTION_ID.match(action.get("action_id", ""))
        if match is None:
            return
        reply = handle(deps, match["verb"], int(match["run"]), body["user"]["id"])
        respond(
            text=reply.text,
            blocks=reply.blocks,
            response_type="ephemeral",
            replace_original=False,
        )

    app.action(ACTION_ID)(ack=ack_click, lazy=[act])
