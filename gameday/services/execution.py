"""Executing GameDays: start a run's worker, watch it to the end, halt every running run
(the kill switch), and recover runs whose worker died.

The processes themselves are behind the `Workers` port; everything recorded goes through
the `RunRepository`, so a run's history is complete whoever stopped it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gameday.domain import execution as ex
from gameday.domain.errors import GamedayError, IllegalTransition, InvalidInput, NotFound
from gameday.domain.execution import WorkerRef
from gameday.domain.lifecycle import is_final
from gameday.domain.ports import Clock, ControlState, RunRepository, Workers
from gameday.domain.runs import NewRun, OutgoingMessage, Run, RunEvent, RunKind, RunState
from gameday.domain.specs import Runbook

HARD_STOP_GRACE = timedelta(seconds=3)
STOP_GRACE = timedelta(seconds=30)
WATCH_TICK = timedelta(milliseconds=100)

# The messages telling a run's channel how it ended: (run, outcome, reason) -> messages.
EndMessages = Callable[[Run, str, str], Sequence[OutgoingMessage]]

# Payload key of an ad-hoc run's approval naming who carries it out: the requester's own
# process (`gameday run`), so a service does not start it as well.
CARRIER = "carrier"
CARRIED_BY_REQUESTER = "requester"


class KillSwitchEngaged(GamedayError):
    """Nothing new starts while the kill switch is engaged."""

    exit_code = 2


@dataclass(frozen=True)
class HaltResult:
    """What a halt did to one run: `signalled` (graceful), `hard_stopped`, `gone` (its
    worker was already dead) or `elsewhere` (another host's), and the state it is in."""

    run_id: int
    action: str
    state: RunState


@dataclass(frozen=True)
class RecoveryResult:
    """What recovery did to one run left `running` by a dead worker."""

    run_id: int
    rollbacks_played: bool
    exit_code: int | None
    state: RunState


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
    engaged, why = control.kill_switch()
    if engaged:
        raise KillSwitchEngaged(
            f"the kill switch is engaged ({why or 'no reason given'}): "
            "nothing new starts until it is released"
        )
    if not dry_run and runbook.extension is not None and runbook.extension.approval is not None:
        raise InvalidInput(
            f"runbook {runbook.name} asks for approval before a live run; "
            f"request one with `/gameday run {runbook.name}` in Slack, or run it dry"
        )
    run = runs.create(
        NewRun(
            kind=RunKind.GAMEDAY,
            schedule=None,
            runbook=runbook.path,
            planned_at=clock.now(),
            dry_run=dry_run,
            requester=requester,
            runbook_digest=runbook.digest,
        ),
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
        run_id, ex.WORKER_LAUNCHED, actor=actor, payload={"host": worker.host, "pid": worker.pid}
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
    itself tells its channel with `end_messages`.
    """
    deadline = clock.now() + timeout
    seen = 0
    stopping = False
    switch_seen = False

    def drain() -> None:
        nonlocal seen
        for event in runs.events(run_id, after_seq=seen):
            seen = event.seq
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
        if control is not None and not switch_seen:
            engaged, why = control.kill_switch()
            if engaged:
                switch_seen = True
                if not ex.count_events(runs.events(run_id), ex.HALT_REQUESTED):
                    reason = f"kill switch engaged: {why or 'no reason given'}"
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


def settle_dead_worker(
    runs: RunRepository, run_id: int, *, actor: str, end_messages: EndMessages | None = None
) -> Run:
    """Record the end of a run whose worker exited without moving it to a final state."""
    run = runs.get(run_id)
    if run.state is not RunState.RUNNING:
        return run
    events = runs.events(run_id)
    stopped = any(e.type in (ex.HALT_REQUESTED, ex.TIMED_OUT) for e in events)
    to = RunState.ABORTED if stopped else RunState.FAILED
    reason = (
        "halted; the worker stopped before it could record the end of the run"
        if stopped
        else "the worker exited without recording the end of the run"
    )
    return end_run(runs, run_id, to, actor=actor, reason=reason, end_messages=end_messages)


def halt_run(runs: RunRepository, workers: Workers, run_id: int, *, actor: str, reason: str) -> str:
    """Ask one running run to stop; returns `signalled`, `hard_stopped`, `gone` (its
    worker is dead) or `elsewhere` (it runs on another host, out of reach of signals from
    here: the supervisor there halts it once it sees the kill switch).

    Rules: a "halt_requested" event (who, why, which attempt) is written before any
    signal; the first halt sends SIGUSR1 (chaoslib interrupts the current activity and
    plays the rollbacks, the run ends `aborted`); a halt of a run already halted is a hard
    stop (SIGTERM, then SIGKILL), recorded with a "hard_stopped" event. Does not wait.
    """
    events = runs.events(run_id)
    attempt = ex.count_events(events, ex.HALT_REQUESTED) + 1
    worker = ex.worker_of(events)
    runs.append_event(
        run_id,
        ex.HALT_REQUESTED,
        actor=actor,
        payload={"reason": reason, "attempt": attempt, "hard": attempt > 1},
    )
    if worker is None:
        return "gone"
    alive = workers.is_alive(worker, run_id)
    if alive is None:
        return "elsewhere"  # its own supervisor halts it when it sees the kill switch
    if not alive:
        return "gone"
    if attempt == 1:
        return "signalled" if workers.halt(worker, run_id) else "gone"
    workers.hard_stop(worker, run_id, grace=HARD_STOP_GRACE)
    runs.append_event(
        run_id, ex.HARD_STOPPED, actor=actor, payload={"pid": worker.pid, "host": worker.host}
    )
    return "hard_stopped"


def halt_running(
    runs: RunRepository,
    workers: Workers,
    *,
    actor: str,
    reason: str,
    wait: timedelta = ex.DEFAULT_HALT_WAIT,
    end_messages: EndMessages | None = None,
) -> list[HaltResult]:
    """Stop every running run (the kill switch's halt); see `halt_run` for each run.

    Rules: waits up to `wait` for the signalled workers to exit (chaoslib plays the
    rollbacks first); a run whose worker is gone without having recorded an end is set
    `aborted` here, so every halted run is recorded either way. A run still rolling back
    when `wait` ends is reported in its current state (`running`).
    """
    actions = {
        run.id: halt_run(runs, workers, run.id, actor=actor, reason=reason)
        for run in runs.in_state(RunState.RUNNING)
    }
    waiting = [
        (worker, run_id)
        for run_id, action in actions.items()
        if action == "signalled" and (worker := ex.worker_of(runs.events(run_id))) is not None
    ]
    if waiting:
        workers.wait_gone(waiting, wait)
    results: list[HaltResult] = []
    for run_id, action in actions.items():
        worker = ex.worker_of(runs.events(run_id))
        alive = worker is not None and workers.is_alive(worker, run_id) is not False
        run = (
            runs.get(run_id)
            if alive
            else settle_dead_worker(runs, run_id, actor=actor, end_messages=end_messages)
        )
        results.append(HaltResult(run_id=run_id, action=action, state=run.state))
    return results


def recover_runs(
    runs: RunRepository,
    workers: Workers,
    *,
    actor: str,
    rollback_timeout: timedelta = ex.DEFAULT_TIMEOUT,
    end_messages: EndMessages | None = None,
) -> list[RecoveryResult]:
    """Find runs left `running` by a dead worker, play their rollbacks once, and mark them
    `interrupted`.

    Rules: a run whose worker is alive, or runs on another host, is left alone; a run
    with no worker recorded at all is recovered too (its worker never got going).
    "recovery_started" is written before the rollbacks and "recovery_finished" after, and
    rollbacks are not played again when a recovery already finished or the worker had
    finished the experiment (its rollbacks included). Events already written are kept.
    With `end_messages`, the run's channel is told in the same transaction as the move to
    `interrupted`; a run that already ended (its worker ended it) is not recovered at all.
    """
    results: list[RecoveryResult] = []
    for run in runs.in_state(RunState.RUNNING):
        if run.kind is RunKind.MONKEY:
            # A kill has no runbook and nothing to roll back: the pods' controllers
            # replace them. Record what is known and play nothing.
            final = end_run(
                runs,
                run.id,
                RunState.INTERRUPTED,
                actor=actor,
                reason="the service died during this monkey kill; its kill events say which "
                "pods were terminated, and terminations have no rollback",
                end_messages=end_messages,
            )
            results.append(RecoveryResult(run.id, False, None, final.state))
            continue
        events = runs.events(run.id)
        worker = ex.worker_of(events)
        if worker is not None and workers.is_alive(worker, run.id) is not False:
            continue
        dead = f"pid {worker.pid} on {worker.host}" if worker else "no worker recorded"
        exit_code: int | None = None
        played = ex.recovery_action(events) == "rollback"
        if played:
            attempt = ex.count_events(events, ex.RECOVERY_STARTED) + 1
            runs.append_event(
                run.id,
                ex.RECOVERY_STARTED,
                actor=actor,
                payload={"worker": dead, "attempt": attempt},
            )
            exit_code = workers.run_rollbacks(run.id, timeout=rollback_timeout)
            runs.append_event(
                run.id,
                ex.RECOVERY_FINISHED,
                actor=actor,
                payload={"exit_code": exit_code, "rollbacks_ok": exit_code == 0},
            )
        what = (
            "recovery played the runbook's rollbacks"
            if played
            else "its rollbacks had already been played, so recovery did not repeat them"
        )
        if played and exit_code != 0:
            what = (
                "recovery played the runbook's rollbacks, which did not all succeed "
                f"(exit {exit_code})"
            )
        final = end_run(
            runs,
            run.id,
            RunState.INTERRUPTED,
            actor=actor,
            reason=f"the worker died mid-run ({dead}); {what}",
            end_messages=end_messages,
        )
        results.append(
            RecoveryResult(
                run_id=run.id, rollbacks_played=played, exit_code=exit_code, state=final.state
            )
        )
    return results


def end_run(
    runs: RunRepository,
    run_id: int,
    to: RunState,
    *,
    actor: str,
    reason: str,
    payload: Mapping[str, Any] | None = None,
    end_messages: EndMessages | None = None,
) -> Run:
    """Move a running run to its final state `to`; return the run as it then stands.

    Rules: the run's channel is told how it ended, with `end_messages` queued in the same
    transaction as the move. Another process (the worker finishing late, a second
    supervisor, recovery) may have ended the run first: then its state stands and this one
    is dropped, messages included.
    """
    messages: Sequence[OutgoingMessage] = ()
    if end_messages is not None:
        try:
            messages = end_messages(runs.get(run_id), to.value, reason)
        except GamedayError:
            messages = ()  # the run's end is recorded even when its channel is unknown
    try:
        return runs.transition(
            run_id, to, actor=actor, reason=reason, payload=payload, messages=messages
        )
    except (IllegalTransition, NotFound):
        return runs.get(run_id)
