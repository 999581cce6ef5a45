"""How the scheduler announces runs: the approval use cases it calls when Slack is wired
in, and a plain-text announcement for when it is not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

from gameday.domain.runs import OutgoingMessage, Run
from gameday.services.fire_guards import ScheduleRules

# Builds the announcement for a run (announcements, approval requests); wiring may hand in
# the Slack Block Kit builders, the default is plain text for the console notifier.
Announcer = Callable[[Run, ScheduleRules, timedelta], Sequence[OutgoingMessage]]


def plain_announcement(run: Run, rules: ScheduleRules, lead: timedelta) -> list[OutgoingMessage]:
    """One plain-text message naming the run, its start (UTC) and what is asked of people."""
    when = run.planned_at.isoformat(timespec="minutes")
    mode = "dry run" if run.dry_run else "LIVE"
    what = f"GameDay {rules.runbook or rules.name}" if rules.runbook else f"monkey {rules.name}"
    text = f"{what} (run {run.id}, {mode}) starts at {when}"
    if rules.needs_approval:
        text += "; approval needed"
    channel = rules.channel or "#gameday"
    return [OutgoingMessage(channel=channel, text=text, thread_of_run=run.id, kind="announcement")]


class Approvals(Protocol):
    """The approval use cases the scheduler calls (gameday.services.approvals)."""

    def announce(self, run_id: int, *, actor: str = ...) -> Run:
        """Announce a run (or remind), asking for approval when its policy says so."""
        ...

    def expire_due(self) -> list[Run]:
        """Expire every run whose approval deadline has passed."""
        ...
