"""Normal vs injected: each steady-state probe's value against its tolerance before the
method, during it (the method's probes of the same name, and steady states judged during
it) and after it, side by side.

Rules:
- read from the stored Chaos Toolkit journal; a run without one (it crashed before
  chaoslib wrote it) is read from its `activity_finished` events;
- a row per steady-state probe, in the hypothesis's order, then a row per other probe the
  method ran (no tolerance: its values are shown, never judged);
- "met" is chaoslib's own verdict where it gave one; a method probe sharing a steady-state
  probe's name is judged here for the simple tolerances (a value, a list of values, a
  range; an HTTP or process output by its status, as chaoslib does); others stay unknown;
- a row is a deviation when any of its verdicts is False.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VALUE_LIMIT = 80
_EVENT_PHASES = {
    "hypothesis_before": "before",
    "hypothesis_during": "during",
    "hypothesis_after": "after",
    "method": "method",
}


@dataclass(frozen=True)
class ProbeValue:
    """One probe result: its output for people and whether it met the tolerance."""

    value: str
    met: bool | None


@dataclass
class ProbeRow:
    """A probe across the run: tolerance, value before, values during, value after."""

    name: str
    tolerance: str
    before: ProbeValue | None = None
    during: list[ProbeValue] = field(default_factory=list)
    after: ProbeValue | None = None

    @property
    def deviated(self) -> bool:
        """Whether any value missed the tolerance."""
        values = [self.before, self.after, *self.during]
        return any(v is not None and v.met is False for v in values)


def show(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A probe output on one short line."""
    if isinstance(value, Mapping) and "status" in value:
        value = {"status": value.get("status"), **{k: v for k, v in value.items() if k != "status"}}
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def judge(tolerance: Any, output: Any) -> bool | None:
    """Chaos Toolkit's verdict for the simple tolerances; None when it cannot be judged here."""
    if isinstance(output, Mapping) and "status" in output and not isinstance(tolerance, Mapping):
        output = output.get("status")
    if isinstance(tolerance, (bool, int | float | str)):
        return bool(output == tolerance) if not isinstance(output, Mapping | list) else None
    if isinstance(tolerance, list):
        return output in tolerance if not isinstance(output, Mapping | list) else None
    if isinstance(tolerance, Mapping) and tolerance.get("type") == "range":
        bounds = tolerance.get("range")
        target = tolerance.get("target")
        if isinstance(output, Mapping) and isinstance(target, str):
            output = output.get(target)
        if isinstance(bounds, list) and len(bounds) == 2 and isinstance(output, int | float):
            return bool(bounds[0] <= output <= bounds[1])
    return None


def _activity(item: Mapping[str, Any]) -> Mapping[str, Any]:
    activity = item.get("activity")
    return activity if isinstance(activity, Mapping) else {}


def _probes(state: Any) -> list[Mapping[str, Any]]:
    probes = state.get("probes") if isinstance(state, Mapping) else None
    return [p for p in probes or [] if isinstance(p, Mapping)]


def _met(item: Mapping[str, Any]) -> bool | None:
    met = item.get("tolerance_met")
    return met if isinstance(met, bool) else None


class _Rows:
    """Rows by probe name, in order of first appearance."""

    def __init__(self, tolerances: Mapping[str, Any]) -> None:
        self.tolerances = dict(tolerances)
        self.rows: dict[str, ProbeRow] = {}

    def row(self, name: str, tolerance: Any = None) -> ProbeRow:
        if tolerance is not None and name not in self.tolerances:
            self.tolerances[name] = tolerance
        known = self.tolerances.get(name)
        shown = "-" if known is None else show(known)
        if name not in self.rows:
            self.rows[name] = ProbeRow(name=name, tolerance=shown)
        elif self.rows[name].tolerance == "-":  # known only from a later phase's activity
            self.rows[name].tolerance = shown
        return self.rows[name]

    def add(self, phase: str, name: str, output: Any, met: bool | None, tolerance: Any) -> None:
        row = self.row(name, tolerance)
        if phase == "method":
            known = self.tolerances.get(name)
            met = judge(known, output) if known is not None and met is None else met
        value = ProbeValue(show(output), met)
        if phase == "before":
            row.before = value
        elif phase == "after":
            row.after = value
        else:
            row.during.append(value)


def _hypothesis(document: Mapping[str, Any]) -> dict[str, Any]:
    experiment = document.get("experiment")
    hypothesis = (
        experiment.get("steady-state-hypothesis") if isinstance(experiment, Mapping) else None
    )
    found: dict[str, Any] = {}
    for probe in _probes(hypothesis):
        if isinstance(probe.get("name"), str):
            found[probe["name"]] = probe.get("tolerance")
    return found


def probe_rows(
    document: Mapping[str, Any], events: Sequence[Mapping[str, Any]], *, has_journal: bool
) -> list[ProbeRow]:
    """Normal vs injected for an exported journal (see the module's rules)."""
    hypothesis = _hypothesis(document)
    rows = _Rows(hypothesis)
    for name in hypothesis:
        rows.row(name)
    if has_journal:
        steady = document.get("steady_states")
        states: Mapping[str, Any] = steady if isinstance(steady, Mapping) else {}
        ordered: list[tuple[str, Mapping[str, Any]]] = [
            ("before", p) for p in _probes(states.get("before"))
        ]
        ordered += [
            ("method", i)
            for i in document.get("run") or []
            if isinstance(i, Mapping) and _activity(i).get("type") == "probe"
        ]
        ordered += [("during", p) for s in states.get("during") or [] for p in _probes(s)]
        ordered += [("after", p) for p in _probes(states.get("after"))]
        for phase, item in ordered:
            activity = _activity(item)
            name = str(activity.get("name") or "?")
            rows.add(phase, name, item.get("output"), _met(item), activity.get("tolerance"))
        return list(rows.rows.values())
    for event in events:
        p = event.get("payload")
        if event.get("type") != "activity_finished" or not isinstance(p, Mapping):
            continue
        seen = _EVENT_PHASES.get(str(p.get("phase")))
        if seen is None or (seen == "method" and p.get("type") != "probe"):
            continue
        rows.add(seen, str(p.get("name") or "?"), p.get("output"), _met(p), None)
    return list(rows.rows.values())
