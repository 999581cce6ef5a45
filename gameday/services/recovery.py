"""Recovering runs left `running` by a dead worker: rollbacks played once, then the run
ends `interrupted`, its channel told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gameday.domain import execution as ex
from gameday.domain.ports import RunRepository, Workers
from gameday.domain.runs import RunKind, RunState
from gameday.services.run_end import EndMessages, end_run


@dataclass(frozen=True)
class RecoveryResult:
    """What recovery did to one run left `running` by a dead worker."""

    run_id: int
    rollbacks_played: bool
    exit_code: int | None
    state: RunState


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
