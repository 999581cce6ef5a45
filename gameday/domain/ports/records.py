"""Ports for what is recorded: time, runs and their events, the kill switch and pauses, what
a service remembers between its lives, and the outbox of messages."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from gameday.domain.runs import (
    Approval,
    Decision,
    KillSwitch,
    NewRun,
    Note,
    OutboxItem,
    OutgoingMessage,
    Pause,
    Run,
    RunEvent,
    RunState,
)


class Clock(Protocol):
    """Where time comes from; tests inject a fake so nothing waits for the wall clock."""

    def now(self) -> datetime:
        """Return the current instant as an aware datetime in UTC."""
        ...


class StatusSnapshot(NamedTuple):
    """What a status view shows, read at one instant: the runs in the asked states (oldest
    planned first), the kill switch, paused schedules and undelivered outbox messages."""

    runs: list[Run]
    kill_switch: KillSwitch
    pauses: list[Pause]
    outbox_depth: int


class RunRepository(Protocol):
    """Runs and their append-only history; every write is one database transaction."""

    def create(self, new: NewRun, *, actor: str, reason: str) -> Run:
        """Store a planned run with a "created" event; a known (schedule, planned_at)
        returns the run already stored instead of a second one."""
        ...

    def get(self, run_id: int) -> Run:
        """The run with this id; NotFound if there is none."""
        ...

    def transition(
        self,
        run_id: int,
        to: RunState,
        *,
        actor: str,
        reason: str,
        payload: Mapping[str, Any] | None = None,
        messages: Sequence[OutgoingMessage] = (),
    ) -> Run:
        """Move a run to `to` if the lifecycle allows it, with a "state_changed" event and
        `messages` queued in the outbox, all or nothing; IllegalTransition otherwise (also
        when another process changed the run first)."""
        ...

    def claim(
        self,
        run_id: int,
        *,
        actor: str,
        dry_run: bool | None = None,
        payload: Mapping[str, Any] | None = None,
        messages: Sequence[OutgoingMessage] = (),
    ) -> bool:
        """approved -> running for exactly one caller; False for everyone else. `dry_run`
        records the mode the run really runs in; payload and messages go with the move."""
        ...

    def append_event(
        self,
        run_id: int,
        type: str,
        *,
        actor: str,
        payload: Mapping[str, Any] | None = None,
        messages: Sequence[OutgoingMessage] = (),
    ) -> RunEvent:
        """Append one event to the run's log (events are never changed or removed), with
        `messages` queued in the outbox in the same transaction."""
        ...

    def append_event_once(
        self,
        run_id: int,
        type: str,
        *,
        key: str,
        actor: str,
        payload: Mapping[str, Any],
        messages: Sequence[OutgoingMessage] = (),
    ) -> RunEvent | None:
        """append_event unless the run has an event of `type` with the same `payload[key]`
        (None then); atomic against other writers, whichever process they run in."""
        ...

    def events(self, run_id: int, *, after_seq: int = 0) -> list[RunEvent]:
        """The run's events with seq > after_seq, oldest first."""
        ...

    def store_journal(self, run_id: int, journal: Mapping[str, Any]) -> None:
        """Keep the Chaos Toolkit journal of a run, whole and unchanged (replaces any)."""
        ...

    def journal(self, run_id: int) -> Mapping[str, Any] | None:
        """The stored Chaos Toolkit journal of a run, or None."""
        ...

    def list_runs(
        self, *, schedule: str | None = None, state: RunState | None = None, limit: int = 50
    ) -> list[Run]:
        """Runs, newest planned_at first, optionally of one schedule and/or one state."""
        ...

    def in_state(self, *states: RunState) -> list[Run]:
        """Every run currently in one of `states`, oldest planned_at first."""
        ...

    def runs_of_runbook(self, runbook: str, *, until: datetime, limit: int = 10) -> list[Run]:
        """The `limit` (1..1000) runs of `runbook` planned at or before `until`, newest
        first (a postmortem's trend)."""
        ...

    def runs_planned_between(
        self, since: datetime, until: datetime, *, schedule: str | None = None
    ) -> list[Run]:
        """Runs planned in [since, until), oldest first, optionally of one schedule;
        InvalidInput when there are too many to report on."""
        ...

    def events_of_runs(
        self, run_ids: Sequence[int], *, types: Collection[str]
    ) -> dict[int, list[RunEvent]]:
        """The events of the given types of each run, oldest first, by run id (a run with
        none is absent)."""
        ...

    def status_snapshot(self, *states: RunState) -> StatusSnapshot:
        """Runs in `states`, the kill switch, pauses and outbox depth in one consistent read
        (one transaction), so a status reply never mixes two moments."""
        ...

    def record_approval(self, run_id: int, user: str, decision: Decision) -> Approval:
        """Record a person's decision once (with an event); a repeat returns the first one."""
        ...

    def approvals(self, run_id: int) -> list[Approval]:
        """Decisions on a run, oldest first."""
        ...

    def add_note(self, run_id: int, *, author: str, text: str) -> Note:
        """Attach a note to a run (with a "note" event)."""
        ...

    def notes(self, run_id: int) -> list[Note]:
        """Notes on a run, oldest first."""
        ...


class ControlState(Protocol):
    """The global kill switch and per-schedule pauses (who, when, why)."""

    def kill_switch(self) -> tuple[bool, str | None]:
        """(engaged, reason)."""
        ...

    def engage_kill_switch(self, *, actor: str, reason: str) -> None:
        """Halt: nothing new starts until released."""
        ...

    def release_kill_switch(self, *, actor: str) -> None:
        """Resume normal operation."""
        ...

    def is_paused(self, schedule: str) -> bool:
        """True while the schedule is paused."""
        ...

    def pause(self, schedule: str, *, actor: str) -> None:
        """Pause a schedule: its runs are skipped until unpaused."""
        ...

    def unpause(self, schedule: str, *, actor: str) -> None:
        """Let a paused schedule run again."""
        ...

    def kill_switch_detail(self) -> KillSwitch:
        """The kill switch with who changed it last, when and why."""
        ...

    def pauses(self) -> list[Pause]:
        """Every paused schedule, by name."""
        ...

    def record_refusal(self, *, actor: str, action: str, reason: str) -> None:
        """Add to the control log that `actor` was refused `action`, and why."""
        ...


class ServiceMarks(Protocol):
    """What a service remembers between its lives: when a leader was last alive (to
    record what it missed while none ran) and the specs it planned from (to replan what
    changed while it was stopped)."""

    def mark_alive(self, *, actor: str) -> None:
        """Record that a leader is alive now."""
        ...

    def last_alive(self) -> datetime | None:
        """When a leader was last recorded alive (None: never)."""
        ...

    def planned_digests(self) -> dict[str, str]:
        """The digest of each schedule's spec as last planned, by schedule name."""
        ...

    def record_digests(self, digests: Mapping[str, str], *, actor: str) -> None:
        """Remember these digests (and forget schedules no longer planned)."""
        ...


class Outbox(Protocol):
    """Outgoing messages waiting for delivery, in order per channel."""

    def enqueue(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        """Queue messages (in their own transaction); their ids in order."""
        ...

    def record_sent(self, message: OutgoingMessage, *, remote_id: str) -> int:
        """Record a message its sender already delivered (it threads later ones)."""
        ...

    def due(self, *, now: datetime, limit: int = 100) -> list[OutboxItem]:
        """Undelivered messages whose next attempt is due, the oldest of each channel
        first; a channel whose head is waiting blocks its later messages."""
        ...

    def mark_delivered(self, item_id: int, *, at: datetime, remote_id: str | None) -> None:
        """Record delivery (remote_id: e.g. the Slack message ts)."""
        ...

    def mark_failed(self, item_id: int, *, error: str, retry_at: datetime) -> None:
        """Count a failed attempt and set when to try again."""
        ...

    def of_run(self, run_id: int) -> list[OutboxItem]:
        """Messages about one run, oldest first (delivered or still waiting): its journal
        shows them, and a planned kill checks its heads-up left in time."""
        ...

    def thread_of(self, run_id: int, channel: str) -> str | None:
        """The remote id of the run's first delivered message in a channel (to thread under)."""
        ...

    def depth(self) -> int:
        """How many messages wait for delivery."""
        ...
