"""What the channel is told while a run runs: its start (Halt button), notable events in
its thread, and its outcome on the announcement.

Rules:
- this module only builds messages; whoever changes the run's state queues them in the
  same transaction (the run flow at the start, the worker or recovery at the end);
- the start turns the announcement into a running message with Halt and says in the
  thread whether the run is live or dry, and why;
- a run's messages are addressed from its start record (`RecordedBriefs`): the worker and
  recovery tell the channel the run started in without reading the specs again;
- any text a person or a runbook wrote (reasons, probe names, errors) is inert.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from gameday.domain import execution as ex
from gameday.domain.drills import figures_of
from gameday.domain.durations import format_duration
from gameday.domain.gates import GateResult
from gameday.domain.messages import (
    RunBrief,
    brief_from_snapshot,
    decided_message,
    drill_outcome,
    running_message,
    thread_note,
)
from gameday.domain.mrkdwn import Mrkdwn, code, link, md
from gameday.domain.ports import RunRepository
from gameday.domain.run_mode import RunMode
from gameday.domain.run_policy import Briefing, BriefSource
from gameday.domain.runs import MessageKind, OutgoingMessage, Run, RunEvent

OUTCOME_ICONS = {
    "completed": md(":white_check_mark:"),
    "deviated": md(":warning:"),
    "failed": md(":x:"),
    "aborted": md(":octagonal_sign:"),
    "interrupted": md(":zap:"),
    "skipped": md(":fast_forward:"),
}

# A thread line for each notable event: (our own mrkdwn line, the user text shown under it).
_EventLine = Callable[[RunEvent], tuple[Mrkdwn, str | None] | None]


def _halt_line(event: RunEvent) -> tuple[Mrkdwn, str | None]:
    hard = " again: hard stop" if event.payload.get("hard") else ": the rollbacks will play"
    return md(":octagonal_sign: asked to halt{}", hard), _text(event.payload.get("reason"))


def _timed_out_line(event: RunEvent) -> tuple[Mrkdwn, str | None]:
    seconds = event.payload.get("timeout_seconds")
    limit = "" if not isinstance(seconds, int | float) else f" of {_duration(seconds)}"
    return md(":hourglass: time limit{} reached: halting, the rollbacks will play", limit), None


def _deviated_line(event: RunEvent) -> tuple[Mrkdwn, str | None]:
    probes = [str(p) for p in event.payload.get("probes") or []]
    return (
        md(":warning: deviated: the steady state was not met after the method"),
        f"probes outside tolerance: {', '.join(probes)}" if probes else None,
    )


def _rollbacks_line(event: RunEvent) -> tuple[Mrkdwn, str | None] | None:
    statuses = [str(s) for s in event.payload.get("statuses") or []]
    if not statuses:
        return None
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())  # statuses come from the run
    return md(":leftwards_arrow_with_hook: rollbacks played: {}", summary), None


_LINES: Mapping[str, _EventLine] = {
    ex.HALT_REQUESTED: _halt_line,
    ex.TIMED_OUT: _timed_out_line,
    ex.HARD_STOPPED: lambda e: (md(":no_entry: hard stop: the worker was terminated"), None),
    ex.DEVIATED: _deviated_line,
    ex.STEADY_STATE_NOT_MET: lambda e: (
        md(
            ":information_source: the steady state was not met before the method, "
            "so the method did not run"
        ),
        None,
    ),
    ex.ROLLBACK_FINISHED: _rollbacks_line,
    ex.REQUEST_REFUSED: lambda e: (
        md(":shield: refused a Kubernetes request; the run stops and rolls back"),
        _text(e.payload.get("reason")),
    ),
    ex.SUPERVISOR_LOST: lambda e: (
        md(":zap: the service supervising this run died: interrupting it with its rollbacks"),
        None,
    ),
    ex.STOP_CONDITION: lambda e: (
        md(
            ":rotating_light: stop condition {} breached: halting, the rollbacks will play",
            str(e.payload.get("gate")),
        ),
        f"observed {e.payload.get('observed')} ({e.payload.get('reason')}); bound: "
        f"{e.payload.get('bound')}",
    ),
    ex.WATCH_FAILED: lambda e: (
        md(":zap: the service could no longer watch this run: interrupting it with its rollbacks"),
        _text(e.payload.get("error")),
    ),
}

# Events written by gameday itself name no one; a person (or a CLI user) is named.
_SERVICE_ACTORS = ("worker", "gameday", "scheduler")


class RunUpdates:
    """Builds the Slack side of a run's life after its approval."""

    def __init__(self, briefing: BriefSource, *, runs: RunRepository | None = None) -> None:
        self._briefing = briefing
        self._runs = runs  # with it, a drill's outcome joins its end messages

    def briefing(self, run: Run) -> Briefing:
        """The brief and channel the run's messages use."""
        return self._briefing(run)

    def messages_for_start(self, run: Run, mode: RunMode | None = None) -> list[OutgoingMessage]:
        """The announcement turns into a running message with Halt; the thread says the
        run started, live or dry and why."""
        info = self._briefing(run)
        line = md(":arrow_forward: started")
        if mode is not None:
            line = md("{} ({})", line, mode.label)
        return [
            running_message(info.brief).outgoing(
                info.channel, run_id=run.id, kind=MessageKind.UPDATE
            ),
            thread_note(line, user_text=mode.reason if mode else None).outgoing(
                info.channel, run_id=run.id, kind=MessageKind.THREAD
            ),
        ]

    def messages_for_event(self, run: Run, event: RunEvent) -> list[OutgoingMessage]:
        """A thread reply for a notable event (halt, time limit, deviation, rollbacks,
        refused request, lost supervisor); nothing for the others."""
        describe = _LINES.get(event.type)
        line = describe(event) if describe is not None else None
        if line is None:
            return []
        text, detail = line
        actor = None if event.actor.startswith(_SERVICE_ACTORS) else event.actor
        info = self._briefing(run)
        note = thread_note(text, actor=actor, user_text=detail)
        return [note.outgoing(info.channel, run_id=run.id, kind=MessageKind.THREAD)]

    def messages_for_gates(self, run: Run, results: Sequence[GateResult]) -> list[OutgoingMessage]:
        """A thread reply with the health gates as they stand now (checked again when the
        run starts)."""
        info = self._briefing(run)
        failing = sum(1 for r in results if not r.passed)
        head = md(
            ":traffic_light: health gates now: {} of {} passing (checked again at the start)",
            len(results) - failing,
            len(results),
        )
        lines = [
            f"{'pass' if r.passed else 'FAIL'}  {r.gate}: {r.observed}"
            + ("" if r.passed else f" ({r.reason})")
            for r in results
        ]
        note = thread_note(head, user_text="\n".join(lines))
        return [note.outgoing(info.channel, run_id=run.id, kind=MessageKind.THREAD)]

    def messages_for_note(
        self, run: Run, text: str, *, detail: str | None = None
    ) -> list[OutgoingMessage]:
        """A reply in the run's thread: `text` and `detail`, both inert (`text` in mrkdwn,
        escaped; `detail` as plain text)."""
        info = self._briefing(run)
        note = thread_note(md("{}", text), user_text=detail)
        return [note.outgoing(info.channel, run_id=run.id, kind=MessageKind.THREAD)]

    def messages_for_end(
        self,
        run: Run,
        outcome: str,
        *,
        reason: str | None = None,
        journal_hint: str | None = None,
    ) -> list[OutgoingMessage]:
        """The announcement shows the outcome without buttons; the thread gets a summary
        with the reason the run ended as it did."""
        info = self._briefing(run)
        icon = OUTCOME_ICONS.get(outcome, md(":information_source:"))
        line = md("{} finished: *{}*", icon, outcome)
        if journal_hint:
            line = md("{} (journal: {})", line, code(journal_hint))
        if run.dry_run:
            line = md("{}, dry run: nothing was changed", line)
        if info.brief.page:
            line = md("{} · {}", line, link(info.brief.page, "postmortem"))
        messages = [
            decided_message(info.brief, outcome).outgoing(
                info.channel, run_id=run.id, kind=MessageKind.UPDATE
            ),
            thread_note(line, user_text=reason).outgoing(
                info.channel, run_id=run.id, kind=MessageKind.THREAD
            ),
        ]
        figures = figures_of(self._runs.events(run.id)) if self._runs is not None else None
        if figures is not None:
            outcome_note = drill_outcome(figures)
            messages.append(
                outcome_note.outgoing(info.channel, run_id=run.id, kind=MessageKind.THREAD)
            )
        return messages

    def end_messages(self, run: Run, outcome: str, reason: str) -> list[OutgoingMessage]:
        """`messages_for_end` in the shape of `execution.EndMessages`."""
        return self.messages_for_end(run, outcome, reason=reason)


class RecordedBriefs:
    """A BriefSource that reads the brief a run recorded when it started (see
    `brief_snapshot`), else asks `fallback` (runs that have not started yet)."""

    def __init__(
        self, runs: RunRepository, *, fallback: BriefSource | None = None, default_channel: str
    ) -> None:
        self._runs = runs
        self._fallback = fallback
        self._default_channel = default_channel

    def __call__(self, run: Run) -> Briefing:
        """The recorded brief and channel of `run`."""
        record = ex.start_record(self._runs.events(run.id))
        snapshot = record.get("thread") if record is not None else None
        if isinstance(snapshot, Mapping):
            brief, channel = brief_from_snapshot(run, snapshot)
            return Briefing(brief, channel or self._default_channel)
        if self._fallback is not None:
            return self._fallback(run)
        title = run.schedule or run.runbook or f"run #{run.id}"
        return Briefing(RunBrief(run, title), self._default_channel)


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _duration(seconds: float) -> str:
    return format_duration(timedelta(seconds=seconds))


class RecordedChannel:
    """How a process other than the run's starter (its worker) tells the run's channel:
    through the brief the start recorded, and only when the start recorded a channel
    (a run from a command line without Slack tells nobody)."""

    def __init__(self, runs: RunRepository, *, default_channel: str) -> None:
        self._runs = runs
        self._updates = RunUpdates(RecordedBriefs(runs, default_channel=default_channel), runs=runs)

    def _told(self, run: Run) -> bool:
        record = ex.start_record(self._runs.events(run.id))
        return record is not None and bool(record.get("thread"))

    def end_messages(self, run: Run, outcome: str, reason: str) -> list[OutgoingMessage]:
        """The outcome messages (see RunUpdates.messages_for_end)."""
        return self._updates.end_messages(run, outcome, reason) if self._told(run) else []

    def line_messages(
        self, run: Run, line: Mrkdwn, actor: str | None = None, detail: str | None = None
    ) -> list[OutgoingMessage]:
        """A thread reply: our own `line` by `actor`, then `detail` as inert text; none
        when the run's start recorded no channel."""
        if not self._told(run):
            return []
        info = self._updates.briefing(run)
        note = thread_note(line, actor=actor, user_text=detail)
        return [note.outgoing(info.channel, run_id=run.id, kind=MessageKind.THREAD)]

    def event_messages(self, run: Run, event: RunEvent) -> list[OutgoingMessage]:
        """A thread line for a notable event (see RunUpdates.messages_for_event)."""
        if event.type not in _LINES or not self._told(run):
            return []
        return self._updates.messages_for_event(run, event)
