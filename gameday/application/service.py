"""The running service: leadership, the scheduler, housekeeping, reload and shutdown.

Built by `gameday.wiring.service.build_service`; the `serve` command adds the HTTP server
and the signal handlers around it. Followers keep everything but the scheduler: they
answer Slack and health checks and take over when the leader goes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gameday.adapters.observability.health import Health
from gameday.adapters.observability.metrics import Metrics
from gameday.adapters.scheduling.leader import Elector, LeaderLoop
from gameday.adapters.scheduling.queue import ApschedulerQueue
from gameday.adapters.scheduling.starter import ThreadedStarter
from gameday.domain.alert_webhook import IncomingAlert
from gameday.domain.errors import GamedayError
from gameday.domain.fire_guards import PlannedOccurrence, ScheduleRules
from gameday.services.overview import Sources
from gameday.services.scheduler import Scheduler
from gameday.services.service_plan import SpecsInvalid

__all__ = ["PlanLoader", "Service", "ServiceHooks", "SpecsInvalid"]

log = logging.getLogger("gameday.serve")

# Reads the specs and plans the horizon; raises GamedayError (listing every problem) when
# the specs are invalid.
PlanLoader = Callable[[], tuple[Sequence[PlannedOccurrence], dict[str, ScheduleRules]]]

# Seconds between two looks for approved ad-hoc runs to start (requested in Slack).
ADHOC_SWEEP = 1.0
APPROVAL_SWEEP = 5.0
# Seconds between the leader's heartbeats (the next start measures what it missed from it).
HEARTBEAT = 10.0


@dataclass
class ServiceHooks:
    """The parts other areas provide; each may be missing in a smaller build.

    `background` pairs are (start, stop) of threads such as the outbox worker;
    `flush_outbox` delivers what is due once (the last step of a shutdown); `start_adhoc`
    starts approved ad-hoc runs (the leader calls it every ADHOC_SWEEP seconds);
    `record_downtime` records what was missed while no leader ran (on each takeover) and
    `heartbeat` is what it measures that from (every HEARTBEAT seconds).
    """

    recover: Callable[[], object] | None = None
    halt: Callable[[list[int]], object] | None = None
    expire_approvals: Callable[[], object] | None = None
    start_adhoc: Callable[[], object] | None = None
    record_downtime: Callable[[], object] | None = None
    heartbeat: Callable[[], None] | None = None
    flush_outbox: Callable[[], object] | None = None
    background: list[tuple[Callable[[], object], Callable[[], object]]] = field(
        default_factory=list
    )
    close: list[Callable[[], object]] = field(default_factory=list)


@dataclass(frozen=True)
class Entrances:
    """How people and tools reach the service besides its schedule: the Slack intake (a
    WSGI app) for POST /slack/events and a Socket Mode handler (None when Slack is not
    configured), the kill switch for POST /halt
    (actor, reason) -> what happened, what the read-only web pages read, and the drills'
    alert recorder for POST /alerts."""

    slack_wsgi: Callable[..., Any] | None = None
    slack_socket: Any | None = None
    halt: Callable[[str, str | None], str] | None = None
    pages: Sources | None = None
    # Records Alertmanager's alerts on running drills, for POST /alerts.
    alerts: Callable[[Sequence[IncomingAlert]], int] | None = None


class Service:
    """One replica of `gameday serve` (without the HTTP server)."""

    def __init__(
        self,
        *,
        description: dict[str, str],
        load_plan: PlanLoader,
        scheduler: Scheduler,
        queue: ApschedulerQueue,
        starter: ThreadedStarter,
        elector: Elector,
        metrics: Metrics,
        health: Health,
        hooks: ServiceHooks,
        entrances: Entrances | None = None,
        leader_interval: float = 5.0,
        refresh_seconds: float = 60.0,
        upcoming: Callable[[], list[str]] | None = None,
    ) -> None:
        self.description = description
        self._load_plan = load_plan
        self.scheduler = scheduler
        self.queue = queue
        self.starter = starter
        self.leader = LeaderLoop(
            elector, interval=leader_interval, on_elected=self._elected, on_lost=self._lost
        )
        self.metrics = metrics
        self.health = health
        self.hooks = hooks
        self.entrances = entrances or Entrances()
        self._refresh_seconds = refresh_seconds
        self._upcoming = upcoming
        self._plan: tuple[Sequence[PlannedOccurrence], dict[str, ScheduleRules]] = ((), {})
        self._lock = threading.RLock()
        # Only what was started is stopped (an early failure must not join unstarted threads).
        self._started: list[Callable[[], object]] = []
        self._leading = False

    # -- start ----------------------------------------------------------------------------
    def start(self) -> None:
        """Load the plan (GamedayError on invalid specs), then outbox, then leadership."""
        self._plan = self._load_plan()
        self._set_health(specs_loaded=True, migrated=True)
        if self._upcoming is not None:
            for line in self._upcoming():
                log.info("upcoming: %s", line)
        for begin, end in self.hooks.background:
            begin()
            self._started.append(end)
        self.leader.start()
        self._leading = True

    def _elected(self) -> None:
        # Recovery may play rollbacks for minutes; the election loop must keep renewing
        # a Lease meanwhile, so the takeover runs on its own thread.
        self.metrics.set_leader(True)
        self._set_health(leader=True)
        threading.Thread(target=self._take_over, name="gameday-takeover", daemon=True).start()

    def _take_over(self) -> None:
        with self._lock:
            if self.hooks.recover is not None:
                self.hooks.recover()
            if not self.leader.is_leader or self.health.stopping:
                return
            occurrences, rules = self._plan
            self.scheduler.reconcile(occurrences, rules)
            if self.hooks.record_downtime is not None:
                self.hooks.record_downtime()
            missed = self.scheduler.skip_missed()
            if missed:
                log.info("recorded %d missed occurrences as skipped", len(missed))
            if self.hooks.heartbeat is not None:
                self.hooks.heartbeat()
                self.queue.every("alive", HEARTBEAT, self.hooks.heartbeat)
            self.queue.every("refresh", self._refresh_seconds, self._refresh)
            if self.hooks.expire_approvals is not None:
                self.queue.every("approvals", APPROVAL_SWEEP, self._expire)
            if self.hooks.start_adhoc is not None:
                self.queue.every("adhoc", ADHOC_SWEEP, self._start_adhoc)
            self.queue.start()
            self._set_health(scheduler_running=True)
            log.info("scheduler running with %d jobs", len(self.queue.jobs()))

    def _lost(self) -> None:
        with self._lock:
            self.metrics.set_leader(False)
            self.queue.clear()
            self._set_health(leader=False, scheduler_running=False)

    def _refresh(self) -> None:
        """Roll the horizon forward: re-plan and apply the differences."""
        try:
            self._plan = self._load_plan()
        except GamedayError as exc:
            log.error("specs are invalid, keeping the previous plan: %s", exc)
        if self.leader.is_leader:
            self.scheduler.reconcile(*self._plan)

    def _expire(self) -> None:
        if self.hooks.expire_approvals is not None:
            self.hooks.expire_approvals()

    def _start_adhoc(self) -> None:
        if self.hooks.start_adhoc is not None and not self.health.stopping:
            self.hooks.start_adhoc()

    # -- reload ---------------------------------------------------------------------------
    def reload(self) -> bool:
        """SIGHUP: re-read the specs; apply only the differences. False (and the old plan
        kept) when the new specs are invalid."""
        try:
            plan = self._load_plan()
        except GamedayError as exc:
            log.error("reload refused, specs are invalid (previous plan kept): %s", exc)
            return False
        with self._lock:
            self._plan = plan
            if self.leader.is_leader:
                result = self.scheduler.reconcile(*plan)
                log.info(
                    "reloaded specs: %d runs planned, %d cancelled, %d jobs added, %d removed",
                    len(result.created),
                    len(result.cancelled),
                    len(result.jobs_added),
                    len(result.jobs_removed),
                )
            else:
                log.info("reloaded specs (follower: the leader applies the plan)")
        return True

    # -- stop -----------------------------------------------------------------------------
    def stop(self, *, grace: float) -> None:
        """Stop taking new work, let running runs finish up to `grace` seconds, then halt
        them (rollbacks run), flush the outbox and release leadership."""
        if self._leading:
            log.info("shutting down: no new runs; waiting up to %.0fs for running ones", grace)
        self._set_health(stopping=True)
        with self._lock:  # a takeover in progress finishes (or sees `stopping`) first
            pass
        self.starter.stop_accepting()
        self.queue.shutdown(wait=True)
        self._set_health(scheduler_running=False)
        halt = self.hooks.halt or (lambda _ids: None)
        if not self.starter.drain(grace, halt):
            log.error("runs still active after halting: %s", self.starter.active())
        for end in reversed(self._started):
            try:
                end()
            except Exception:
                log.exception("stopping a background worker failed")
        self._started.clear()
        if self.hooks.flush_outbox is not None:
            try:
                self.hooks.flush_outbox()  # deliver what the last runs queued
            except Exception:
                log.exception("outbox flush failed")
        if self._leading:
            self.leader.stop(release=True)
        for close in self.hooks.close:
            try:
                close()
            except Exception:
                log.exception("close failed")
        if self._leading:
            log.info("stopped")
        self._leading = False

    def _set_health(self, **facts: bool) -> None:
        self.health.update(**facts)
