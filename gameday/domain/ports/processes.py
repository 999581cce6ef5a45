"""Ports for the machinery that carries runs out: worker processes, the job queue, the
starter of runs, and the metrics they report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from gameday.domain.execution import WorkerRef
from gameday.domain.runs import (
    Run,
)


class Workers(Protocol):
    """Worker processes that execute GameDays, one process per run (chaoslib must own
    its process's main thread)."""

    def launch(self, run_id: int) -> WorkerRef:
        """Start a worker for a run that is already `running`; return at once."""
        ...

    def is_alive(self, worker: WorkerRef, run_id: int) -> bool | None:
        """True while that process still runs this run's worker; None when it cannot be
        told from here (another host)."""
        ...

    def release(self, worker: WorkerRef, run_id: int) -> None:
        """Stop supervising a worker: it interrupts its own run with rollbacks and ends
        it `interrupted`, as when its supervisor dies (a no-op for another host's)."""
        ...

    def halt(self, worker: WorkerRef, run_id: int) -> bool:
        """Interrupt gracefully (SIGUSR1: chaoslib stops and plays the rollbacks);
        False when the worker is already gone."""
        ...

    def resolve(self, worker: WorkerRef, run_id: int) -> bool:
        """End a drill's method early (responders resolved it): the steady state after the
        method is judged and the rollbacks play; False when the worker is already gone."""
        ...

    def hard_stop(self, worker: WorkerRef, run_id: int, *, grace: timedelta) -> None:
        """SIGTERM, then SIGKILL if still alive after `grace`; returns once it is gone."""
        ...

    def wait_gone(self, workers: Sequence[tuple[WorkerRef, int]], timeout: timedelta) -> None:
        """Block until every (worker, run_id) has exited or `timeout` passed."""
        ...

    def run_rollbacks(self, run_id: int, *, timeout: timedelta) -> int:
        """Play a run's rollbacks once in a fresh worker (crash recovery); its exit code."""
        ...


class JobQueue(Protocol):
    """The leader's timer: fires each job id once at its time; ids are stable across restarts."""

    def jobs(self) -> dict[str, datetime]:
        """Jobs waiting to fire, by id, with their times."""
        ...

    def add(self, job_id: str, at: datetime) -> None:
        """Fire `job_id` at `at` (at once if `at` has passed); replaces a job with that id."""
        ...

    def remove(self, job_id: str) -> None:
        """Forget a waiting job (no error if it already fired or never existed)."""
        ...


class RunStarter(Protocol):
    """Carries out an approved run whose moment has come (a GameDay worker, a monkey kill)."""

    def start(self, run: Run) -> None:
        """Claim the run (approved -> running; IllegalTransition if another process did)
        and carry it out; the run records its own outcome through the RunRepository."""
        ...


class MetricsSink(Protocol):
    """Where the services report what the service's metrics count."""

    def run_finished(self, kind: str, outcome: str) -> None:
        """Count a run that reached a final state."""
        ...

    def skipped(self, reason_code: str) -> None:
        """Count an occurrence recorded as skipped (a small fixed set of reason codes)."""
        ...

    def gate_evaluated(self, gate: str, *, passed: bool) -> None:
        """Count one evaluation of a gate and its result."""
        ...

    def stop_condition(self, gate: str) -> None:
        """Count a stop condition that halted a run."""
        ...

    def killed(self, count: int, *, dry_run: bool) -> None:
        """Count pods a monkey kill terminated (or would have, in a dry run)."""
        ...

    def job_fired(self, lag_seconds: float) -> None:
        """Observe how late a scheduler job fired compared with its planned time."""
        ...

    def approval_decided(self, seconds: float) -> None:
        """Observe how long a run waited for its approval quorum."""
        ...

    def set_jobs(self, count: int) -> None:
        """Record how many jobs wait in the scheduler."""
        ...
