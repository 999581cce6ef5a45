"""Which pods a monkey schedule may kill now: its namespaces (never a protected one) listed
through the Cluster port, every pod classified as a candidate or excluded with the reason.

Rules:
- a schedule aimed at a namespace outside the service's target namespaces
  (GAMEDAY_TARGET_NAMESPACES) is refused before the cluster is contacted: the chart grants
  no access there, and the request guard would refuse its kills anyway;
- protected namespaces are skipped and reported, never listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gameday.domain.errors import InvalidInput
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


def refuse_outside_targets(
    spec: MonkeySpec, targets: frozenset[str] | None, protected: frozenset[str]
) -> None:
    """Raise InvalidInput when the schedule names an unprotected namespace outside
    `targets` (None: every unprotected namespace is allowed)."""
    if targets is None:
        return
    # Protected namespaces are already skipped (and said so); naming them is no reason to
    # refuse the rest of the schedule.
    outside = [ns for ns in spec.targets.namespaces if ns not in targets and ns not in protected]
    if outside:
        raise InvalidInput(
            f"schedule {spec.name} targets namespace {outside[0]!r}, which is not in "
            f"GAMEDAY_TARGET_NAMESPACES ({','.join(sorted(targets))}): gameday may not act there"
        )


def discover_targets(
    cluster: Cluster,
    spec: MonkeySpec,
    policy: TargetPolicy,
    now: datetime,
    *,
    targets: frozenset[str] | None = None,
) -> TargetReport:
    """List the schedule's namespaces (never a protected one) and classify their pods;
    refuse first a namespace outside `targets` (see the module rules)."""
    refuse_outside_targets(spec, targets, policy.protected)
    allowed = [ns for ns in spec.targets.namespaces if ns not in policy.protected]
    protected = tuple(ns for ns in spec.targets.namespaces if ns in policy.protected)
    pods = cluster.pods_in(allowed, spec.targets.selector)
    return TargetReport(spec.name, tuple(allowed), protected, classify(pods, policy, now))
