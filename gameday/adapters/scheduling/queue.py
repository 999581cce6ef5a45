"""The JobQueue port on APScheduler 3.x's BackgroundScheduler.

Jobs live in APScheduler's memory store on purpose: the runs table is the durable schedule,
and the scheduler service re-derives the jobs from it at start, on takeover and on reload.
A persistent job store would be a second copy of the same truth (with pickled callables)
that could disagree with the database after a crash or a failover.

Late jobs must still fire (misfire_grace_time=None, no coalescing): the fire-time guards
record *why* a late run is skipped; APScheduler would otherwise drop it silently.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("gameday.scheduler.queue")


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler's background scheduler, quiet about a job gone during shutdown.

    Once `shutdown()` marks the scheduler stopped, its loop may still be finishing a pass
    in which it removes a one-shot job it just submitted; stopped, `remove_job` looks only
    at jobs pending before the start, and raises JobLookupError on its own thread. The job
    is gone with the in-memory store either way.
    """

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        try:
            super().remove_job(job_id, jobstore)
        except JobLookupError:
            if self.state != STATE_STOPPED:
                raise


class ApschedulerQueue:
    """Fires `fire(job_id)` at each job's time on a small thread pool."""

    def __init__(self, fire: Callable[[str], None] | None = None, *, workers: int = 8) -> None:
        self._fire = fire
        self._scheduler = _Scheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
            timezone=UTC,
        )
        self._scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        self._times: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def bind(self, fire: Callable[[str], None]) -> None:
        """Fire jobs into `fire` (the scheduler that owns the jobs is built after its
        queue, which it needs)."""
        self._fire = fire

    @property
    def running(self) -> bool:
        """True between start() and shutdown()."""
        return bool(self._scheduler.running)

    def start(self) -> None:
        """Start firing jobs (idempotent)."""
        if not self._scheduler.running:
            self._scheduler.start()

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop firing; with `wait`, let jobs already firing finish."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
        with self._lock:
            self._times.clear()

    def clear(self) -> None:
        """Forget every job, housekeeping included (leadership lost: a follower neither
        fires runs nor expires approvals); the database still holds the plan."""
        with self._lock:
            self._times.clear()
            self._scheduler.remove_all_jobs()

    # The JobQueue port.
    def jobs(self) -> dict[str, datetime]:
        """Waiting jobs by id with their times."""
        with self._lock:
            return dict(self._times)

    def add(self, job_id: str, at: datetime) -> None:
        """Fire `job_id` at `at` (at once if past); replaces a job with the same id."""
        with self._lock:
            self._scheduler.add_job(
                self._run,
                DateTrigger(run_date=at, timezone=UTC),
                args=[job_id],
                id=job_id,
                name=job_id,
                replace_existing=True,
            )
            self._times[job_id] = at

    def remove(self, job_id: str) -> None:
        """Forget a waiting job; no error if it is gone."""
        with self._lock:
            self._remove_locked(job_id)

    def every(self, name: str, seconds: float, func: Callable[[], None]) -> None:
        """A housekeeping job every `seconds` (horizon refresh, run watch); not a run job."""
        self._scheduler.add_job(
            func,
            IntervalTrigger(seconds=seconds, timezone=UTC),
            id=f"every-{name}",
            name=name,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=1,
        )

    def _remove_locked(self, job_id: str) -> None:
        self._times.pop(job_id, None)
        # A one-shot job may be removed by APScheduler itself between the two calls.
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id)

    def _run(self, job_id: str) -> None:
        with self._lock:
            self._times.pop(job_id, None)
        if self._fire is None:
            raise RuntimeError(f"job {job_id} fired before the queue was bound to a scheduler")
        self._fire(job_id)

    def _on_error(self, event: JobExecutionEvent) -> None:
        log.error("job %s failed: %r", event.job_id, event.exception, exc_info=event.exception)
