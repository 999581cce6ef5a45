"""PodDisruptionBudget arithmetic (policy/v1) for the fake server: the eviction subresource
and the `status` a budget is read with.

The real server reads `status.disruptionsAllowed`, which the disruption controller keeps
current; the fake computes the same numbers from the pods it stores, at eviction time and
whenever a budget is read (get or list), so both always agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

ScaleOf = Callable[[str, str], int | None]  # (controller kind, name) -> desired replicas
_BUDGET_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions); null matches nothing."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, op = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def is_healthy(pod: Mapping[str, Any]) -> bool:
    """Running with a Ready=True condition, as the disruption controller counts."""
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def _scaled(value: int | str, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(total * float(value[:-1]) / 100)
    return int(value)


def _expected(covered: Sequence[Mapping[str, Any]], scale_of: ScaleOf) -> int:
    # Like the disruption controller: the controllers' desired replicas when every covered
    # pod has a scalable controller (so an evicted pod still counts until replaced), else
    # the number of pods.
    controllers: dict[tuple[str, str], int] = {}
    for pod in covered:
        refs = pod["metadata"].get("ownerReferences") or []
        ref = next((r for r in refs if r.get("controller")), None)
        scale = None if ref is None else scale_of(ref["kind"], ref["name"])
        if ref is None or scale is None:
            return len(covered)
        controllers[(ref["kind"], ref["name"])] = scale
    return sum(controllers.values())


def budget_counts(
    pdb: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], scale_of: ScaleOf
) -> tuple[int, int, int]:
    """(expected pods, desired healthy, currently healthy) for one budget over the pods of
    its namespace."""
    spec = pdb.get("spec") or {}
    covered = [
        p for p in pods if selector_matches(spec.get("selector"), p["metadata"].get("labels") or {})
    ]
    expected = _expected(covered, scale_of)
    healthy = sum(1 for p in covered if is_healthy(p))
    if spec.get("maxUnavailable") is not None:
        desired = max(0, expected - _scaled(spec["maxUnavailable"], expected))
    else:
        desired = _scaled(spec.get("minAvailable", 1), expected)
    return expected, desired, healthy


def disruptions_allowed(
    pdb: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], scale_of: ScaleOf
) -> tuple[int, int, int]:
    """(allowed, desired healthy, currently healthy) for one budget over the namespace's pods."""
    _, desired, healthy = budget_counts(pdb, pods, scale_of)
    return healthy - desired, desired, healthy


def budget_status(
    pdb: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], scale_of: ScaleOf
) -> dict[str, Any]:
    """The `status` the disruption controller would have written for this budget now."""
    expected, desired, healthy = budget_counts(pdb, pods, scale_of)
    allowed = max(0, healthy - desired)
    meta = pdb.get("metadata") or {}
    status: dict[str, Any] = {
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": [
            {
                "type": "DisruptionAllowed",
                "status": "True" if allowed > 0 else "False",
                "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                "message": "",
                "lastTransitionTime": meta.get("creationTimestamp", "2026-01-01T00:00:00Z"),
            }
        ],
    }
    generation = meta.get("generation")
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def eviction_refusal(
    pod: Mapping[str, Any],
    pdbs: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    scale_of: ScaleOf,
) -> tuple[int, str, str, Any] | None:
    """None when the eviction may proceed, else (code, reason, message, details) for a Status."""
    labels = pod["metadata"].get("labels") or {}
    matching = [b for b in pdbs if selector_matches((b.get("spec") or {}).get("selector"), labels)]
    if not matching:
        return None
    if len(matching) > 1:
        return (
            500,
            "InternalError",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource "
            "does not support.",
            None,
        )
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Pending"):
        return None
    budget = matching[0]
    allowed, desired, healthy = disruptions_allowed(budget, pods, scale_of)
    if allowed > 0:
        return None
    name = budget["metadata"]["name"]
    cause = {
        "reason": "DisruptionBudget",
        "message": f"The disruption budget {name} needs {desired} healthy pods and has "
        f"{healthy} currently",
    }
    return 429, "TooManyRequests", _BUDGET_MESSAGE, {"causes": [cause]}
