"""One Chaos-Monkey kill cycle: guards, discovery, selection, heads-up, veto, termination.

Rules:
- outside the schedule's window the cycle is refused (WindowClosed names the next open
  time) and nothing is recorded;
- a kill switch or a paused schedule records the run as skipped; both, and the window, are
  checked again after the heads-up, right before anything is terminated;
- a kill the scheduler planned, announced and approved (`kill_run`, for `gameday serve`)
  goes through the same cycle without a second heads-up: it is skipped when no heads-up
  was announced or the announcement came too late to wait out, and a veto recorded during
  the heads-up skips it with the vetoer named (the run is already approved, so it cannot
  become rejected);
- a planned kill also needs its heads-up message to have left the outbox (delivered to
  Slack or printed) at least `heads_up` less HEADS_UP_SLACK before the kill: undelivered
  (a Slack outage) or delivered late, it is skipped, since nobody could have vetoed it;
- the dry-run decision is made here: a dry run never calls `Cluster.terminate`;
- each pod is evicted (or deleted) once; a PodDisruptionBudget refusal is recorded as
  `kill_skipped` with the server's reason and never retried as a delete;
- an API outage fails the run with the error recorded; a pod whose request failed is not
  recorded as killed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gameday.domain.errors import GamedayError, IllegalTransition, InvalidInput, Unavailable
from gameday.domain.messages import RunBrief, format_when, monkey_heads_up
from gameday.domain.pods import TerminationOutcome
from gameday.domain.ports import (
    Clock,
    Cluster,
    ControlState,
    Notifier,
    RunMessages,
    RunRepository,
    VetoGate,
)
from gameday.domain.run_mode import RunMode, decide_mode
from gameday.domain.runs import NewRun, OutgoingMessage, Run, RunKind, RunState
from gameday.domain.selection import Selection, TargetPolicy, select
from gameday.domain.specs import MonkeySpec
from gameday.domain.windows import Window, is_open, next_open
from gameday.services.execution import EndMessages
from gameday.services.heads_up import HEADS_UP_SLACK, announced_at, undelivered_reason
from gameday.services.targets import TargetReport, discover_targets, target_policy

__all__ = [
    "ACTOR",
    "HEADS_UP_SLACK",
    "KillReport",
    "MonkeyService",
    "TargetReport",
    "WindowClosed",
    "discover_targets",
    "kill_seed",
    "target_policy",
]

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


class MonkeyService:
    """Runs kill cycles for monkey schedules against a Cluster, recording runs and events."""

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
        messages: RunMessages | None = None,
        own_pod: str | None = None,
        live: bool = False,
        default_channel: str = "#gameday",
        seeds: random.Random | None = None,
        end_messages: EndMessages | None = None,
    ) -> None:
        self._cluster = cluster
        self._runs = runs
        self._control = control
        self._notifier = notifier
        self._veto = veto
        self._clock = clock
        # Without it kill_run cannot tell whether anyone saw a heads-up, so it kills nothing.
        self._messages = messages
        self._protected = protected
        self._own_pod = own_pod
        self.live = live
        self._default_channel = default_channel
        self._seeds = seeds or random.Random()
        # Tells a planned kill's thread how it ended; None: the caller reports (the CLI).
        self._end_messages = end_messages

    # -- discovery ---------------------------------------------------------------------
    def policy(self, spec: MonkeySpec) -> TargetPolicy:
        """The target rules of a schedule under this service's protections."""
        return target_policy(spec, self._protected, self._own_pod)

    def targets(self, spec: MonkeySpec) -> TargetReport:
        """Candidates and exclusions now; protected namespaces are never even listed."""
        return discover_targets(self._cluster, spec, self.policy(spec), self._clock.now())

    # -- one kill ----------------------------------------------------------------------
    def _guard(self, spec: MonkeySpec) -> str | None:
        engaged, why = self._control.kill_switch()
        if engaged:
            return f"kill switch engaged: {why or 'no reason given'}"
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

    def kill_once(
        self,
        spec: MonkeySpec,
        window: Window,
        *,
        seed: int | None = None,
        heads_up: timedelta | None = None,
        requester: str | None = None,
    ) -> KillReport:
        """Run one kill cycle now; see the module docstring for the rules."""
        now = self._clock.now()
        self._refuse_outside(spec, window, now)
        seed = self._seeds.randrange(2**32) if seed is None else seed
        new = NewRun(
            kind=RunKind.MONKEY,
            schedule=spec.name,
            runbook=None,
            planned_at=now,
            dry_run=not self.live,
            seed=seed,
            requester=requester,
        )
        run = self._runs.create(new, actor=requester or ACTOR, reason="monkey kill cycle")
        if run.state is not RunState.PLANNED:
            raise GamedayError(
                f"schedule {spec.name} already has run #{run.id} at {now.isoformat()} "
                f"({run.state.value})"
            )
        wait = spec.heads_up if heads_up is None else heads_up
        mode = decide_mode(planned_dry_run=not self.live, service_live=self.live)
        return self._cycle(
            spec,
            window,
            run,
            seed,
            wait,
            lambda selection: self._announce(spec, window, run, selection, wait, mode),
            mode,
        )

    def kill_run(
        self, run: Run, spec: MonkeySpec, window: Window, mode: RunMode | None = None
    ) -> KillReport:
        """Carry out a kill the scheduler planned, announced and approved; see the module
        docstring for the rules. IllegalTransition when the run is no longer approved.

        Rules: live only when the run was planned live and this service is live (`mode`,
        decided by the run flow; by default the same rule here)."""
        if run.kind is not RunKind.MONKEY or run.schedule != spec.name:
            raise InvalidInput(f"run #{run.id} is not a kill of monkey schedule {spec.name}")
        run = self._runs.get(run.id)
        if run.state is not RunState.APPROVED:
            raise IllegalTransition(
                f"run #{run.id} cannot be carried out: it is {run.state.value}, not approved"
            )
        status = is_open(window, self._clock.now())
        if not status.open:
            return self._skip(run, f"window {window.name} closed at kill time ({status.reason})")
        chosen = mode or decide_mode(planned_dry_run=run.dry_run, service_live=self.live)
        return self._cycle(
            spec,
            window,
            run,
            self._seed_of(run),
            spec.heads_up,
            lambda selection: self._planned_veto(spec, run, selection),
            chosen,
        )

    def _seed_of(self, run: Run) -> int:
        if run.seed is None:
            return self._seeds.randrange(2**32)
        return kill_seed(run.seed, run.schedule or "", run.planned_at)

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
        """Guards, discovery, selection, heads-up (or its check), guards again, kill."""
        if (why := self._guard(spec)) is not None:
            return self._skip(run, why)
        now = self._clock.now()
        try:
            report = self.targets(spec)
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

    def _announce(
        self,
        spec: MonkeySpec,
        window: Window,
        run: Run,
        selection: Selection,
        wait: timedelta,
        run_mode: RunMode,
    ) -> KillReport | None:
        picks = ", ".join(f"{p.ref} ({p.workload})" for p in selection.picks)
        verb = "evict" if spec.method == "evict" else "delete"
        mode = "live" if not run_mode.dry_run else "dry run: nothing will be terminated"
        summary = f"Will {verb} {len(selection.picks)} pod(s): {picks} ({mode})."
        brief = RunBrief(
            run=run,
            title=spec.name,
            timezone=window.timezone,
            summary=summary,
            blast_radius=f"{len(selection.picks)} pod(s), max_kills {spec.max_kills}",
        )
        channel = spec.channel or self._default_channel
        message = monkey_heads_up(brief).outgoing(channel, run_id=run.id, kind="heads_up")
        self._runs.transition(
            run.id,
            RunState.ANNOUNCED,
            actor=ACTOR,
            reason=f"heads-up of {int(wait.total_seconds())}s",
            payload={"channel": channel, "heads_up_seconds": int(wait.total_seconds())},
        )
        try:
            self._notifier.notify(message)
        except GamedayError as exc:
            # No kill without its heads-up: nobody could have vetoed it.
            return self._skip(run, f"heads-up could not be delivered: {exc}")
        if wait <= timedelta(0):
            return None
        vetoer = self._veto.wait_for_veto(run.id, wait)
        if vetoer is None:
            return None
        return self._vetoed(run, selection, wait, vetoer, RunState.REJECTED)

    def _planned_veto(self, spec: MonkeySpec, run: Run, selection: Selection) -> KillReport | None:
        """The heads-up of a planned kill was the scheduler's announcement: check it was
        given, wait out what is left of it, and honour a veto recorded meanwhile."""
        wait = spec.heads_up
        left = timedelta(0)
        if wait > timedelta(0):
            announced = announced_at(self._runs.events(run.id))
            seconds = int(wait.total_seconds())
            if announced is None:
                return self._skip(
                    run,
                    f"no heads-up was announced before the kill (heads_up {seconds}s): "
                    "nobody could have vetoed it",
                )
            left = announced + wait - self._clock.now()
            if left > HEADS_UP_SLACK:
                given = int((wait - left).total_seconds())
                return self._skip(
                    run,
                    f"heads-up too short: announced {given}s before the kill, "
                    f"heads_up is {seconds}s",
                )
        vetoer = self._veto.wait_for_veto(run.id, max(left, timedelta(0)))
        if vetoer is not None:
            return self._vetoed(run, selection, wait, vetoer, RunState.SKIPPED)
        if wait > timedelta(0) and (why := self._undelivered(wait, run)) is not None:
            return self._skip(run, why)
        return None

    def _undelivered(self, wait: timedelta, run: Run) -> str | None:
        """Why the heads-up could not have been seen in time (not delivered, or delivered
        less than `wait` less HEADS_UP_SLACK before now), or None when it could."""
        if self._messages is None:
            return "heads-up delivery unknown (no outbox to read): nobody could veto"
        return undelivered_reason(self._messages.of_run(run.id), wait, self._clock.now())

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
