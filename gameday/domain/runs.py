"""Runs and what is recorded about them: states, kinds, events and outgoing messages.

A run is one occurrence of a schedule (or an ad-hoc request): a GameDay run or a monkey
kill. Its history is an append-only list of events; nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunState(StrEnum):
    """Where a run is in its lifecycle (see gameday.domain.lifecycle for the moves)."""

    PLANNED = "planned"
    ANNOUNCED = "announced"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    RUNNING = "running"
    COMPLETED = "completed"
    DEVIATED = "deviated"
    FAILED = "failed"
    ABORTED = "aborted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"


class RunKind(StrEnum):
    """What a run does: a planned GameDay experiment or a Chaos-Monkey kill."""

    GAMEDAY = "gameday"
    MONKEY = "monkey"


class Decision(StrEnum):
    """An approver's answer to a run that asks for approval."""

    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class NewRun:
    """A run to create; an occurrence (schedule, planned_at) is created at most once.

    Ad-hoc runs have `schedule=None` and are never deduplicated.
    """

    kind: RunKind
    schedule: str | None
    runbook: str | None
    planned_at: datetime
    dry_run: bool = True
    seed: int | None = None
    requester: str | None = None
    runbook_digest: str | None = None
    # The run this one replaces when someone postponed it: re-planning keeps it.
    postponed_from: int | None = None


@dataclass(frozen=True)
class Run:
    """A stored run; times are aware UTC."""

    id: int
    kind: RunKind
    schedule: str | None
    runbook: str | None
    planned_at: datetime
    state: RunState
    dry_run: bool
    seed: int | None
    requester: str | None
    runbook_digest: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RunEvent:
    """One entry of a run's append-only log; `seq` counts from 1 within each run."""

    run_id: int
    seq: int
    at: datetime
    type: str
    actor: str
    payload: Mapping[str, Any] = field(default_factory=dict)


class MessageKind(StrEnum):
    """What a message is to a run's thread, which decides how the outbox delivers it."""

    ANNOUNCEMENT = "announcement"  # starts the run's thread (a later one: a broadcast reply)
    HEADS_UP = "heads_up"  # a monkey kill's heads-up: starts the thread like an announcement
    UPDATE = "update"  # edits the run's first message (chat.update)
    THREAD = "thread"  # a reply in the run's thread
    MESSAGE = "message"  # a message of its own (no run, or a reply like THREAD)


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to deliver through the outbox.

    `thread_of_run` names the run the message is about: the first message about a run
    delivered in a channel starts its thread, later ones are replies in that thread.
    """

    channel: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_of_run: int | None = None
    kind: MessageKind = MessageKind.MESSAGE


@dataclass(frozen=True)
class Approval:
    """One person's decision on a run; a person decides at most once per run."""

    run_id: int
    user: str
    decision: Decision
    at: datetime


@dataclass(frozen=True)
class Note:
    """A free-text remark a person attached to a run (shown in its journal)."""

    run_id: int
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Pause:
    """A paused schedule: who paused it, when and why."""

    schedule: str
    actor: str
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class KillSwitch:
    """The global kill switch and who last changed it."""

    engaged: bool
    actor: str | None = None
    at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    """A queued outgoing message as stored, with its delivery bookkeeping."""

    id: int
    message: OutgoingMessage
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    remote_id: str | None = None
