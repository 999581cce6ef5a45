"""Which pods a monkey schedule may kill now: its namespaces (never a protected one) listed
through the Cluster port, every pod classified as a candidate or excluded with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gameday.domain.ports import Cluster
from gameday.domain.selection import Candidates, TargetPolicy, classify
from gameday.domain.specs import MonkeySpec


@dataclass(frozen=True)
class TargetReport:
    """Current candidates of a schedule, every exclusion, and protected namespaces skipped."""

    schedule: str
    namespaces: tuple[str, ...]
    protected_skipped: tuple[str, ...]
    candidates: Candidates


def target_policy(spec: MonkeySpec, protected: frozenset[str], own_pod: str | None) -> TargetPolicy:
    """The target rules of a schedule under the service's protections."""
    return TargetPolicy(
        namespaces=frozenset(spec.targets.namespaces),
        protected=protected,
        own_pod=own_pod,
        min_age=spec.min_pod_age,
    )


def discover_targets(
    cluster: Cluster, spec: MonkeySpec, policy: TargetPolicy, now: datetime
) -> TargetReport:
    """List the schedule's namespaces (never a protected one) and classify their pods."""
    allowed = [ns for ns in spec.targets.namespaces if ns not in policy.protected]
    protected = tuple(ns for ns in spec.targets.namespaces if ns in policy.protected)
    pods = cluster.pods_in(allowed, spec.targets.selector)
    return TargetReport(spec.name, tuple(allowed), protected, classify(pods, policy, now))
