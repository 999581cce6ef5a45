"""What gameday knows about a pod, and what happened when it asked for one to go."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

OPT_IN_LABEL = "gameday.io/enabled"


@dataclass(frozen=True)
class PodFacts:
    """A pod as discovery saw it; `owner_*` name the top workload (ReplicaSet -> Deployment)."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    owner_kind: str | None = None
    owner_name: str | None = None
    owner_labels: Mapping[str, str] = field(default_factory=dict)
    phase: str = "Running"
    ready: bool = True
    started_at: datetime | None = None
    node: str | None = None

    @property
    def ref(self) -> str:
        """`namespace/name`."""
        return f"{self.namespace}/{self.name}"

    @property
    def workload(self) -> str:
        """The owning workload as `namespace/Kind/name`; a bare pod is its own workload."""
        if self.owner_kind and self.owner_name:
            return f"{self.namespace}/{self.owner_kind}/{self.owner_name}"
        return f"{self.namespace}/Pod/{self.name}"

    def age(self, now: datetime) -> timedelta | None:
        """How long the pod has been running, or None if it never started."""
        return None if self.started_at is None else now - self.started_at

    def describe(self, now: datetime) -> dict[str, Any]:
        """JSON-able facts for journals and `--json` output."""
        age = self.age(now)
        return {
            "namespace": self.namespace,
            "pod": self.name,
            "owner": self.workload,
            "node": self.node,
            "phase": self.phase,
            "ready": self.ready,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "age_seconds": None if age is None else int(age.total_seconds()),
        }


class TerminationOutcome(StrEnum):
    """What the cluster said to a termination request."""

    TERMINATED = "terminated"
    SKIPPED = "skipped"  # refused, e.g. by a PodDisruptionBudget (429); never retried as delete
    GONE = "gone"  # the pod no longer existed


@dataclass(frozen=True)
class Termination:
    """The answer to one eviction or deletion."""

    outcome: TerminationOutcome
    method: str
    reason: str = ""
    detail: str = ""
