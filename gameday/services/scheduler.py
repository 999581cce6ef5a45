"""The scheduling use case: keep one run row per planned occurrence, derive the timer jobs
from those rows, and decide at fire time whether a run may start.

The database is the schedule's memory. Occurrences over a rolling horizon become `planned`
runs (creating one is idempotent on (schedule, instant)), and the jobs of a job queue are
derived from the waiting runs each time. A restart therefore neither loses a job (the rows
are still there) nor repeats one (a final run gets no job, and starting is a conditional
claim of the row), and a new leader continues exactly where the old one stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gameday.domain.errors import GamedayError, IllegalTransition
from gameday.domain.fire_guards import (
    DEFAULT_TOLERANCE,
    WAITING_STATES,
    FireContext,
    Job,
    JobAction,
    PlannedOccurrence,
    ScheduleRules,
    SkipCode,
    StartVerdict,
    desired_jobs,
    diff_jobs,
    parse_job_id,
    start_verdict,
)
from gameday.domain.lifecycle import is_final
from gameday.domain.ports import (
    Clock,
    ControlState,
    JobQueue,
    MetricsSink,
    RunRepository,
    RunStarter,
    ServiceMarks,
)
from gameday.domain.runs import NewRun, OutgoingMessage, Run, RunEvent, RunKind, RunState
from gameday.services.announcements import Approvals
from gameday.services.run_end import EndMessages

log = logging.getLogger("gameday.scheduler")


ACTOR = "scheduler"
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class ReconcileResult:
    """What a reconcile changed (all empty when the plan did not change)."""

    created: tuple[int, ...] = ()
    cancelled: tuple[int, ...] = ()
    jobs_added: tuple[str, ...] = ()
    jobs_removed: tuple[str, ...] = ()


class Scheduler:
    """Runs the plan: reconcile occurrences into runs and jobs, and fire jobs safely."""

    def __init__(
        self,
        *,
        runs: RunRepository,
        control: ControlState,
        queue: JobQueue,
        starter: RunStarter,
        approvals: Approvals,
        clock: Clock,
        metrics: MetricsSink,
        dry_run: bool = True,
        tolerance: timedelta = DEFAULT_TOLERANCE,
        horizon: timedelta = timedelta(hours=48),
        actor: str = ACTOR,
        end_messages: EndMessages | None = None,
        marks: ServiceMarks | None = None,
        gate_notice: Callable[[Run], None] | None = None,
    ) -> None:
        self._runs = runs
        self._control = control
        self._queue = queue
        self._starter = starter
        self._clock = clock
        self._metrics = metrics
        self._dry_run = dry_run
        self._tolerance = tolerance
        self.horizon = horizon
        self._approvals = approvals
        self._actor = actor
        # Tells an announced run's channel that it will not run after all.
        self._end_messages = end_messages
        # What the service remembers between its lives (digests planned, last heartbeat).
        self._marks = marks
        # Shows the run's health gates in its thread when it is announced.
        self._gate_notice = gate_notice
        self._rules: dict[str, ScheduleRules] = {}
        self._planning_skips: dict[tuple[str, datetime], str] = {}
        self._digests: dict[str, str | None] = {}
        # Reconcile and fire may run on different threads; one at a time keeps them simple.
        self._lock = threading.RLock()

    @property
    def lock(self) -> threading.RLock:
        """Held while the plan or a run's start is being decided (reconcile, fire)."""
        return self._lock

    @property
    def rules(self) -> Mapping[str, ScheduleRules]:
        """The schedules the scheduler currently knows, by name."""
        return dict(self._rules)

    def reconcile(
        self, occurrences: Sequence[PlannedOccurrence], rules: Mapping[str, ScheduleRules]
    ) -> ReconcileResult:
        """Apply a (new) plan, changing only what differs.

        Rules: occurrences within the horizon that have no run get one (idempotent, so a run
        that already finished is never planned again); a waiting run whose occurrence left
        the plan is skipped with the reason; jobs are derived from the waiting runs and only
        the added, moved and vanished ones touch the queue.
        """
        with self._lock:
            now = self._clock.now()
            self._rules = dict(rules)
            horizon_end = now + self.horizon
            wanted = {
                o.key: o
                for o in occurrences
                if o.schedule in rules and now - self._tolerance < o.at <= horizon_end
            }
            self._planning_skips = {k: o.skip_reason for k, o in wanted.items() if o.skip_reason}
            waiting = self._runs.in_state(*WAITING_STATES)
            have = {(r.schedule, r.planned_at): r for r in waiting if r.schedule is not None}

            if not self._digests and self._marks is not None:
                # A new process: what did the previous one plan from? A spec changed while
                # no service ran is replanned like one changed by a reload.
                self._digests = dict(self._marks.planned_digests())
            replanned = {
                name for name, r in rules.items() if self._digests.get(name) not in (None, r.digest)
            }
            latest: dict[str, datetime | None] = {}
            created: list[int] = []
            for key, occ in sorted(wanted.items(), key=lambda kv: kv[1].at):
                if key in have:
                    continue
                rule = rules[occ.schedule]
                if rule.kind is RunKind.MONKEY and occ.schedule not in replanned:
                    # Kill times are drawn at random from the moment of planning: an
                    # unchanged monkey keeps the kills it has and only grows at the end.
                    if occ.schedule not in latest:
                        newest = self._runs.list_runs(schedule=occ.schedule, limit=1)
                        latest[occ.schedule] = newest[0].planned_at if newest else None
                    last = latest[occ.schedule]
                    if last is not None and occ.at < last + max(rule.min_gap, _EPSILON):
                        continue
                    latest[occ.schedule] = occ.at
                run = self._runs.create(
                    NewRun(
                        kind=occ.kind,
                        schedule=occ.schedule,
                        runbook=occ.runbook,
                        planned_at=occ.at,
                        dry_run=self._dry_run,
                        seed=occ.seed,
                    ),
                    actor=self._actor,
                    reason="planned",
                )
                if run.state in WAITING_STATES:
                    created.append(run.id)

            cancelled: list[int] = []
            for key, run in have.items():
                reason = self._vanished(run, key in wanted, now, horizon_end, replanned)
                if reason is not None and self.skip(run, SkipCode.REMOVED, reason):
                    cancelled.append(run.id)
            digests = {name: r.digest for name, r in rules.items()}
            if self._marks is not None and digests != self._digests:
                self._marks.record_digests(
                    {k: v for k, v in digests.items() if v is not None}, actor=self._actor
                )
            self._digests = digests

            diff = self._apply_jobs(now)
            return ReconcileResult(
                created=tuple(created),
                cancelled=tuple(cancelled),
                jobs_added=tuple(j.id for j in diff[0]),
                jobs_removed=diff[1],
            )

    def _vanished(
        self, run: Run, planned: bool, now: datetime, horizon_end: datetime, replanned: set[str]
    ) -> str | None:
        rule = self._rules.get(run.schedule or "")
        if rule is None:
            return f"schedule {run.schedule} no longer exists"
        if rule.kind is RunKind.MONKEY and rule.name not in replanned:
            return None
        if not planned and now < run.planned_at <= horizon_end:
            if _postponed(self._runs.events(run.id)):
                return None  # someone moved it here on purpose; the plan never had it
            return f"no longer in the plan of schedule {run.schedule} (its spec changed)"
        return None

    def _apply_jobs(self, now: datetime) -> tuple[tuple[Job, ...], tuple[str, ...]]:
        desired = desired_jobs(self._runs.in_state(*WAITING_STATES), self._rules, now)
        diff = diff_jobs(self._queue.jobs(), desired)
        for job_id in diff.remove:
            self._queue.remove(job_id)
        for job in diff.add:
            self._queue.add(job.id, job.at)
        self._metrics.set_jobs(len(desired))
        return diff.add, diff.remove

    def skip_missed(self) -> list[Run]:
        """Start-up step: waiting runs whose moment passed while no leader ran are recorded
        skipped (or expired, if they were waiting for approval) with the reason."""
        with self._lock:
            now = self._clock.now()
            done: list[Run] = []
            for run in self._runs.in_state(*WAITING_STATES):
                if run.schedule is None:
                    continue  # ad hoc: approvals expire on their own, start_adhoc starts
                if now - run.planned_at <= self._tolerance:
                    continue
                rules = self._rules.get(run.schedule or "") or ScheduleRules(
                    name=run.schedule or "ad hoc", kind=run.kind
                )
                verdict = start_verdict(run, rules, FireContext(now=now, tolerance=self._tolerance))
                if not verdict.go and self._finish(run, verdict):
                    done.append(self._runs.get(run.id))
            return done

    def fire(self, job_id: str) -> None:
        """A job's time has come: announce, expire or start its run, guarded."""
        run_id, action, lead = parse_job_id(job_id)
        try:
            run = self._runs.get(run_id)
        except GamedayError:
            log.warning("job %s names an unknown run", job_id, extra={"run_id": run_id})
            return
        now = self._clock.now()
        planned = (
            run.planned_at - (lead or timedelta(0))
            if action is JobAction.ANNOUNCE
            else run.planned_at
        )
        self._metrics.job_fired((now - planned).total_seconds())
        rules = self._rules.get(run.schedule or "")
        if rules is None or run.state not in WAITING_STATES:
            log.info(
                "job %s has nothing to do: run is %s",
                job_id,
                run.state.value,
                extra={"run_id": run_id},
            )
            return
        try:
            if action is JobAction.ANNOUNCE:
                self._announce(run, lead or timedelta(0))
            elif action is JobAction.EXPIRE:
                self._expire()
            else:
                self._start(run, rules, now)
        except IllegalTransition as exc:
            # Someone else (a person in Slack, another replica) moved the run first.
            log.info("job %s lost a race: %s", job_id, exc, extra={"run_id": run_id})

    def _announce(self, run: Run, lead: timedelta) -> None:
        self._approvals.announce(run.id, actor=self._actor)
        if self._gate_notice is not None:
            self._gate_notice(run)
        log.info(
            "announced run %s (%ss ahead)",
            run.id,
            int(lead.total_seconds()),
            extra={"run_id": run.id, "schedule": run.schedule},
        )

    def _expire(self) -> None:
        for done in self._approvals.expire_due():
            self._metrics.skipped(SkipCode.NOT_APPROVED.value)
            self._queue_forget(done.id)
            log.info("run %s expired", done.id, extra={"run_id": done.id})

    def _start(self, run: Run, rules: ScheduleRules, now: datetime) -> None:
        ctx = FireContext(
            now=now,
            tolerance=self._tolerance,
            kill_switch=self._control.kill_switch(),
            paused=self._control.is_paused(rules.name),
            window_closed=rules.window(now) if rules.window is not None else None,
            planning_skip=self._planning_skips.get((rules.name, run.planned_at)),
        )
        verdict = start_verdict(run, rules, ctx)
        if not verdict.go:
            self._finish(run, verdict)
            return
        if run.state is not RunState.APPROVED:
            run = self._runs.transition(
                run.id, RunState.APPROVED, actor=self._actor, reason="no approval needed"
            )
        elif rules.needs_approval:
            self._observe_approval(run.id)
        log.info(
            "starting run %s",
            run.id,
            extra={"run_id": run.id, "schedule": run.schedule, "kind": run.kind.value},
        )
        self._starter.start(run)

    def _observe_approval(self, run_id: int) -> None:
        asked = decided = None
        for event in self._runs.events(run_id):
            if event.type != "state_changed":
                continue
            if event.payload.get("to") == RunState.AWAITING_APPROVAL.value:
                asked = event.at
            elif event.payload.get("to") == RunState.APPROVED.value:
                decided = event.at
        if asked is not None and decided is not None:
            self._metrics.approval_decided((decided - asked).total_seconds())

    def _finish(self, run: Run, verdict: StartVerdict) -> bool:
        return self.skip(
            run, verdict.code or SkipCode.PLANNING, verdict.reason or "", verdict.final_state
        )

    def skip(
        self, run: Run, code: SkipCode, reason: str, state: RunState = RunState.SKIPPED
    ) -> bool:
        """Record that a waiting run will not run (with its code and reason), tell its
        channel if it was announced, and forget its jobs; False when it had ended or
        someone moved it first."""
        if is_final(run.state):
            return False
        messages: Sequence[OutgoingMessage] = ()
        if self._end_messages is not None and _was_announced(self._runs.events(run.id)):
            messages = self._end_messages(run, state.value, reason)
        try:
            self._runs.transition(
                run.id,
                state,
                actor=self._actor,
                reason=reason,
                payload={"code": code.value},
                messages=messages,
            )
        except IllegalTransition as exc:
            log.info("could not record %s: %s", state.value, exc, extra={"run_id": run.id})
            return False
        self._metrics.skipped(code.value)
        self._queue_forget(run.id)
        log.info(
            "run %s %s: %s",
            run.id,
            state.value,
            reason,
            extra={"run_id": run.id, "reason": code.value},
        )
        return True

    def _queue_forget(self, run_id: int) -> None:
        prefix = f"run-{run_id}-"
        for job_id in [j for j in self._queue.jobs() if j.startswith(prefix)]:
            self._queue.remove(job_id)


def _was_announced(events: Sequence[RunEvent]) -> bool:
    """True when people were told about the run (so they are told it will not run)."""
    told = {RunState.ANNOUNCED.value, RunState.AWAITING_APPROVAL.value}
    return any(e.type == "state_changed" and e.payload.get("to") in told for e in events)


def _postponed(events: Sequence[RunEvent]) -> bool:
    """True for a run created by a Postpone (it replaces an occurrence of the plan)."""
    return bool(events) and events[0].type == "created" and "postponed_from" in events[0].payload
