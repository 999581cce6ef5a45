"""Prometheus metrics of the service, kept in one registry so /metrics shows only ours
(plus the process collector: RSS, CPU, open files)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)


class Metrics:
    """The service's metrics; the services report through the MetricsSink port."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.runs = Counter(
            "gameday_runs",
            "Runs that reached a final state, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.skips = Counter(
            "gameday_skips",
            "Occurrences recorded as skipped, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.kills = Counter(
            "gameday_kills",
            "Pods terminated (or, in dry run, that would have been).",
            ["dry_run"],
            registry=self.registry,
        )
        self.gate_evaluations = Counter(
            "gameday_gate_evaluations",
            "Evaluations of health gates, by gate and result (pass or fail).",
            ["gate", "result"],
            registry=self.registry,
        )
        self.stop_conditions = Counter(
            "gameday_stop_conditions",
            "Runs halted by a stop condition, by gate.",
            ["gate"],
            registry=self.registry,
        )
        self.approval_latency = Histogram(
            "gameday_approval_latency_seconds",
            "From asking for approval to the decision.",
            buckets=(30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600),
            registry=self.registry,
        )
        self.scheduler_lag = Histogram(
            "gameday_scheduler_lag_seconds",
            "How late a job fired compared with its planned time.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300),
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "gameday_outbox_depth",
            "Messages waiting for delivery.",
            registry=self.registry,
        )
        self.leader = Gauge(
            "gameday_leader",
            "1 while this replica is the leader (schedules and starts runs), else 0.",
            registry=self.registry,
        )
        self.scheduled_jobs = Gauge(
            "gameday_scheduled_jobs",
            "Jobs currently waiting in this replica's scheduler.",
            registry=self.registry,
        )

    # The MetricsSink port (gameday.domain.ports).
    def run_finished(self, kind: str, outcome: str) -> None:
        """Count a run that reached a final state."""
        self.runs.labels(kind=kind, outcome=outcome).inc()

    def skipped(self, reason_code: str) -> None:
        """Count a skipped occurrence (reason codes are a small fixed set)."""
        self.skips.labels(reason=reason_code).inc()

    def gate_evaluated(self, gate: str, *, passed: bool) -> None:
        """Count one evaluation of a gate."""
        self.gate_evaluations.labels(gate=gate, result="pass" if passed else "fail").inc()

    def stop_condition(self, gate: str) -> None:
        """Count a stop condition that halted a run."""
        self.stop_conditions.labels(gate=gate).inc()

    def killed(self, count: int, *, dry_run: bool) -> None:
        """Count pods terminated by a monkey kill."""
        self.kills.labels(dry_run=str(dry_run).lower()).inc(count)

    def approval_decided(self, seconds: float) -> None:
        """Observe how long an approval took."""
        self.approval_latency.observe(seconds)

    def job_fired(self, lag_seconds: float) -> None:
        """Observe a job's lag behind its planned time."""
        self.scheduler_lag.observe(max(lag_seconds, 0.0))

    def set_leader(self, leader: bool) -> None:
        """Record whether this replica leads."""
        self.leader.set(1 if leader else 0)

    def set_jobs(self, count: int) -> None:
        """Record how many jobs wait in the scheduler."""
        self.scheduled_jobs.set(count)

    def track_outbox(self, depth: Callable[[], int]) -> None:
        """Read the outbox depth at each scrape (no polling thread needed)."""
        self.outbox_depth.set_function(lambda: float(depth()))

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type, for /metrics."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
