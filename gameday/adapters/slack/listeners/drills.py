"""`/gameday ack RUN` and `/gameday resolve RUN [note]`: a drill's responders acting in
Slack (see gameday.services.drill_acts). Answered from the command's lazy listener, since
telling whether someone is a responder may ask Slack for a user group's members."""

from __future__ import annotations

from gameday.adapters.slack import replies
from gameday.adapters.slack.deps import SlackDeps
from gameday.domain.blocks import Message
from gameday.domain.errors import GamedayError, InvalidInput
from gameday.domain.mrkdwn import md, mention
from gameday.services.drill_acts import ActResult

SUBCOMMANDS = frozenset({"ack", "resolve"})


def answer(deps: SlackDeps, sub: str, rest: str, user: str) -> Message:
    """Acknowledge or resolve the drill `rest` names, for `user`; the reply (ephemeral)."""
    from gameday.adapters.slack.listeners.command import parse_run_id

    if deps.drills is None:
        return replies.error("drills are not available here")
    run_text, _, note = rest.strip().partition(" ")
    try:
        if sub == "ack":
            if note.strip():
                raise InvalidInput("usage: /gameday ack RUN")
            return _reply(deps.drills.ack(parse_run_id(run_text), actor=user))
        result = deps.drills.resolve(parse_run_id(run_text), actor=user, note=note.strip() or None)
        return _reply(result)
    except GamedayError as exc:
        return replies.error(str(exc))


def _reply(result: ActResult) -> Message:
    run_id = result.run.id
    if not result.first:
        verb = "acknowledged" if result.act == "ack" else "resolved"
        return replies.notice(
            md(
                "Run #{} was already {} by {}; you are recorded as a participant.",
                run_id,
                verb,
                mention(result.by),
            ),
            replies.INFO,
        )
    if result.act == "ack":
        return replies.notice(md("You acknowledged drill run #{}.", run_id))
    return replies.notice(
        md(
            "You resolved drill run #{}: its method ends, then the steady state is checked "
            "and the rollbacks play.",
            run_id,
        )
    )
