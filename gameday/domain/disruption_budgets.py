"""PodDisruptionBudgets for a plain delete: which budgets cover a pod and whether they allow
one more disruption now.

The Eviction API checks budgets on the server; a delete does not, so gameday reads the
budgets of the pod's namespace first and deletes only when every budget covering the pod
allows a disruption (safety rule 5 holds for `method: delete` too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a metav1.LabelSelector selects an object with `labels`.

    Rules: a null selector selects nothing and an empty one everything (policy/v1); every
    `matchLabels` pair must be present; `matchExpressions` are In (value among `values`),
    NotIn (key absent or value not among them), Exists and DoesNotExist. An operator this
    code does not know selects the pod: a budget then protects it rather than being ignored.
    """
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key")
        values = expression.get("values") or []
        operator = expression.get("operator")
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _refusal(budget: Mapping[str, Any]) -> str | None:
    meta = budget.get("metadata") or {}
    status = budget.get("status") or {}
    name = meta.get("name", "?")
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    # The Eviction API refuses on a stale status too: the budget changed since it was counted.
    if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        return (
            f"PodDisruptionBudget {name} is being recounted "
            f"(observedGeneration {observed} < generation {generation})"
        )
    allowed = status.get("disruptionsAllowed")
    if not isinstance(allowed, int):
        return (
            f"PodDisruptionBudget {name} allows no disruption now (disruptionsAllowed not reported)"
        )
    if allowed < 1:
        return f"PodDisruptionBudget {name} allows no disruption now (disruptionsAllowed {allowed})"
    return None


def blocking_budget(budgets: Iterable[Mapping[str, Any]], labels: Mapping[str, str]) -> str | None:
    """Why a pod with `labels` may not be deleted now, or None when it may.

    Rules: only budgets whose selector matches the pod count; each must report
    `status.disruptionsAllowed >= 1` for a status that is current; a budget without a status
    yet blocks. The first blocking budget (in the order given) is named.
    """
    for budget in budgets:
        if selector_matches((budget.get("spec") or {}).get("selector"), labels):
            reason = _refusal(budget)
            if reason is not None:
                return reason
    return None
