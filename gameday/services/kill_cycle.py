"""One Chaos-Monkey kill cycle, shared by an interactive kill (`gameday monkey --once`) and a
planned one (`gameday serve`): guards, discovery, selection, the heads-up step, guards
again, termination, and the run's end.

Rules:
- a kill switch or a paused schedule records the run as skipped; both, and the window, are
  checked again after the heads-up, right before anything is terminated, and the kill
  switch again before each pod;
- the mode is decided by the caller (live only when planned live and the service live); a
  dry run never calls `Cluster.terminate`;
- each pod is evicted (or deleted) once; a PodDisruptionBudget refusal is recorded as
  `kill_skipped` with the server's reason and never retried as a delete;
- an API outage fails the run with the error recorded; a pod whose request failed is not
  recorded as killed;
- every end of a run carries its channel's messages when the caller gives `end_messages`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gameday.domain.errors import GamedayError, InvalidInput, Unavailable
from gameday.domain.fire_guards import kill_switch_reason
from gameday.domain.mrkdwn import format_when
from gameday.domain.pods import TerminationOutcome
from gameday.domain.ports import (
    Clock,
    Cluster,
    ControlState,
    Notifier,
    Outbox,
    RunRepository,
    VetoGate,
)
from gameday.domain.run_mode import RunMode
from gameday.domain.runs import OutgoingMessage, Run, RunState
from gameday.domain.selection import Selection, TargetPolicy, select
from gameday.domain.specs import MonkeySpec
from gameday.domain.windows import Window, is_open, next_open
from gameday.services.gatekeeping import GateKeeper
from gameday.services.run_end import EndMessages
from gameday.services.targets import TargetReport, discover_targets, target_policy

ACTOR = "gameday-monkey"
# Decides between the selection and the kill; a report when the kill must not happen.
HeadsUp = Callable[[Selection], "KillReport | None"]


class WindowClosed(GamedayError):
    """A kill asked for outside the schedule's window."""

    exit_code = 4


@dataclass(frozen=True)
class KillReport:
    """What one cycle did; `outcome` is completed, skipped, vetoed or failed."""

    run: Run
    outcome: str
    reason: str
    selection: Selection | None = None
    killed: tuple[dict[str, Any], ...] = ()
    skipped: tuple[dict[str, Any], ...] = ()
    heads_up: timedelta = timedelta(0)
    vetoed_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def kill_seed(plan_seed: int, schedule: str, at: datetime) -> int:
    """The selection seed of a planned kill: every kill of a plan carries the plan's seed,
    and mixing in the schedule and instant gives each its own choice, reproducible from the
    run row."""
    return random.Random(f"{plan_seed}:{schedule}:{int(at.timestamp())}").randrange(2**32)


def describe_time(at: datetime, zone: str) -> str:
    """A time for people: ISO 8601 with offset plus the zone name."""
    return format_when(at, zone)


class KillCycle:
    """The kill cycle over a Cluster, recording runs and events (see the module rules)."""

    def __init__(
        self,
        *,
        cluster: Cluster,
        runs: RunRepository,
        control: ControlState,
        notifier: Notifier,
        veto: VetoGate,
        clock: Clock,
        protected: frozenset[str],
        outbox: Outbox | None = None,
        own_pod: str | None = None,
        live: bool = False,
        default_channel: str = "#gameday",
        seeds: random.Random | None = None,
        end_messages: EndMessages | None = None,
        gates: GateKeeper | None = None,
        targets: frozenset[str] | None = None,
    ) -> None:
        self._cluster = cluster
        self._runs = runs
        self._control = control
        self._notifier = notifier
        self._veto = veto
        self._clock = clock
        # Without it kill_run cannot tell whether anyone saw a heads-up, so it kills nothing.
        self._outbox = outbox
        self._protected = protected
        self._own_pod = own_pod
        self.live = live
        self._default_channel = default_channel
        self._seeds = seeds or random.Random()
        # Tells a planned kill's thread how it ended; None: the caller reports (the CLI).
        self._end_messages = end_messages
        # The health gates a kill must pass before anything is selected.
        self._gates = gates
        # The only namespaces gameday may act in (GAMEDAY_TARGET_NAMESPACES); None: any
        # unprotected one.
        self._targets = targets

    # -- discovery ---------------------------------------------------------------------
    def policy(self, spec: MonkeySpec) -> TargetPolicy:
        """The target rules of a schedule under this service's protections."""
        return target_policy(spec, self._protected, self._own_pod)

    def targets(self, spec: MonkeySpec) -> TargetReport:
        """Candidates and exclusions now; protected namespaces are never even listed."""
        return discover_targets(
            self._cluster, spec, self.policy(spec), self._clock.now(), targets=self._targets
        )

    # -- one kill ----------------------------------------------------------------------
    def _guard(self, spec: MonkeySpec) -> str | None:
        engaged, why = self._control.kill_switch()
        if engaged:
            return kill_switch_reason(why)
        if self._control.is_paused(spec.name):
            return f"schedule {spec.name} is paused"
        return None

    def _refuse_outside(self, spec: MonkeySpec, window: Window, now: datetime) -> None:
        status = is_open(window, now)
        if status.open:
            return
        upcoming = next_open(window, now)
        when = (
            describe_time(upcoming, window.timezone)
            if upcoming is not None
            else "not within the next year"
        )
        raise WindowClosed(
            f"schedule {spec.name} is outside its window {window.name} ({status.reason}); "
            f"next open: {when}"
        )

    def _told(self, run: Run, state: RunState, reason: str) -> Sequence[OutgoingMessage]:
        if self._end_messages is None:
            return ()
        return self._end_messages(run, state.value, reason)

    def _skip(self, run: Run, reason: str, **payload: Any) -> KillReport:
        skipped = self._runs.transition(
            run.id,
            RunState.SKIPPED,
            actor=ACTOR,
            reason=reason,
            payload=payload or None,
            messages=self._told(run, RunState.SKIPPED, reason),
        )
        return KillReport(skipped, "skipped", reason)

    def _cycle(
        self,
        spec: MonkeySpec,
        window: Window,
        run: Run,
        seed: int,
        wait: timedelta,
        heads_up: HeadsUp,
        mode: RunMode,
    ) -> KillReport:
        """Guards, gates, discovery, selection, heads-up (or its check), guards again, kill."""
        if (why := self._guard(spec)) is not None:
            return self._skip(run, why)
        if self._gates is not None and (failure := self._gates.blocking(run)) is not None:
            return self._skip(run, failure.failure(), code="gate")
        now = self._clock.now()
        try:
            report = self.targets(spec)
        except InvalidInput as exc:  # a namespace outside the ones gameday may act in
            return self._skip(run, str(exc), code="targets")
        except Unavailable as exc:
            self._skip(run, f"cluster unavailable: {exc}")
            raise
        selection = select(
            report.candidates,
            kill_mode=spec.kill_mode,
            max_kills=spec.max_kills,
            rng=random.Random(seed),
            seed=seed,
        )
        self._runs.append_event(run.id, "selection", actor=ACTOR, payload=selection.describe(now))
        if not selection.picks:
            return self._skip(run, f"no targets: {selection.explanation}")
        stopped = heads_up(selection)
        if stopped is not None:
            return stopped
        if (why := self._guard(spec)) is not None:
            return self._skip(run, why)
        if not is_open(window, self._clock.now()).open:
            return self._skip(run, f"window {window.name} closed during the heads-up")
        if self._runs.get(run.id).state is not RunState.APPROVED:
            self._runs.transition(
                run.id, RunState.APPROVED, actor=ACTOR, reason="heads-up passed without a veto"
            )
        record = {"dry_run": mode.dry_run, "mode": mode.reason}
        if not self._runs.claim(run.id, actor=ACTOR, dry_run=mode.dry_run, payload=record):
            raise GamedayError(f"run #{run.id} was started by another process")
        run = self._runs.get(run.id)
        return self._terminate(spec, run, selection, wait, live=not mode.dry_run)

    def _vetoed(
        self, run: Run, selection: Selection, wait: timedelta, vetoer: str, state: RunState
    ) -> KillReport:
        self._runs.append_event(
            run.id,
            "vetoed",
            actor=vetoer,
            payload={"vetoer": vetoer, "picks": len(selection.picks)},
        )
        reason = f"vetoed by {vetoer}"
        done = self._runs.transition(
            run.id,
            state,
            actor=vetoer,
            reason=reason,
            messages=self._told(run, state, reason),
        )
        return KillReport(
            done, "vetoed", f"vetoed by {vetoer}", selection, heads_up=wait, vetoed_by=vetoer
        )

    def _terminate(
        self, spec: MonkeySpec, run: Run, selection: Selection, wait: timedelta, *, live: bool
    ) -> KillReport:
        killed: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        for pod in selection.picks:
            facts = {**pod.describe(self._clock.now()), "method": spec.method}
            if not live:
                facts["dry_run"] = True
                self._runs.append_event(run.id, "kill", actor=ACTOR, payload=facts)
                killed.append(facts)
                continue
            if (why := self._guard(spec)) is not None:
                return self._finish(run, selection, killed, skipped, wait, RunState.ABORTED, why)
            try:
                result = self._cluster.terminate(
                    pod.namespace, pod.name, method=spec.method, grace_period=spec.grace_period
                )
            except Unavailable as exc:
                self._runs.append_event(
                    run.id, "kill_failed", actor=ACTOR, payload={**facts, "error": str(exc)}
                )
                self._finish(run, selection, killed, skipped, wait, RunState.FAILED, str(exc))
                raise
            facts["dry_run"] = False
            if result.outcome is TerminationOutcome.TERMINATED:
                if spec.grace_period is not None:
                    facts["grace_period"] = spec.grace_period
                self._runs.append_event(run.id, "kill", actor=ACTOR, payload=facts)
                killed.append(facts)
            else:
                facts.update({"reason": result.reason, "detail": result.detail})
                self._runs.append_event(run.id, "kill_skipped", actor=ACTOR, payload=facts)
                skipped.append(facts)
        summary = f"{len(killed)} pod(s) {'killed' if live else 'would be killed'}"
        if skipped:
            summary += f", {len(skipped)} skipped"
        return self._finish(run, selection, killed, skipped, wait, RunState.COMPLETED, summary)

    def _finish(
        self,
        run: Run,
        selection: Selection,
        killed: Sequence[dict[str, Any]],
        skipped: Sequence[dict[str, Any]],
        wait: timedelta,
        state: RunState,
        reason: str,
    ) -> KillReport:
        done = self._runs.transition(
            run.id,
            state,
            actor=ACTOR,
            reason=reason,
            payload={"killed": len(killed), "skipped": len(skipped), "dry_run": run.dry_run},
            messages=self._told(run, state, reason),
        )
        outcome = {RunState.COMPLETED: "completed", RunState.ABORTED: "aborted"}.get(
            state, "failed"
        )
        return KillReport(
            done, outcome, reason, selection, tuple(killed), tuple(skipped), heads_up=wait
        )
