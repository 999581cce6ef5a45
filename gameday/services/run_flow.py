"""A run's flow, from its start to its end, for every entry point and every kind of run.

`gameday serve` (scheduled and ad-hoc runs), `gameday run` and a Slack request all carry a
run out through `RunFlow.carry`, so no path drops a piece of it:

1. fire-time guard: the kill switch is read again at the last moment (a run the switch
   catches here ends `skipped`, its channel told);
2. mode: live only when the run was planned live *and* this service is live now
   (`decide_mode`); the reason is recorded with the start;
3. start: the claim (approved -> running), the mode, the brief the run's messages use and
   the start messages (the announcement gets a Halt button) in one transaction; then the
   worker is launched;
4. watch: every event in order; notable ones (halt, time limit, deviation, rollbacks,
   refused requests) get a line in the run's thread; the kill switch and the time limit
   halt the run with its rollbacks; a worker that dies without recording an end is ended
   here, its channel told;
5. end: the worker ends the run with its outcome messages; if watching fails (a database
   error, a bug) the worker is released: it interrupts its own run with rollbacks and
   ends it `interrupted`, so no worker ever runs unsupervised.

A monkey kill goes through the same door: its mode is decided the same way and the kill
itself is `PlannedKills` (guards, heads-up check, veto, termination).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from gameday.domain import execution as ex
from gameday.domain.drills import RECORD_KEY as DRILL_RECORD_KEY
from gameday.domain.drills import DrillSpec
from gameday.domain.errors import GamedayError, IllegalTransition
from gameday.domain.execution import WorkerRef
from gameday.domain.fire_guards import kill_switch_reason
from gameday.domain.gates import GateResult
from gameday.domain.lifecycle import is_final
from gameday.domain.messages import brief_snapshot
from gameday.domain.ports import (
    Clock,
    ControlState,
    MetricsSink,
    Outbox,
    RunRepository,
    Workers,
)
from gameday.domain.run_mode import RunMode, decide_mode
from gameday.domain.runs import OutgoingMessage, Run, RunEvent, RunKind, RunState
from gameday.services import execution, halting, recovery, run_end
from gameday.services.gatekeeping import GateKeeper
from gameday.services.run_updates import RunUpdates
from gameday.services.stop_conditions import StopConditionWatch

log = logging.getLogger("gameday.runs")

OnEvent = Callable[[RunEvent], None]


class KillCarrier(Protocol):
    """Carries out one monkey kill in the mode the flow decided (see PlannedKills)."""

    def carry(self, run: Run, mode: RunMode) -> Run:
        """Kill (or not) and return the run as it ended."""
        ...


@dataclass(frozen=True)
class FlowOptions:
    """How a flow treats its runs: `live` is this service's mode, `actor` who it acts as,
    `stop_grace` how long a halted worker gets before it is stopped hard."""

    live: bool
    actor: str
    stop_grace: timedelta = execution.STOP_GRACE


class RunFlow:
    """The one owner of a run's flow (see the module docstring)."""

    def __init__(
        self,
        *,
        runs: RunRepository,
        control: ControlState,
        workers: Workers,
        clock: Clock,
        options: FlowOptions,
        timeout_of: Callable[[Run], timedelta],
        outbox: Outbox | None = None,
        updates: RunUpdates | None = None,
        kills: KillCarrier | None = None,
        gates: GateKeeper | None = None,
        metrics: MetricsSink | None = None,
        drill_of: Callable[[Run], DrillSpec | None] | None = None,
    ) -> None:
        self._runs = runs
        self._control = control
        self._workers = workers
        self._clock = clock
        self._options = options
        self._timeout_of = timeout_of
        # Without an outbox and updates the flow tells no channel (a CLI without Slack).
        self._outbox = outbox
        self._updates = updates if outbox is not None else None
        self._kills = kills
        self._gates = gates
        self._metrics = metrics
        self._drill_of = drill_of

    @property
    def live(self) -> bool:
        """Whether this service sends mutating requests at all."""
        return self._options.live

    # -- the whole flow ------------------------------------------------------------------
    def carry(
        self,
        run: Run,
        *,
        actor: str | None = None,
        options: Mapping[str, Any] | None = None,
        on_event: OnEvent | None = None,
    ) -> Run:
        """Carry an approved run out to its end and return it as it ended."""
        mode = self.mode_of(run)
        if run.kind is RunKind.MONKEY:
            if self._kills is None:
                raise GamedayError(f"run #{run.id} is a monkey kill; this build cannot kill")
            return self._kills.carry(run, mode)
        who = actor or self._options.actor
        if self.start(run, actor=who, options=options) is None:
            return self._runs.get(run.id)
        return self.watch(run.id, actor=who, on_event=on_event)

    def mode_of(self, run: Run) -> RunMode:
        """The mode `run` runs in if this service starts it now."""
        return decide_mode(planned_dry_run=run.dry_run, service_live=self._options.live)

    # -- start ---------------------------------------------------------------------------
    def start(
        self, run: Run, *, actor: str, options: Mapping[str, Any] | None = None
    ) -> WorkerRef | None:
        """Guard, decide the mode, claim and launch (see the module docstring); None when
        the kill switch stopped the run at the last moment (it is then `skipped`)."""
        engaged, why = self._control.kill_switch()
        if engaged:
            self._skip(run, kill_switch_reason(why), actor, code="kill_switch")
            return None
        if self._gates is not None and (failure := self._gates.blocking(run)) is not None:
            self._skip(run, failure.failure(), actor, code="gate")
            return None
        mode = self.mode_of(run)
        as_run = replace(run, dry_run=mode.dry_run, state=RunState.RUNNING)
        record: dict[str, Any] = {"dry_run": mode.dry_run, "mode": mode.reason, "thread": None}
        # A drill's settings travel with its start, like its brief: the worker, acks,
        # alerts and the outcome read them there, whatever the specs say later.
        drill = self._drill_of(run) if self._drill_of is not None else None
        if drill is not None:
            record[DRILL_RECORD_KEY] = drill.to_json()
        messages: list[OutgoingMessage] = []
        if self._updates is not None:
            info = self._updates.briefing(as_run)
            record["thread"] = brief_snapshot(info.brief, info.channel)
            messages = self._updates.messages_for_start(as_run, mode)
        log.info(
            "starting run %s (%s)", run.id, mode.label, extra={"run_id": run.id, "mode": mode.label}
        )
        return execution.start_run(
            self._runs,
            self._workers,
            run.id,
            actor=actor,
            options=options,
            dry_run=mode.dry_run,
            record=record,
            messages=messages,
            end_messages=self.end_messages,
        )

    def _skip(self, run: Run, reason: str, actor: str, *, code: str) -> None:
        try:
            self._runs.transition(
                run.id,
                RunState.SKIPPED,
                actor=actor,
                reason=reason,
                payload={"code": code},
                messages=self.end_messages(run, RunState.SKIPPED.value, reason),
            )
        except IllegalTransition as exc:
            log.info("run %s: %s", run.id, exc, extra={"run_id": run.id})

    # -- watch ---------------------------------------------------------------------------
    def watch(self, run_id: int, *, actor: str, on_event: OnEvent | None = None) -> Run:
        """Follow a running run to its end (kill switch, time limit, notable events in its
        thread); if following it fails, release its worker (see the module docstring)."""
        run = self._runs.get(run_id)

        def seen(event: RunEvent) -> None:
            self._tell(run, event)
            if on_event is not None:
                on_event(event)

        watch = self._stop_conditions(run, actor)
        try:
            return execution.watch_run(
                self._runs,
                self._workers,
                self._clock,
                run_id,
                timeout=self._timeout_of(run),
                actor=actor,
                stop_grace=self._options.stop_grace,
                control=self._control,
                on_event=seen,
                end_messages=self.end_messages,
            )
        except Exception as exc:
            log.exception("run %s: watching it failed; releasing its worker", run_id)
            return self._release(run_id, actor, exc)
        finally:
            if watch is not None:
                watch.stop()

    def _stop_conditions(self, run: Run, actor: str) -> StopConditionWatch | None:
        """Poll the run's stop conditions; a breach halts it as the kill switch does."""
        if self._gates is None:
            return None
        gates = self._gates.stop_conditions(run)
        if not gates:
            return None

        def breached(result: GateResult) -> None:
            payload = {**result.as_dict(), "gate": result.gate}
            self._runs.append_event(run.id, ex.STOP_CONDITION, actor=actor, payload=payload)
            if self._metrics is not None:
                self._metrics.stop_condition(result.gate)
            log.warning("run %s: stop condition %s", run.id, result.failure())
            halting.halt_run(
                self._runs,
                self._workers,
                run.id,
                actor=actor,
                reason=f"stop condition breached: {result.failure()}",
            )

        return StopConditionWatch(self._gates, run.id, gates, breached).start()

    def _tell(self, run: Run, event: RunEvent) -> None:
        # The worker queues the lines about its own events with them (in order, and even
        # when nobody watches); the flow tells of the rest (halts, the time limit).
        if self._updates is None or self._outbox is None or event.actor == ex.WORKER_ACTOR:
            return
        messages = self._updates.messages_for_event(run, event)
        if messages:
            self._outbox.enqueue(messages)

    def _release(self, run_id: int, actor: str, error: Exception) -> Run:
        """The watch failed: let the worker interrupt its run itself (rollbacks play, the
        run ends `interrupted`), stop it hard if it does not, and return the run."""
        text = f"{type(error).__name__}: {error}"
        worker: WorkerRef | None = None
        try:
            events = self._runs.events(run_id)
            worker = ex.worker_of(events)
            self._runs.append_event(run_id, ex.WATCH_FAILED, actor=actor, payload={"error": text})
        except Exception:
            log.exception("run %s: could not record that its watch failed", run_id)
        if worker is None:
            raise error
        self._workers.release(worker, run_id)
        self._workers.wait_gone([(worker, run_id)], self._options.stop_grace)
        if self._workers.is_alive(worker, run_id):
            self._workers.hard_stop(worker, run_id, grace=halting.HARD_STOP_GRACE)
        run = self._runs.get(run_id)
        if is_final(run.state):
            return run
        return run_end.end_run(
            self._runs,
            run_id,
            RunState.INTERRUPTED,
            actor=actor,
            reason=f"the service could no longer watch the run ({text}); its worker was "
            "released and interrupted it",
            end_messages=self.end_messages,
        )

    # -- halt and recovery ---------------------------------------------------------------
    def halt(self, run_id: int, *, actor: str, reason: str) -> str:
        """Ask one running run to stop with its rollbacks (see `halting.halt_run`)."""
        return halting.halt_run(self._runs, self._workers, run_id, actor=actor, reason=reason)

    def halt_runs(self, run_ids: Sequence[int], *, reason: str) -> list[str]:
        """Halt these runs (this service is shutting down, say); what each halt did."""
        return [self.halt(i, actor=self._options.actor, reason=reason) for i in run_ids]

    def halt_running(self, *, actor: str, reason: str) -> list[halting.HaltResult]:
        """Halt every running run this host can reach and wait briefly for them."""
        return halting.halt_running(
            self._runs, self._workers, actor=actor, reason=reason, end_messages=self.end_messages
        )

    def recover(self) -> list[recovery.RecoveryResult]:
        """Runs left `running` by a dead worker: rollbacks once, then `interrupted`."""
        return recovery.recover_runs(
            self._runs, self._workers, actor=self._options.actor, end_messages=self.end_messages
        )

    # -- messages ------------------------------------------------------------------------
    def end_messages(self, run: Run, outcome: str, reason: str) -> Sequence[OutgoingMessage]:
        """How the run's channel is told the run ended (nothing without a channel)."""
        if self._updates is None:
            return ()
        return self._updates.end_messages(run, outcome, reason)
