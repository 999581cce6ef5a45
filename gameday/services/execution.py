"""Executing GameDays: record an ad-hoc run, start a run's worker and watch it to the end
(kill switch, time limit). Halting is `halting`, recovery `recovery`, ending `run_end`.

The processes themselves are behind the `Workers` port; everything recorded goes through
the `RunRepository`, so a run's history is complete whoever stopped it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from gameday.domain import execution as ex
from gameday.domain.drills import DRILL_RESOLVED
from gameday.domain.errors import GamedayError, IllegalTransition, InvalidInput
from gameday.domain.execution import WorkerRef
from gameday.domain.fire_guards import kill_switch_reason, kill_switch_refusal
from gameday.domain.lifecycle import is_final
from gameday.domain.ports import Clock, ControlState, RunRepository, Workers
from gameday.domain.run_policy import approval_for
from gameday.domain.runs import NewRun, OutgoingMessage, Run, RunEvent, RunKind, RunState
from gameday.domain.specs import Runbook
from gameday.services.halting import HARD_STOP_GRACE, halt_run
from gameday.services.run_end import EndMessages, end_run, settle_dead_worker

STOP_GRACE = timedelta(seconds=30)
WATCH_TICK = timedelta(milliseconds=100)

# Payload key of an ad-hoc run's approval naming who carries it out: the requester's own
# process (`gameday run`), so a service does not start it as well.
CARRIER = "carrier"
CARRIED_BY_REQUESTER = "requester"


class KillSwitchEngaged(GamedayError):
    """Nothing new starts while the kill switch is engaged."""

    exit_code = 2


def refuse_if_halted(control: ControlState) -> None:
    """KillSwitchEngaged (with the reason) while the kill switch is engaged."""
    engaged, why = control.kill_switch()
    if engaged:
        raise KillSwitchEngaged(kill_switch_refusal(why))


def adhoc_run(runbook: Runbook, *, requester: str, dry_run: bool, now: datetime) -> NewRun:
    """An ad-hoc run of `runbook` requested now: no schedule, the runbook's path and
    digest recorded so exactly this file is what runs."""
    return NewRun(
        kind=RunKind.GAMEDAY,
        schedule=None,
        runbook=runbook.path,
        planned_at=now,
        dry_run=dry_run,
        requester=requester,
        runbook_digest=runbook.digest,
    )


def request_adhoc_run(
    runs: RunRepository,
    control: ControlState,
    clock: Clock,
    *,
    runbook: Runbook,
    dry_run: bool,
    requester: str,
) -> Run:
    """Record an ad-hoc run of a runbook (no schedule), approved and ready to start.

    Rules: refused while the kill switch is engaged; a live run of a runbook whose
    `gameday` extension asks for approval is refused here (it must be approved first, in
    Slack); a dry run needs no approval since it touches nothing. The run records the
    runbook's path and digest, so exactly this file is what runs.
    """
    refuse_if_halted(control)
    if not dry_run and approval_for(None, runbook) is not None:
        raise InvalidInput(
            f"runbook {runbook.name} asks for approval before a live run; "
            f"request one with `/gameday run {runbook.name}` in Slack, or run it dry"
        )
    run = runs.create(
        adhoc_run(runbook, requester=requester, dry_run=dry_run, now=clock.now()),
        actor=requester,
        reason="ad-hoc run",
    )
    why_approved = "a dry run touches nothing" if dry_run else "the runbook asks for no approval"
    # The requester's own process carries this run out; a service must not start it.
    return runs.transition(
        run.id,
        RunState.APPROVED,
        actor=requester,
        reason=f"no approval needed: {why_approved}",
        payload={CARRIER: CARRIED_BY_REQUESTER},
    )


def timeout_of(runbook: Runbook) -> timedelta:
    """A run's time limit: the runbook's `gameday` extension `timeout`, else 30 minutes."""
    return runbook.extension.timeout if runbook.extension is not None else ex.DEFAULT_TIMEOUT


def start_run(
    runs: RunRepository,
    workers: Workers,
    run_id: int,
    *,
    actor: str,
    options: Mapping[str, Any] | None = None,
    dry_run: bool | None = None,
    record: Mapping[str, Any] | None = None,
    messages: Sequence[OutgoingMessage] = (),
    end_messages: EndMessages | None = None,
) -> WorkerRef:
    """Claim an approved run (approved -> running, once) and launch its worker.

    Rules: the claim records the mode the run really runs in (`dry_run`), the start
    `record` (why that mode, the brief its messages use) and queues `messages`, all in
    one transaction; `options` (configuration overrides such as `--var`) are recorded
    before the worker starts, so it and any later recovery read the same values; the
    worker's pid and host are recorded as soon as it is launched; a worker that cannot be
    launched leaves the run `failed` with the reason (and its end messages).
    """
    if not runs.claim(run_id, actor=actor, dry_run=dry_run, payload=record, messages=messages):
        state = runs.get(run_id).state
        raise IllegalTransition(f"run {run_id} cannot start: it is {state.value}, not approved")
    runs.append_event(run_id, ex.RUN_OPTIONS, actor=actor, payload=dict(options or {}))
    try:
        worker = workers.launch(run_id)
    except OSError as exc:
        end_run(
            runs,
            run_id,
            RunState.FAILED,
            actor=actor,
            reason=f"the worker could not start: {exc}",
            end_messages=end_messages,
        )
        raise
    runs.append_event(
        run_id,
        ex.WORKER_LAUNCHED,
        actor=actor,
        payload={"host": worker.host, "pid": worker.pid, "started": worker.started},
    )
    return worker


def watch_run(
    runs: RunRepository,
    workers: Workers,
    clock: Clock,
    run_id: int,
    *,
    timeout: timedelta,
    actor: str,
    stop_grace: timedelta = STOP_GRACE,
    control: ControlState | None = None,
    on_event: Callable[[RunEvent], None] = lambda _event: None,
    end_messages: EndMessages | None = None,
) -> Run:
    """Follow a running run until its worker exits; return the run as it ended.

    Rules: every new event is passed to `on_event` in order. When `timeout` passes, a
    "timed_out" event is written and the worker is halted like a halt does (SIGUSR1: the
    rollbacks play, the run ends `aborted`); if it is still running `stop_grace` later it
    is hard-stopped (SIGTERM, then SIGKILL). A worker that exits without recording an end
    leaves the run `aborted` (it was halted or timed out) or `failed`, with the reason.
    With `control`, the kill switch is watched too: once engaged, the run is halted (as
    `halt_run` does) unless a halt was already asked for. A run this watch has to end
    itself tells its channel with `end_messages`. A drill's first `drill_resolved` event
    asks the worker to end the method (`Workers.resolve`), once.
    """
    deadline = clock.now() + timeout
    seen = 0
    stopping = False
    switch_seen = False
    resolve = "none"  # none -> asked (an event says so) -> sent (the worker was told)

    def drain() -> None:
        nonlocal seen, resolve
        for event in runs.events(run_id, after_seq=seen):
            seen = event.seq
            if event.type == DRILL_RESOLVED and resolve == "none":
                resolve = "asked"
            on_event(event)

    while True:
        drain()
        run = runs.get(run_id)
        worker = ex.worker_of(runs.events(run_id))
        alive = worker is not None and workers.is_alive(worker, run_id) is not False
        if not alive:
            if not is_final(run.state):
                run = settle_dead_worker(runs, run_id, actor=actor, end_messages=end_messages)
                drain()
            return run
        assert worker is not None
        if resolve == "asked":
            resolve = "sent"
            workers.resolve(worker, run_id)
        if control is not None and not switch_seen:
            engaged, why = control.kill_switch()
            if engaged:
                switch_seen = True
                if not ex.count_events(runs.events(run_id), ex.HALT_REQUESTED):
                    reason = kill_switch_reason(why)
                    halt_run(runs, workers, run_id, actor=actor, reason=reason)
        if clock.now() >= deadline:
            if not stopping:
                stopping = True
                runs.append_event(
                    run_id,
                    ex.TIMED_OUT,
                    actor=actor,
                    payload={"timeout_seconds": timeout.total_seconds()},
                )
                workers.halt(worker, run_id)
                deadline = clock.now() + stop_grace
            else:
                workers.hard_stop(worker, run_id, grace=HARD_STOP_GRACE)
                runs.append_event(
                    run_id,
                    ex.HARD_STOPPED,
                    actor=actor,
                    payload={"pid": worker.pid, "host": worker.host, "after": "timeout"},
                )
                continue
        workers.wait_gone([(worker, run_id)], WATCH_TICK)
