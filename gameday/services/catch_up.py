"""What the leader does besides firing planned jobs: record what was missed while no
service ran, keep its heartbeat, and start the ad-hoc runs people requested in Slack.

Rules:
- nothing is ever run late: an occurrence planned while no leader ran is recorded as
  skipped (MISSED_REASON, or the plan's own reason when it would have been skipped anyway),
  and an ad-hoc run approved more than the fire tolerance ago is skipped;
- the gap is measured from the last heartbeat and bounded by MISSED_LOOKBACK; a first
  start (no heartbeat yet) records nothing;
- an ad-hoc run its requester's own process carries out (`gameday run`) is left to it;
  the kill switch skips an ad-hoc run; a run is started at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from gameday.domain.fire_guards import PlannedOccurrence, SkipCode, kill_switch_reason
from gameday.domain.ports import Clock, ControlState, RunRepository, RunStarter, ServiceMarks
from gameday.domain.runs import NewRun, Run, RunEvent, RunState
from gameday.services.execution import CARRIED_BY_REQUESTER, CARRIER
from gameday.services.scheduler import Scheduler

log = logging.getLogger("gameday.scheduler")

# How far back a start looks for occurrences it missed while no service ran.
MISSED_LOOKBACK = timedelta(days=30)
MISSED_REASON = "missed: service not running"
_MISSED_PLAN = "planned while no service was running"
# The occurrences a plan has in [since, until] (the past).
PastPlan = Callable[[datetime, datetime], Sequence[PlannedOccurrence]]


class CatchUp:
    """The leader's work outside the job queue's planned jobs (see the module rules)."""

    def __init__(
        self,
        *,
        scheduler: Scheduler,
        runs: RunRepository,
        control: ControlState,
        starter: RunStarter,
        clock: Clock,
        marks: ServiceMarks | None,
        tolerance: timedelta,
        dry_run: bool,
        actor: str,
    ) -> None:
        self._scheduler = scheduler
        self._runs = runs
        self._control = control
        self._starter = starter
        self._clock = clock
        self._marks = marks
        self._tolerance = tolerance
        self._dry_run = dry_run
        self._actor = actor

    def record_downtime(self, past: PastPlan) -> list[Run]:
        """Start-up step: record every occurrence planned while no leader ran (since the
        last heartbeat, until the fire tolerance before now) as a skipped run, so history
        shows the gap; occurrences already stored are left to `Scheduler.skip_missed`."""
        if self._marks is None:
            return []
        with self._scheduler.lock:
            last = self._marks.last_alive()
            now = self._clock.now()
            if last is None:
                return []
            since, until = max(last, now - MISSED_LOOKBACK), now - self._tolerance
            known = self._scheduler.rules
            recorded: list[Run] = []
            for occ in past(since, until) if since < until else ():
                if occ.schedule not in known or not since < occ.at <= until:
                    continue
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
                    reason=_MISSED_PLAN,
                )
                if run.state is not RunState.PLANNED or not _created_here(self._runs, run):
                    continue  # stored before the outage: skip_missed decides
                reason = occ.skip_reason or MISSED_REASON
                code = SkipCode.PLANNING if occ.skip_reason else SkipCode.MISSED
                if self._scheduler.skip(run, code, reason):
                    recorded.append(self._runs.get(run.id))
            if recorded:
                log.info("recorded %d occurrences planned while no service ran", len(recorded))
            return recorded

    def mark_alive(self) -> None:
        """The leader's heartbeat (what `record_downtime` measures the gap from)."""
        if self._marks is not None:
            self._marks.mark_alive(actor=self._actor)

    def start_adhoc(self) -> list[int]:
        """Start the ad-hoc runs (requested in Slack) that are approved and waiting; the
        ids started."""
        with self._scheduler.lock:
            now = self._clock.now()
            started: list[int] = []
            for run in self._runs.in_state(RunState.APPROVED):
                if run.schedule is not None:
                    continue
                approved = _approval_of(self._runs.events(run.id))
                if approved is None or approved.payload.get(CARRIER) == CARRIED_BY_REQUESTER:
                    continue
                engaged, why = self._control.kill_switch()
                if engaged:
                    self._scheduler.skip(run, SkipCode.KILL_SWITCH, kill_switch_reason(why))
                    continue
                late = now - approved.at
                if late > self._tolerance:
                    reason = (
                        f"approved {_ago(late)} ago, but no service was running to start it "
                        f"(tolerance {_ago(self._tolerance)}); never run late"
                    )
                    self._scheduler.skip(run, SkipCode.LATE, reason)
                    continue
                log.info("starting ad-hoc run %s", run.id, extra={"run_id": run.id})
                self._starter.start(run)
                started.append(run.id)
            return started


def _created_here(runs: RunRepository, run: Run) -> bool:
    """True when `run` was just created by `record_downtime` (not found already stored)."""
    return runs.events(run.id)[0].payload.get("reason") == _MISSED_PLAN


def _approval_of(events: Sequence[RunEvent]) -> RunEvent | None:
    """The run's latest move to `approved`."""
    for event in reversed(events):
        if event.type == "state_changed" and event.payload.get("to") == RunState.APPROVED.value:
            return event
    return None


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m"
