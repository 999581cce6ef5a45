"""Small Protocols the services need from the outside world; adapters implement them.

Keep each Protocol narrow (only what a service calls). They are grouped by what they
reach: `records` (time, runs, control, outbox), `processes` (workers, jobs, metrics),
`world` (specs, Chaos Toolkit, the cluster) and `people` (Slack, notifiers, vetoes); import
them from here.
"""

from gameday.domain.ports.people import (
    DeliveryFailed,
    MessageSender,
    Notifier,
    UserGroups,
    VetoGate,
)
from gameday.domain.ports.processes import JobQueue, MetricsSink, RunStarter, Workers
from gameday.domain.ports.records import (
    Clock,
    ControlState,
    Outbox,
    RunRepository,
    ServiceMarks,
    StatusSnapshot,
)
from gameday.domain.ports.world import Cluster, GateChecker, RunbookChecker, SpecSource

__all__ = [
    "Clock",
    "Cluster",
    "ControlState",
    "DeliveryFailed",
    "GateChecker",
    "JobQueue",
    "MessageSender",
    "MetricsSink",
    "Notifier",
    "Outbox",
    "RunRepository",
    "RunStarter",
    "RunbookChecker",
    "ServiceMarks",
    "SpecSource",
    "StatusSnapshot",
    "UserGroups",
    "VetoGate",
    "Workers",
]
