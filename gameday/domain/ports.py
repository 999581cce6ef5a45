"""Small Protocols the services need from the outside world; adapters implement them.

Each area adds its own ports here; keep each Protocol narrow (only what a service calls).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from gameday.domain.execution import WorkerRef
from gameday.domain.pods import PodFacts, Termination
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
from gameday.domain.spec_files import SourceFile


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


class Workers(Protocol):
    """Worker processes that execute GameDays, one process per run (chaoslib must own
    its process's main thread)."""

    def launch(self, run_id: int) -> WorkerRef:
        """Start a worker for a run that is already `running`; return at once."""
        ...

    def is_alive(self, worker: WorkerRef, run_id: int) -> bool | None:
        """True while that process still runs this run's worker; None when it cannot be
        told from here (another host)."""
        ...

    def release(self, worker: WorkerRef, run_id: int) -> None:
        """Stop supervising a worker: it interrupts its own run with rollbacks and ends
        it `interrupted`, as when its supervisor dies (a no-op for another host's)."""
        ...

    def halt(self, worker: WorkerRef, run_id: int) -> bool:
        """Interrupt gracefully (SIGUSR1: chaoslib stops and plays the rollbacks);
        False when the worker is already gone."""
        ...

    def hard_stop(self, worker: WorkerRef, run_id: int, *, grace: timedelta) -> None:
        """SIGTERM, then SIGKILL if still alive after `grace`; returns once it is gone."""
        ...

    def wait_gone(self, workers: Sequence[tuple[WorkerRef, int]], timeout: timedelta) -> None:
        """Block until every (worker, run_id) has exited or `timeout` passed."""
        ...

    def run_rollbacks(self, run_id: int, *, timeout: timedelta) -> int:
        """Play a run's rollbacks once in a fresh worker (crash recovery); its exit code."""
        ...


class JobQueue(Protocol):
    """The leader's timer: fires each job id once at its time; ids are stable across restarts."""

    def jobs(self) -> dict[str, datetime]:
        """Jobs waiting to fire, by id, with their times."""
        ...

    def add(self, job_id: str, at: datetime) -> None:
        """Fire `job_id` at `at` (at once if `at` has passed); replaces a job with that id."""
        ...

    def remove(self, job_id: str) -> None:
        """Forget a waiting job (no error if it already fired or never existed)."""
        ...


class RunStarter(Protocol):
    """Carries out an approved run whose moment has come (a GameDay worker, a monkey kill)."""

    def start(self, run: Run) -> None:
        """Claim the run (approved -> running; IllegalTransition if another process did)
        and carry it out; the run records its own outcome through the RunRepository."""
        ...


class MetricsSink(Protocol):
    """Where the services report what the service's metrics count."""

    def run_finished(self, kind: str, outcome: str) -> None:
        """Count a run that reached a final state."""
        ...

    def skipped(self, reason_code: str) -> None:
        """Count an occurrence recorded as skipped (a small fixed set of reason codes)."""
        ...

    def killed(self, count: int, *, dry_run: bool) -> None:
        """Count pods a monkey kill terminated (or would have, in a dry run)."""
        ...

    def job_fired(self, lag_seconds: float) -> None:
        """Observe how late a scheduler job fired compared with its planned time."""
        ...

    def approval_decided(self, seconds: float) -> None:
        """Observe how long a run waited for its approval quorum."""
        ...

    def set_jobs(self, count: int) -> None:
        """Record how many jobs wait in the scheduler."""
        ...


class SpecSource(Protocol):
    """The spec files of a home folder: `schedules/*.yaml` and `runbooks/*` (read, not parsed)."""

    def schedule_files(self) -> list[SourceFile]:
        """Every schedule file, sorted by path; unreadable ones carry their problem."""
        ...

    def runbook_files(self) -> list[SourceFile]:
        """Every runbook file (.yaml, .yml, .json), sorted by path; likewise."""
        ...


class RunbookChecker(Protocol):
    """Chaos Toolkit's own rules for an experiment (chaoslib's validation)."""

    def problems(self, experiment: Mapping[str, Any]) -> list[str]:
        """What chaoslib finds wrong with the experiment; empty when it is valid."""
        ...


class UserGroups(Protocol):
    """Members of chat user groups (Slack `S…` ids), for approval policies."""

    def members(self, group: str) -> frozenset[str]:
        """User ids in the group; empty when the group is unknown or cannot be read."""
        ...


class DeliveryFailed(Exception):
    """A message was not delivered; `retry_after` (seconds) when the far side said so,
    `permanent` when retrying cannot help (e.g. the channel does not exist)."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class MessageSender(Protocol):
    """Posts and edits chat messages (Slack Web API, or the console)."""

    def post(
        self, message: OutgoingMessage, *, thread: str | None, broadcast: bool, key: str
    ) -> str:
        """Post `message` (in `thread` if given); `key` identifies it for deduplication.
        Returns the remote id of the posted message; DeliveryFailed on failure."""
        ...

    def update(self, remote_id: str, message: OutgoingMessage) -> str:
        """Replace the text and blocks of a posted message; DeliveryFailed on failure."""
        ...


class Cluster(Protocol):
    """Pods of the Kubernetes cluster: discovery and termination (the monkey's reach)."""

    def pods_in(self, namespaces: Sequence[str], selector: str | None) -> list[PodFacts]:
        """Pods of these namespaces matching a label selector (server-side), owners
        resolved, in namespace order; Unavailable when the API server cannot be reached
        or fails."""
        ...

    def terminate(
        self, namespace: str, name: str, *, method: str, grace_period: int | None
    ) -> Termination:
        """Evict (default) or delete one pod; a PodDisruptionBudget refusal is a SKIPPED
        outcome with the server's reason, never a fallback to delete."""
        ...


class Notifier(Protocol):
    """Delivers a message to people now (Slack, or the console when Slack is not set up)."""

    def notify(self, message: OutgoingMessage) -> None:
        """Send one message; Unavailable if it cannot be delivered."""
        ...


class VetoGate(Protocol):
    """Waits out a heads-up and reports whether someone vetoed the announced run."""

    def wait_for_veto(self, run_id: int, heads_up: timedelta) -> str | None:
        """Wait up to `heads_up`; the vetoer's name, or None if nobody vetoed."""
        ...
