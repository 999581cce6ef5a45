"""Telling the channel what a run does: started (Halt button), each event, the outcome.

Everything goes to the run's announcement: its thread for events, an edit of the message
itself when the run starts (Halt appears) and when it ends (buttons go, outcome shown).
Callers that change the run's state pass `messages_for_*` into the same transition;
`post_*` methods queue on their own for events that are not state changes.
"""

from __future__ import annotations

from gameday.domain.messages import decided_message, running_message, thread_note
from gameday.domain.ports import Outbox
from gameday.domain.runs import OutgoingMessage, Run
from gameday.services.approvals import BriefSource

OUTCOME_ICONS = {
    "completed": ":white_check_mark:",
    "deviated": ":warning:",
    "failed": ":x:",
    "aborted": ":octagonal_sign:",
    "interrupted": ":zap:",
    "skipped": ":fast_forward:",
}


class RunUpdates:
    """Builds and queues the Slack side of a run's life after its approval."""

    def __init__(self, outbox: Outbox, briefing: BriefSource) -> None:
        self._outbox = outbox
        self._briefing = briefing

    def messages_for_start(self, run: Run) -> list[OutgoingMessage]:
        """The announcement turns into a running message with Halt; the thread says so."""
        info = self._briefing(run)
        return [
            running_message(info.brief).outgoing(info.channel, run_id=run.id, kind="update"),
            thread_note(":arrow_forward: started").outgoing(
                info.channel, run_id=run.id, kind="thread"
            ),
        ]

    def messages_for_end(
        self, run: Run, outcome: str, *, journal_hint: str | None = None
    ) -> list[OutgoingMessage]:
        """The announcement shows the outcome without buttons; the thread gets a summary."""
        info = self._briefing(run)
        icon = OUTCOME_ICONS.get(outcome, ":information_source:")
        line = f"{icon} finished: *{outcome}*"
        if journal_hint:
            line += f" (journal: `{journal_hint}`)" if "`" not in journal_hint else ""
        return [
            decided_message(info.brief, outcome).outgoing(
                info.channel, run_id=run.id, kind="update"
            ),
            thread_note(line).outgoing(info.channel, run_id=run.id, kind="thread"),
        ]

    def post_start(self, run: Run) -> None:
        """Queue the start messages on their own (when the start was a claim)."""
        self._outbox.enqueue(self.messages_for_start(run))

    def post_event(self, run: Run, text: str, *, detail: str | None = None) -> None:
        """A reply in the run's thread: our own `text`, and `detail` shown as plain text."""
        info = self._briefing(run)
        note = thread_note(text, user_text=detail)
        self._outbox.enqueue([note.outgoing(info.channel, run_id=run.id, kind="thread")])

    def post_end(self, run: Run, outcome: str, *, journal_hint: str | None = None) -> None:
        """Queue the end messages on their own."""
        self._outbox.enqueue(self.messages_for_end(run, outcome, journal_hint=journal_hint))
