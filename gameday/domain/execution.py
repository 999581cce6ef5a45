"""What executing a GameDay records and decides, without doing any of it.

The worker process writes events with the names below; the supervisor and recovery read
them back to decide what to do (which process runs a run, whether a halt was already
asked for, whether rollbacks already ran). Also here: the runbook's execution settings
(time limit, rollback strategy) and its digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from gameday.domain.errors import InvalidInput
from gameday.domain.runs import RunEvent

WORKER_ACTOR = "worker"  # who a worker process records its events as

# Event types written while a run executes (besides the repository's own
# "created"/"state_changed").
RUN_OPTIONS = "run_options"  # configuration overrides (--var) for the worker
WORKER_LAUNCHED = "worker_launched"  # the supervisor started a worker: pid, host
WORKER_STARTED = "worker_started"  # the worker is up: pid, host, dry run, versions
EXPERIMENT_STARTED = "experiment_started"
STEADY_STATE_STARTED = "steady_state_started"
STEADY_STATE_FINISHED = "steady_state_finished"
METHOD_STARTED = "method_started"
METHOD_FINISHED = "method_finished"
ACTIVITY_STARTED = "activity_started"
ACTIVITY_FINISHED = "activity_finished"
DEVIATED = "deviated"
STEADY_STATE_NOT_MET = "steady_state_not_met"  # before the method: it never ran
ROLLBACK_STARTED = "rollback_started"
ROLLBACK_FINISHED = "rollback_finished"
ROLLBACK_SKIPPED = "rollback_skipped"  # recovery of a runbook whose strategy is `never`
INTERRUPTED = "interrupted"
FINISHED = "finished"  # chaoslib finished, rollbacks included
WORKER_FAILED = "worker_failed"  # the runbook could not be run at all
HALT_REQUESTED = "halt_requested"
HARD_STOPPED = "hard_stopped"
TIMED_OUT = "timed_out"
RECOVERY_STARTED = "recovery_started"
RECOVERY_FINISHED = "recovery_finished"
SUPERVISOR_LOST = "supervisor_lost"  # the worker's supervisor died: pid, host
WATCH_FAILED = "watch_failed"  # the supervisor could not go on watching the run: error
REQUEST_REFUSED = "request_refused"  # the request guard refused a Kubernetes request
CONTROLS_SKIPPED = "controls_skipped"  # a dry run executes no Chaos Toolkit controls
GATE_EVALUATED = "gate_evaluated"  # one health gate evaluated: result, observed, reason
STOP_CONDITION = "stop_condition"  # a stop condition breached: gate, observed, bound

# Events that show someone (or the time limit) asked for the run to stop.
STOP_REQUESTS = frozenset({HALT_REQUESTED, TIMED_OUT})

RollbackStrategy = Literal["default", "always", "never", "deviated"]
ROLLBACK_STRATEGIES: tuple[RollbackStrategy, ...] = ("default", "always", "never", "deviated")
DEFAULT_ROLLBACK_STRATEGY: RollbackStrategy = "always"
DEFAULT_TIMEOUT = timedelta(minutes=30)
DEFAULT_HALT_WAIT = timedelta(seconds=5)


@dataclass(frozen=True)
class WorkerRef:
    """The process running a run: its pid on a host, and when that process started (in
    the host's clock ticks since boot, None when unknown) so a reused pid is never taken
    for the worker."""

    host: str
    pid: int
    started: int | None = None


def worker_of(events: Sequence[RunEvent]) -> WorkerRef | None:
    """The last worker recorded for a run (launched or started), or None."""
    for event in reversed(events):
        if event.type in (WORKER_STARTED, WORKER_LAUNCHED):
            host, pid = event.payload.get("host"), event.payload.get("pid")
            started = event.payload.get("started")
            if isinstance(host, str) and isinstance(pid, int):
                return WorkerRef(host, pid, started if isinstance(started, int) else None)
    return None


def start_record(events: Sequence[RunEvent]) -> Mapping[str, Any] | None:
    """The payload of the run's move to `running` (its mode and thread), or None."""
    for event in reversed(events):
        if event.type == "state_changed" and event.payload.get("to") == "running":
            return event.payload
    return None


def skip_reason(events: Sequence[RunEvent]) -> str | None:
    """Why the run was skipped (a failed gate, the kill switch, ...), or None if it was not."""
    for event in reversed(events):
        if event.type == "state_changed" and event.payload.get("to") == "skipped":
            reason = event.payload.get("reason")
            return str(reason) if reason else "skipped"
    return None


def last_stop_request(events: Sequence[RunEvent]) -> RunEvent | None:
    """The first halt or time limit that asked the run to stop, or None."""
    return next((e for e in events if e.type in STOP_REQUESTS), None)


def describe_stop(event: RunEvent) -> str:
    """Why a run was stopped, for its end: `halted by X: reason` or the time limit."""
    if event.type == TIMED_OUT:
        seconds = event.payload.get("timeout_seconds")
        limit = f" of {int(seconds)}s" if isinstance(seconds, int | float) else ""
        return f"stopped by its time limit{limit}"
    why = event.payload.get("reason")
    return f"halted by {event.actor}" + (f": {why}" if why else "")


def count_events(events: Sequence[RunEvent], type_: str) -> int:
    """How many events of one type a run has."""
    return sum(1 for event in events if event.type == type_)


def last_payload(events: Sequence[RunEvent], type_: str) -> Mapping[str, Any] | None:
    """The payload of the latest event of one type, or None."""
    for event in reversed(events):
        if event.type == type_:
            return event.payload
    return None


RecoveryAction = Literal["rollback", "mark_only"]


def recovery_action(events: Sequence[RunEvent]) -> RecoveryAction:
    """Whether recovering a dead run must still play its rollbacks.

    Rules: rollbacks run at most once. Not again when a recovery already finished, nor
    when the worker itself got to the end of the experiment (chaoslib's "finished" comes
    after its rollbacks). A recovery that started but never finished is played again.
    """
    if count_events(events, RECOVERY_FINISHED) or count_events(events, FINISHED):
        return "mark_only"
    return "rollback"


def gameday_extension(experiment: Mapping[str, Any]) -> Mapping[str, Any]:
    """The runbook's `gameday` entry of `extensions`, or an empty mapping."""
    extensions = experiment.get("extensions")
    if isinstance(extensions, list):
        for entry in extensions:
            if isinstance(entry, Mapping) and entry.get("name") == "gameday":
                return entry
    return {}


def rollback_strategy_for(experiment: Mapping[str, Any]) -> RollbackStrategy:
    """The rollback strategy a run of this runbook uses.

    Rules: the gameday extension's `rollback_strategy` if given, else the runbook's own
    `runtime.rollbacks.strategy`, else `always` (a halted, failed or deviated GameDay must
    not leave its fault in place, unlike chaoslib's `default`). InvalidInput otherwise.
    """
    chosen: Any = gameday_extension(experiment).get("rollback_strategy")
    if chosen is None:
        runtime = experiment.get("runtime")
        if isinstance(runtime, Mapping):
            rollbacks = runtime.get("rollbacks")
            if isinstance(rollbacks, Mapping):
                chosen = rollbacks.get("strategy")
    if chosen is None:
        return DEFAULT_ROLLBACK_STRATEGY
    for strategy in ROLLBACK_STRATEGIES:
        if chosen == strategy:
            return strategy
    raise InvalidInput(
        f"invalid rollback strategy {chosen!r}: expected one of {', '.join(ROLLBACK_STRATEGIES)}"
    )


def runbook_digest(content: bytes) -> str:
    """The digest recorded with a run, so the worker runs exactly the file that was
    planned and approved: the hex SHA-256 of the file's bytes (as the catalog computes)."""
    return hashlib.sha256(content).hexdigest()


def digest_matches(recorded: str | None, content: bytes) -> bool:
    """True when no digest was recorded or the file still has it (bare hex accepted)."""
    if not recorded:
        return True
    actual = runbook_digest(content)
    return recorded.removeprefix("sha256:") == actual
