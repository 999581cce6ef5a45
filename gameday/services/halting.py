"""Halting runs: one run (SIGUSR1, then a hard stop on a second halt) or every running run
this host can reach (the kill switch's halt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gameday.domain import execution as ex
from gameday.domain.ports import RunRepository, Workers
from gameday.domain.runs import RunState
from gameday.services.run_end import EndMessages, settle_dead_worker

HARD_STOP_GRACE = timedelta(seconds=3)


@dataclass(frozen=True)
class HaltResult:
    """What a halt did to one run: `signalled` (graceful), `hard_stopped`, `gone` (its
    worker was already dead) or `elsewhere` (another host's), and the state it is in."""

    run_id: int
    action: str
    state: RunState


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
