"""Ports for the systems gameday reads and acts on: the spec files of a home, Chaos
Toolkit's experiment checks, the Kubernetes cluster and the monitoring its gates read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from gameday.domain.gate_specs import GateSpec
from gameday.domain.gates import GateResult
from gameday.domain.pods import PodFacts, Termination
from gameday.domain.spec_files import SourceFile


class SpecSource(Protocol):
    """The spec files of a home folder: `schedules/*.yaml` and `runbooks/*` (read, not parsed).

    `schedule_kinds` limits the schedule specs kept to these kinds (None: all of them).
    """

    schedule_kinds: frozenset[str] | None

    def schedule_files(self) -> list[SourceFile]:
        """Every schedule file, sorted by path; unreadable ones carry their problem."""
        ...

    def runbook_files(self) -> list[SourceFile]:
        """Every runbook file (.yaml, .yml, .json), sorted by path; likewise."""
        ...


class RunbookChecker(Protocol):
    """Chaos Toolkit's own rules for an experiment (chaoslib's validation)."""

    def problems(self, experiment: Mapping[str, Any]) -> list[str]:
        """What chaoslib finds wrong with the experiment; empty when it is valid."""
        ...


class Cluster(Protocol):
    """Pods of the Kubernetes cluster: discovery and termination (the monkey's reach)."""

    def pods_in(self, namespaces: Sequence[str], selector: str | None) -> list[PodFacts]:
        """Pods of these namespaces matching a label selector (server-side), owners
        resolved, in namespace order; Unavailable when the API server cannot be reached
        or fails."""
        ...

    def terminate(
        self, namespace: str, name: str, *, method: str, grace_period: int | None
    ) -> Termination:
        """Evict (default) or delete one pod; a PodDisruptionBudget refusal is a SKIPPED
        outcome with the server's reason, never a fallback to delete."""
        ...


class GateChecker(Protocol):
    """Evaluates a health gate against the monitoring it names."""

    def check(self, gate: GateSpec, *, retry: bool = False) -> GateResult:
        """One evaluation now; never raises (an unreachable endpoint fails the gate).
        `retry`: one more try after a connection error (not for stop conditions)."""
        ...
