"""Judging a gate from what its endpoint answered, without doing any I/O.

Rules: a gate fails closed — an answer that cannot be read (not JSON, an error status, an
unexpected shape, a value that is not a number) fails it with its own reason, as an
unreachable or slow endpoint does; Prometheus: every series of the result must be within
the bounds (the worst one is the observed value), an empty result fails unless
`empty: pass`, NaN fails; Alertmanager: any active alert matching every matcher fails it;
HTTP: the status (given, or any 2xx), then the body regex or the JSON value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gameday.domain.gate_specs import (
    AlertmanagerCheck,
    GateSpec,
    HttpCheck,
    PrometheusCheck,
    parse_matcher,
)

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[['\"]([^'\"]+)['\"]\]")


@dataclass(frozen=True)
class Judgement:
    """Whether a check passed, what was observed (for people) and why it failed."""

    passed: bool
    observed: str
    reason: str = ""


@dataclass(frozen=True)
class GateResult:
    """One evaluation of one gate."""

    gate: str
    kind: str
    passed: bool
    observed: str
    reason: str
    latency_ms: float
    stop_condition: bool = False
    bound: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def failure(self) -> str:
        """`gate NAME failed: OBSERVED (WHY)`, as skips and stop conditions say it."""
        return f"gate {self.gate} failed: {self.observed} ({self.reason})"

    def as_dict(self) -> dict[str, Any]:
        """Stable snake_case keys for events and `--json`."""
        return {
            "name": self.gate,
            "kind": self.kind,
            "passed": self.passed,
            "observed": self.observed,
            "reason": self.reason,
            "latency_ms": round(self.latency_ms, 1),
            "stop_condition": self.stop_condition,
            "bound": self.bound,
        }


def bound_of(gate: GateSpec) -> str | None:
    """The bound a gate holds its observation to, for people (`max 5`, `min 1, max 9`)."""
    check = gate.check
    if isinstance(check, PrometheusCheck):
        parts = [f"min {check.min:g}"] if check.min is not None else []
        parts += [f"max {check.max:g}"] if check.max is not None else []
        return ", ".join(parts)
    if isinstance(check, AlertmanagerCheck):
        return "no matching active alert"
    return f"status {check.status}" if check.status is not None else "status 2xx"


def judge_prometheus(check: PrometheusCheck, body: Any) -> Judgement:
    """An instant query's answer (`{"status": "success", "data": {...}}`) against the
    check's bounds."""
    if not isinstance(body, Mapping):
        return Judgement(False, "an unexpected answer", "not a Prometheus query response")
    if body.get("status") != "success":
        error = body.get("error") or body.get("errorType") or "no status"
        return Judgement(False, "a query error", f"Prometheus answered: {error}")
    data = body.get("data")
    kind = data.get("resultType") if isinstance(data, Mapping) else None
    result = data.get("result") if isinstance(data, Mapping) else None
    values: list[float] = []
    try:
        if kind == "vector" and isinstance(result, list):
            values = [float(series["value"][1]) for series in result]
        elif kind == "scalar" and isinstance(result, list):
            values = [float(result[1])]
        else:
            return Judgement(False, f"a {kind or 'missing'} result", "expected a vector or scalar")
    except (KeyError, IndexError, TypeError, ValueError):
        return Judgement(False, "an unreadable value", "a series has no numeric value")
    if not values:
        if check.empty == "pass":
            return Judgement(True, "no series (empty: pass)")
        return Judgement(False, "no series", "the query returned nothing (empty: fail)")
    if any(math.isnan(v) for v in values):
        return Judgement(False, "NaN", "the query returned NaN")
    if check.max is not None and (worst := max(values)) > check.max:
        return Judgement(False, f"{worst:g}", f"above max {check.max:g}")
    if check.min is not None and (worst := min(values)) < check.min:
        return Judgement(False, f"{worst:g}", f"below min {check.min:g}")
    shown = max(values) if check.max is not None else min(values)
    return Judgement(True, f"{shown:g}")


def alertmanager_filters(check: AlertmanagerCheck) -> list[str]:
    """The `filter` query parameters of `/api/v2/alerts` for the check's matchers."""
    return [f'{label}{op}"{value}"' for label, op, value in map(parse_matcher, check.matchers)]


def judge_alertmanager(check: AlertmanagerCheck, body: Any) -> Judgement:
    """`/api/v2/alerts` (a list of alerts) against the matchers: any active alert that
    matches them all fails the gate (matched here again, whatever the server filtered)."""
    if not isinstance(body, list):
        return Judgement(False, "an unexpected answer", "not a list of alerts")
    matchers = [parse_matcher(m) for m in check.matchers]
    firing: list[str] = []
    for alert in body:
        if not isinstance(alert, Mapping):
            return Judgement(False, "an unexpected answer", "an alert is not an object")
        labels = alert.get("labels") or {}
        state = (alert.get("status") or {}).get("state", "active")
        if state == "active" and all(_matches(labels, m) for m in matchers):
            firing.append(str(labels.get("alertname", "unnamed")))
    if firing:
        names = ", ".join(sorted(set(firing)))
        return Judgement(False, f"{len(firing)} alert(s) firing: {names}", "an alert matches")
    return Judgement(True, "no alert firing")


def _matches(labels: Mapping[str, Any], matcher: tuple[str, str, str]) -> bool:
    label, op, value = matcher
    actual = str(labels.get(label, ""))
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    hit = re.fullmatch(value, actual) is not None
    return hit if op == "=~" else not hit


def judge_http(check: HttpCheck, status: int, body: str, parsed: Any = None) -> Judgement:
    """An HTTP answer against the check: status first, then the body regex or the JSON
    value (`parsed` is the decoded JSON body when the check needs it)."""
    wanted = check.status
    if (wanted is not None and status != wanted) or (wanted is None and not 200 <= status < 300):
        expected = str(wanted) if wanted is not None else "2xx"
        return Judgement(False, f"HTTP {status}", f"expected {expected}")
    if check.body_regex is not None:
        if re.search(check.body_regex, body) is None:
            return Judgement(False, f"HTTP {status}", f"body does not match {check.body_regex!r}")
        return Judgement(True, f"HTTP {status}, body matches")
    if check.json_check is not None:
        try:
            value = json_path(parsed, check.json_check.path)
        except LookupError as exc:
            return Judgement(False, f"HTTP {status}", f"{check.json_check.path}: {exc}")
        if value != check.json_check.equals:
            return Judgement(
                False,
                f"{check.json_check.path} = {value!r}",
                f"expected {check.json_check.equals!r}",
            )
        return Judgement(True, f"{check.json_check.path} = {value!r}")
    return Judgement(True, f"HTTP {status}")


def json_path_steps(path: str) -> list[str | int]:
    """The steps of a `$.a.b[0]['c']` path; ValueError when it is not in that form."""
    if not path.startswith("$"):
        raise ValueError(f"invalid JSON path {path!r}: expected $.name or $[0] steps")
    steps: list[str | int] = []
    rest = path[1:]
    while rest:
        found = _STEP.match(rest)
        if found is None:
            raise ValueError(f"invalid JSON path {path!r}: cannot read {rest!r}")
        name, index, quoted = found.groups()
        steps.append(int(index) if index is not None else (name or quoted))
        rest = rest[found.end() :]
    return steps


def json_path(document: Any, path: str) -> Any:
    """The value at `path` in a decoded JSON document; LookupError when it is absent."""
    value = document
    for step in json_path_steps(path):
        value = _step(value, step)
    return value


def _step(value: Any, step: str | int) -> Any:
    if isinstance(step, int):
        if isinstance(value, list) and -len(value) <= step < len(value):
            return value[step]
    elif isinstance(value, Mapping) and step in value:
        return value[step]
    raise LookupError(f"no value at {step!r}")


def first_failure(results: Sequence[GateResult]) -> GateResult | None:
    """The first failed gate of an evaluation, or None when all passed."""
    return next((r for r in results if not r.passed), None)
