"""Which pods a monkey may kill, and which it picks: candidates, exclusions, selection.

Rules (the safety rules of docs/safety.md, applied in this order so each excluded pod gets the
first reason that applies):
1. never a pod in a protected namespace, whatever the spec says;
2. only pods in the schedule's namespaces;
3. never the service's own pod;
4. `gameday.io/enabled=false` on the pod opts it out, even if its workload opts in;
5. opt-in: the pod or its owning workload carries `gameday.io/enabled=true`;
6. only Running, ready pods that have been running for at least the minimum age.

Selection groups candidates by owning workload, picks one workload at random, then pods
within it per the kill mode, capped by max_kills; it never takes every replica of a
workload with two or more replicas unless the mode is `all`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from gameday.domain.kill_mode import KillMode
from gameday.domain.pods import OPT_IN_LABEL, PodFacts


class ExclusionReason(StrEnum):
    """Why a pod is not a candidate; values are stable keys for `--json`."""

    PROTECTED_NAMESPACE = "protected_namespace"
    NOT_TARGETED = "not_targeted"
    OWN_POD = "own_pod"
    OPTED_OUT = "opted_out"
    NOT_OPTED_IN = "not_opted_in"
    NOT_RUNNING = "not_running"
    NOT_READY = "not_ready"
    TOO_YOUNG = "too_young"


@dataclass(frozen=True)
class TargetPolicy:
    """The rules a pod must pass: schedule namespaces, protected ones, own pod, minimum age."""

    namespaces: frozenset[str]
    protected: frozenset[str]
    own_pod: str | None = None
    min_age: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Exclusion:
    """A pod that is not a candidate, and why."""

    pod: PodFacts
    reason: ExclusionReason
    detail: str


@dataclass(frozen=True)
class Candidates:
    """The outcome of filtering: candidates and every exclusion with its reason."""

    candidates: tuple[PodFacts, ...]
    exclusions: tuple[Exclusion, ...]

    def replicas(self) -> dict[str, int]:
        """Pods seen per workload (candidates and exclusions alike)."""
        counts: dict[str, int] = {}
        for pod in (*self.candidates, *(e.pod for e in self.exclusions)):
            counts[pod.workload] = counts.get(pod.workload, 0) + 1
        return counts


def opt_in_state(pod: PodFacts) -> bool | None:
    """True if opted in, False if opted out, None if neither (the pod's own label wins)."""
    own = pod.labels.get(OPT_IN_LABEL)
    if own == "false":
        return False
    if own == "true" or pod.owner_labels.get(OPT_IN_LABEL) == "true":
        return True
    return None


def _exclusion(pod: PodFacts, policy: TargetPolicy, now: datetime) -> Exclusion | None:
    if pod.namespace in policy.protected:
        return Exclusion(
            pod, ExclusionReason.PROTECTED_NAMESPACE, f"namespace {pod.namespace} is protected"
        )
    if pod.namespace not in policy.namespaces:
        return Exclusion(
            pod, ExclusionReason.NOT_TARGETED, f"namespace {pod.namespace} is not in the schedule"
        )
    if policy.own_pod is not None and pod.name == policy.own_pod:
        return Exclusion(pod, ExclusionReason.OWN_POD, "this is the gameday service's own pod")
    opted = opt_in_state(pod)
    if opted is False:
        return Exclusion(pod, ExclusionReason.OPTED_OUT, f"labelled {OPT_IN_LABEL}=false")
    if opted is None:
        return Exclusion(
            pod,
            ExclusionReason.NOT_OPTED_IN,
            f"neither the pod nor its workload is labelled {OPT_IN_LABEL}=true",
        )
    if pod.phase != "Running":
        return Exclusion(pod, ExclusionReason.NOT_RUNNING, f"phase is {pod.phase}")
    if not pod.ready:
        return Exclusion(pod, ExclusionReason.NOT_READY, "not ready")
    age = pod.age(now)
    if age is None or age < policy.min_age:
        shown = "unknown" if age is None else f"{int(age.total_seconds())}s"
        return Exclusion(
            pod,
            ExclusionReason.TOO_YOUNG,
            f"running for {shown}, minimum is {int(policy.min_age.total_seconds())}s",
        )
    return None


def classify(pods: Iterable[PodFacts], policy: TargetPolicy, now: datetime) -> Candidates:
    """Split pods into candidates and exclusions (each with the first reason that applies)."""
    candidates: list[PodFacts] = []
    exclusions: list[Exclusion] = []
    for pod in pods:
        excluded = _exclusion(pod, policy, now)
        if excluded is None:
            candidates.append(pod)
        else:
            exclusions.append(excluded)
    return Candidates(tuple(candidates), tuple(exclusions))


@dataclass(frozen=True)
class WorkloadGroup:
    """Candidate pods of one workload; `replicas` counts every pod of it that was seen."""

    workload: str
    pods: tuple[PodFacts, ...]
    replicas: int

    def most_allowed(self, kill_mode: KillMode) -> int:
        """How many of these pods a kill may take before max_kills: never every replica of a
        workload with two or more unless the mode is `all`."""
        wanted = kill_mode.count(len(self.pods))
        if kill_mode.kind != "all" and self.replicas >= 2:
            wanted = min(wanted, self.replicas - 1)
        return wanted


def group_by_workload(
    candidates: Sequence[PodFacts], replicas: Mapping[str, int]
) -> list[WorkloadGroup]:
    """Candidates grouped by owning workload, sorted by workload so a seed replays exactly."""
    grouped: dict[str, list[PodFacts]] = {}
    for pod in candidates:
        grouped.setdefault(pod.workload, []).append(pod)
    return [
        WorkloadGroup(
            key,
            tuple(sorted(pods, key=lambda p: p.name)),
            max(replicas.get(key, 0), len(pods)),
        )
        for key, pods in sorted(grouped.items())
    ]


@dataclass(frozen=True)
class Selection:
    """The pods picked for one kill and how: enough to replay and explain the decision."""

    seed: int | None
    kill_mode: KillMode
    max_kills: int
    groups: tuple[WorkloadGroup, ...]
    workload: str | None
    picks: tuple[PodFacts, ...]
    explanation: str

    def describe(self, now: datetime) -> dict[str, Any]:
        """JSON-able record of the decision for the journal and `--json`."""
        return {
            "seed": self.seed,
            "kill_mode": str(self.kill_mode),
            "max_kills": self.max_kills,
            "groups": [
                {"workload": g.workload, "candidates": len(g.pods), "replicas": g.replicas}
                for g in self.groups
            ],
            "workload": self.workload,
            "picks": [p.describe(now) for p in self.picks],
            "explanation": self.explanation,
        }


def select(
    candidates: Candidates,
    *,
    kill_mode: KillMode,
    max_kills: int,
    rng: random.Random,
    seed: int | None = None,
) -> Selection:
    """Pick a workload at random among those that may lose a pod, then pods within it.

    Rules: one workload per kill; the count is the kill mode's over that workload's
    candidates, lowered to keep one replica standing (unless `all`), capped by max_kills
    (at least 0). `seed` is only recorded: `rng` must already be seeded with it.
    """
    groups = tuple(group_by_workload(candidates.candidates, candidates.replicas()))
    cap = max(0, max_kills)
    eligible = [g for g in groups if min(g.most_allowed(kill_mode), cap) > 0]
    if not eligible:
        why = "no candidates" if not groups else "no workload can lose a pod within the limits"
        return Selection(seed, kill_mode, cap, groups, None, (), why)
    group = rng.choice(eligible)
    count = min(group.most_allowed(kill_mode), cap)
    picks = tuple(sorted(rng.sample(group.pods, count), key=lambda p: p.name))
    explanation = (
        f"picked {group.workload} at random from {len(eligible)} eligible workload(s), then "
        f"{count} of its {len(group.pods)} candidate pod(s) ({group.replicas} replica(s) seen) "
        f"for kill mode {kill_mode}, max_kills {cap}"
    )
    return Selection(seed, kill_mode, cap, groups, group.workload, picks, explanation)
