"""What the `/gameday` chat command can do, independent of Slack: read the state of runs
and schedules, request a run, halt and resume, pause schedules, add notes.

Rules:
- `run` takes a runbook *name* known to the catalog, never a path;
- halting always works, for anyone; it engages the kill switch (nothing new starts,
  running runs roll back) and says so in the default channel;
- only operators may change what chaos runs (`run`, `resume`, `pause`, `unpause`): the
  configured Slack user and user group ids, else every approver the specs name (read
  from the live catalog each time, so a reload is seen); a refusal changes nothing but
  one entry in the control log, and raises NotAnOperator;
- notes and reasons are stored as typed and only escaped when shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from gameday.domain.durations import format_duration
from gameday.domain.errors import GamedayError, InvalidInput, NotFound
from gameday.domain.lifecycle import FINAL_STATES
from gameday.domain.messages import thread_note
from gameday.domain.mrkdwn import md
from gameday.domain.ports import Clock, ControlState, Outbox, RunRepository, UserGroups
from gameday.domain.run_policy import BriefSource, channel_for
from gameday.domain.runs import (
    KillSwitch,
    MessageKind,
    Note,
    OutgoingMessage,
    Pause,
    Run,
    RunEvent,
    RunState,
)
from gameday.services import control
from gameday.services.approvals import ApprovalService
from gameday.services.catalog import Catalog
from gameday.services.execution import adhoc_run, refuse_if_halted

_RUNBOOK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
WAITING = (RunState.PLANNED, RunState.ANNOUNCED, RunState.AWAITING_APPROVAL, RunState.APPROVED)


@dataclass(frozen=True)
class Operators:
    """Who may change what chaos runs from Slack: Slack user ids (`U…`/`W…`) and user group ids
    (`S…`); `configured` says whether they come from the settings or the specs."""

    users: frozenset[str]
    usergroups: frozenset[str]
    configured: bool

    @classmethod
    def of(cls, ids: Iterable[str], *, configured: bool) -> Operators:
        """Operators from a list of ids: `S…` are user groups, the others users."""
        listed = set(ids)
        groups = {i for i in listed if i.startswith("S")}
        return cls(frozenset(listed - groups), frozenset(groups), configured)

    def ids(self) -> list[str]:
        """Every operator id, users first, each sorted."""
        return [*sorted(self.users), *sorted(self.usergroups)]


class NotAnOperator(GamedayError):
    """Someone who is not an operator asked for what only operators may do."""

    def __init__(self, action: str, operators: Operators) -> None:
        self.action = action
        self.operators = operators
        who = ", ".join(operators.ids()) or "none"
        super().__init__(f"only operators may {action} (operators: {who})")


def spec_approvers(catalog: Catalog) -> list[str]:
    """Every approver (user and user group id) the specs name: the approval blocks of
    GameDay schedules and of runbooks' `gameday` extensions."""
    approvals = [g.approval for g in catalog.gamedays.values()]
    approvals += [r.extension.approval for r in catalog.runbooks.values() if r.extension]
    found: set[str] = set()
    for approval in approvals:
        if approval is not None:
            found.update(approval.approvers.users, approval.approvers.usergroups)
    return sorted(found)


@dataclass(frozen=True)
class Status:
    """Running runs, runs waiting for approval, the kill switch, pauses and queued messages."""

    running: list[Run]
    awaiting: list[Run]
    kill_switch: KillSwitch
    pauses: list[Pause]
    outbox_depth: int


@dataclass(frozen=True)
class ScheduleLine:
    """One schedule for `list`."""

    name: str
    kind: str
    detail: str
    channel: str | None
    paused: bool


@dataclass(frozen=True)
class JournalView:
    """A run with its events and notes, for `journal`."""

    run: Run
    events: list[RunEvent]
    notes: list[Note]
    has_chaos_journal: bool


class ChatOps:
    """The use cases behind `/gameday`."""

    def __init__(
        self,
        runs: RunRepository,
        control: ControlState,
        outbox: Outbox,
        approvals: ApprovalService,
        catalog: Callable[[], Catalog],
        briefing: BriefSource,
        clock: Clock,
        *,
        default_channel: str,
        live: bool = False,
        operators: Iterable[str] = (),
        groups: UserGroups | None = None,
    ) -> None:
        self._runs = runs
        self._control = control
        self._outbox = outbox
        self._approvals = approvals
        self._catalog = catalog
        self._briefing = briefing
        self._clock = clock
        self._channel = default_channel
        self._live = live
        self._operators = tuple(operators)
        self._groups = groups

    def status(self) -> Status:
        """What is running or waiting now, and whether the kill switch is engaged.

        One read of the repository (one transaction): the parts agree with each other, and
        the reply, sent inside Slack's ack, waits for one round of the database, not four.
        """
        snap = self._runs.status_snapshot(RunState.RUNNING, RunState.AWAITING_APPROVAL)
        return Status(
            running=[r for r in snap.runs if r.state is RunState.RUNNING],
            awaiting=[r for r in snap.runs if r.state is RunState.AWAITING_APPROVAL],
            kill_switch=snap.kill_switch,
            pauses=snap.pauses,
            outbox_depth=snap.outbox_depth,
        )

    def schedules(self) -> list[ScheduleLine]:
        """Every schedule of the catalog, GameDays then monkeys, by name."""
        catalog = self._catalog()
        paused = {p.schedule for p in self._control.pauses()}
        lines = [
            ScheduleLine(
                g.name,
                "gameday",
                g.cron or (g.at.isoformat() if g.at else "-"),
                channel_for(g, catalog.runbook_of(g), default=self._channel),
                g.name in paused,
            )
            for g in sorted(catalog.gamedays.values(), key=lambda s: s.name)
        ]
        lines += [
            ScheduleLine(
                m.name,
                "monkey",
                f"mtbf {format_duration(m.mtbf)}",
                channel_for(m, None, default=self._channel),
                m.name in paused,
            )
            for m in sorted(catalog.monkeys.values(), key=lambda s: s.name)
        ]
        return lines

    def upcoming(self, days: int) -> list[Run]:
        """Planned runs due in the next `days` days, soonest first."""
        if not 1 <= days <= 90:
            raise InvalidInput(f"days must be between 1 and 90, not {days}")
        now = self._clock.now()
        horizon = now + timedelta(days=days)
        runs = [r for r in self._runs.in_state(*WAITING) if now <= r.planned_at <= horizon]
        return sorted(runs, key=lambda r: r.planned_at)

    def history(self, limit: int) -> list[Run]:
        """The last `limit` runs that reached a final state, newest first."""
        if not 1 <= limit <= 50:
            raise InvalidInput(f"n must be between 1 and 50, not {limit}")
        finished = [r for r in self._runs.list_runs(limit=200) if r.state in FINAL_STATES]
        return finished[:limit]

    def journal(self, run_id: int) -> JournalView:
        """A run's events and notes."""
        run = self._runs.get(run_id)
        return JournalView(
            run,
            self._runs.events(run_id),
            self._runs.notes(run_id),
            self._runs.journal(run_id) is not None,
        )

    def request_run(self, name: str, *, actor: str) -> Run:
        """Request an ad-hoc GameDay of runbook `name`; it is announced and, if its policy
        says so, waits for approval."""
        self._require_operator(actor, "run")
        if not _RUNBOOK_NAME.fullmatch(name) or name.endswith((".yaml", ".yml", ".json")):
            raise InvalidInput(f"{name!r} is not a runbook name: give a name like my-runbook")
        catalog = self._catalog()
        runbook = catalog.runbooks.get(name)
        if runbook is None:
            raise NotFound(f"no runbook named {name!r}; `/gameday list` shows the schedules")
        refuse_if_halted(self._control)
        new = adhoc_run(runbook, requester=actor, dry_run=not self._live, now=self._clock.now())
        return self._approvals.request_run(new, actor=actor)

    def halt_from_tool(self, actor: str, reason: str | None) -> str:
        """Engage the kill switch for a tool (POST /halt); a line saying what happened."""
        return self.halt(actor=actor, reason=reason)

    def halt(self, *, actor: str, reason: str | None, run_id: int | None = None) -> str:
        """Engage the kill switch (always allowed) and say so in the default channel;
        a line saying what happened.

        Running runs are halted by whoever supervises them (every run flow watches the
        switch, on every replica); a Halt pressed on a run is also recorded on that run as
        a "halt_pressed" event.
        """
        why = reason or (f"halt pressed on run #{run_id}" if run_id else None)
        change = control.halt(self._control, actor=actor, reason=why)
        shown = change.kill_switch.reason or "no reason given"
        messages: list[OutgoingMessage] = []
        if change.changed:  # a second halt (double click, retry) does not repeat the notice
            notice = thread_note(md("engaged the kill switch"), actor=actor, user_text=shown)
            messages.append(notice.outgoing(self._channel, run_id=None, kind=MessageKind.MESSAGE))
        if run_id is not None:
            run = self._runs.get(run_id)
            self._runs.append_event(run_id, "halt_pressed", actor=actor, payload={"reason": shown})
            channel = self._briefing(run).channel
            note = thread_note(md("pressed Halt"), actor=actor, user_text=shown)
            messages.append(note.outgoing(channel, run_id=run_id, kind=MessageKind.THREAD))
        self._outbox.enqueue(messages)
        state = "engaged" if change.changed else "already engaged"
        return (
            f"kill switch {state} ({shown}): nothing new starts, running runs halt "
            "with their rollbacks"
        )

    def resume(self, *, actor: str) -> bool:
        """Release the kill switch (operators only); False when it was not engaged."""
        self._require_operator(actor, "resume")
        change = control.resume(self._control, actor=actor)
        if change.changed:
            note = thread_note(md(":arrow_forward: released the kill switch"), actor=actor)
            self._outbox.enqueue(
                [note.outgoing(self._channel, run_id=None, kind=MessageKind.MESSAGE)]
            )
        return change.changed

    def pause(self, schedule: str, *, actor: str) -> bool:
        """Pause a schedule named in the catalog (operators only); False when it was
        paused already."""
        self._require_operator(actor, "pause")
        return control.pause(self._control, schedule, actor=actor, known=self._names())

    def unpause(self, schedule: str, *, actor: str) -> bool:
        """Let a paused schedule run again (operators only); False when it was not paused."""
        self._require_operator(actor, "unpause")
        return control.unpause(self._control, schedule, actor=actor, known=self._names())

    def _names(self) -> set[str]:
        catalog = self._catalog()
        return {*catalog.gamedays, *catalog.monkeys}

    def note(self, run_id: int, text: str, *, actor: str) -> Note:
        """Attach a note to a run and post it in the run's thread."""
        run = self._runs.get(run_id)
        note = control.add_note(self._runs, run_id, author=actor, text=text)
        reply = thread_note(md("added a note"), actor=actor, user_text=note.text)
        channel = self._briefing(run).channel
        self._outbox.enqueue([reply.outgoing(channel, run_id=run_id, kind=MessageKind.THREAD)])
        return note

    def operators(self) -> Operators:
        """The operators: the configured ids, else every approver the specs name now."""
        if self._operators:
            return Operators.of(self._operators, configured=True)
        return Operators.of(spec_approvers(self._catalog()), configured=False)

    def operator_lookup_needed(self, actor: str) -> bool:
        """True when telling whether `actor` is an operator may ask Slack for the members
        of an operator user group (they are not an operator by user id)."""
        operators = self.operators()
        return (
            actor not in operators.users and bool(operators.usergroups) and self._groups is not None
        )

    def is_operator(self, actor: str) -> bool:
        """True when `actor` is an operator, by user id or as a member of a user group."""
        return self._among(actor, self.operators())

    def _among(self, actor: str, operators: Operators) -> bool:
        if actor in operators.users:  # no need to ask Slack
            return True
        if self._groups is None:
            return False
        groups = self._groups
        return any(actor in groups.members(g) for g in sorted(operators.usergroups))

    def _require_operator(self, actor: str, action: str) -> None:
        operators = self.operators()
        if self._among(actor, operators):
            return
        refused = NotAnOperator(action, operators)
        self._control.record_refusal(actor=actor, action=action, reason=str(refused))
        raise refused
