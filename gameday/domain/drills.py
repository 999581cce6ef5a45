"""Incident-response drills: the parsed `drill:` spec, alert matchers and a drill's figures.

A drill is a GameDay run whose point is to exercise people. Its events (see the constants
below) record when the fault started, who acknowledged and resolved it, and which
Alertmanager alerts fired; `drill_figures` turns them into time to detect / acknowledge /
resolve and judges each against its target. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from gameday.domain.execution import start_record
from gameday.domain.gate_specs import parse_matcher as gate_parse_matcher
from gameday.domain.runs import RunEvent

# Event types a drill run records (RunEvent.type).
FAULT_STARTED = "fault_started"  # payload: {"activity": name of the first method action}
DRILL_ACKED = "drill_acked"  # actor: who; payload: {"by": who}
DRILL_RESOLVED = "drill_resolved"  # actor: who; payload: {"by": who, "note": text | None}
ALERT_FIRED = "alert_fired"  # payload: {"alertname", "labels", "starts_at", "fingerprint"}
# The worker ended the method because of a resolve; payload: {"when": "method" |
# "before_method" | "after_method"}.
METHOD_RESOLVED = "method_resolved"
# Key of a run's start record (its move to running) holding its DrillSpec.to_json().
RECORD_KEY = "drill"

DRILL_EVENTS = frozenset({FAULT_STARTED, DRILL_ACKED, DRILL_RESOLVED, ALERT_FIRED, METHOD_RESOLVED})

DEFAULT_DETECT_WITHIN = timedelta(minutes=10)
DEFAULT_RESOLVE_WITHIN = timedelta(minutes=30)

Verdict = Literal["met", "missed", "none"]
MatchOp = Literal["=", "!=", "=~", "!~"]


@dataclass(frozen=True)
class AlertMatcher:
    """One Alertmanager-style label matcher: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`.

    Rules (as Alertmanager's): a missing label reads as the empty string; regexes are
    anchored at both ends (the whole value must match).
    """

    name: str
    op: MatchOp
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether `labels` satisfy this matcher."""
        actual = str(labels.get(self.name, ""))
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        escaped = self.value.replace('"', '\\"')  # the one escape the parser reads
        return f'{self.name}{self.op}"{escaped}"'


def parse_matcher(text: str) -> AlertMatcher:
    """Parse `name="value"` (or `!=`, `=~`, `!~`); ValueError with the reason.

    Rules: the grammar of the health gates' matchers (`gate_specs.parse_matcher`): the
    value may be double-quoted (`\\"` escapes a quote); a regex must compile.
    """
    if not isinstance(text, str):
        raise ValueError(f"alert matcher {text!r} is not a string")
    name, op, value = gate_parse_matcher(text)
    return AlertMatcher(name=name, op=op, value=value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DrillSpec:
    """A run's drill settings, parsed from `drill:` (`true` means all the defaults).

    `announced=False` means responders are not told: the run is announced and approved
    only among its approvers (by DM, or in the private `channel`). An empty
    `alert_matchers` matches any alert.
    """

    announced: bool = True
    responders: tuple[str, ...] = ()
    detect_within: timedelta = DEFAULT_DETECT_WITHIN
    resolve_within: timedelta = DEFAULT_RESOLVE_WITHIN
    channel: str | None = None
    alert_matchers: tuple[AlertMatcher, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether an alert with `labels` counts for this drill (all matchers hold)."""
        return all(m.matches(labels) for m in self.alert_matchers)

    def to_json(self) -> dict[str, Any]:
        """The spec as plain JSON values (stored with the run's brief)."""
        return {
            "announced": self.announced,
            "responders": list(self.responders),
            "detect_within_s": self.detect_within.total_seconds(),
            "resolve_within_s": self.resolve_within.total_seconds(),
            "channel": self.channel,
            "alert_matchers": [str(m) for m in self.alert_matchers],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DrillSpec:
        """The inverse of `to_json`."""
        return cls(
            announced=bool(data.get("announced", True)),
            responders=tuple(data.get("responders") or ()),
            detect_within=timedelta(
                seconds=float(data.get("detect_within_s", DEFAULT_DETECT_WITHIN.total_seconds()))
            ),
            resolve_within=timedelta(
                seconds=float(data.get("resolve_within_s", DEFAULT_RESOLVE_WITHIN.total_seconds()))
            ),
            channel=data.get("channel"),
            alert_matchers=tuple(parse_matcher(m) for m in data.get("alert_matchers") or ()),
        )


def recorded_drill(record: Mapping[str, Any] | None) -> DrillSpec | None:
    """The drill a run's start record names (see `RECORD_KEY`); None: not a drill."""
    raw = record.get(RECORD_KEY) if record is not None else None
    return DrillSpec.from_json(raw) if isinstance(raw, Mapping) else None


def figures_of(events: Sequence[RunEvent]) -> DrillFigures | None:
    """The figures of a run's drill from its events; None when the run is not a drill."""
    spec = recorded_drill(start_record(events))
    return drill_figures(spec, events) if spec is not None else None


@dataclass(frozen=True)
class AlertSeen:
    """An Alertmanager alert recorded on a drill run."""

    name: str
    labels: Mapping[str, str]
    starts_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The alert as plain JSON values."""
        return {
            "name": self.name,
            "labels": dict(self.labels),
            "starts_at": self.starts_at.isoformat(),
        }


@dataclass(frozen=True)
class DrillFigures:
    """What a drill measured: who did what when, and each figure against its target."""

    announced: bool
    responders: tuple[str, ...]
    fault_started_at: datetime | None
    detected_at: datetime | None
    detected_by: str | None  # "alert" or "ack"
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolve_note: str | None
    participants: tuple[str, ...]
    alerts: tuple[AlertSeen, ...]
    ttd_s: float | None
    tta_s: float | None
    ttr_s: float | None
    detect_within_s: float
    resolve_within_s: float
    detect: Verdict
    acknowledge: Verdict
    resolve: Verdict

    def to_json(self) -> dict[str, Any]:
        """The journal's `drill` object (times in seconds from the fault's start)."""
        return {
            "announced": self.announced,
            "fault_started_at": _iso(self.fault_started_at),
            "ttd_s": self.ttd_s,
            "tta_s": self.tta_s,
            "ttr_s": self.ttr_s,
            "detected_by": self.detected_by,
            "acknowledged_by": self.acknowledged_by,
            "resolved_by": self.resolved_by,
            "resolve_note": self.resolve_note,
            "responders": list(self.responders),
            "participants": list(self.participants),
            "alerts": [a.to_json() for a in self.alerts],
            "targets": {
                "detect_within_s": self.detect_within_s,
                "acknowledge_within_s": self.detect_within_s,
                "resolve_within_s": self.resolve_within_s,
            },
            "verdicts": {
                "detect": self.detect,
                "acknowledge": self.acknowledge,
                "resolve": self.resolve,
            },
        }


def drill_figures(spec: DrillSpec, events: Sequence[RunEvent]) -> DrillFigures:
    """Measure a drill from its run's events.

    Rules:
    - the fault starts at the first `fault_started` event; without one nothing is measured
      (every figure None, every verdict "none");
    - detection is the earliest `startsAt` of the recorded alerts that started at or after
      the fault (an alert already firing before it was not caused by it), else the first
      ack; time to acknowledge is the first ack, time to resolve the first resolve, each
      in seconds from the fault's start;
    - the first ack and the first resolve at or after the fault's start count; everyone
      who acked or resolved is a participant (in order of first appearance);
    - a figure is "met" when it is within its target, "missed" when it is over the target
      or when it is absent and the target had passed by the run's last event, else
      "none"; acknowledging has no target of its own and is held to `detect_within`.
    """
    ordered = sorted(events, key=lambda e: (e.at, e.seq))
    fault = next((e for e in ordered if e.type == FAULT_STARTED), None)
    acks = [e for e in ordered if e.type == DRILL_ACKED]
    resolves = [e for e in ordered if e.type == DRILL_RESOLVED]
    alerts = tuple(_alert(e) for e in ordered if e.type == ALERT_FIRED)
    people = (e for e in ordered if e.type in (DRILL_ACKED, DRILL_RESOLVED))
    participants = tuple(dict.fromkeys(_who(e) for e in people))
    start = fault.at if fault else None
    # An ack or resolve before the fault started measures nothing (it still makes a
    # participant); with no fault, none counts.
    acks = [e for e in acks if start is not None and e.at >= start]
    resolves = [e for e in resolves if start is not None and e.at >= start]
    ack, resolved = (acks[0] if acks else None), (resolves[0] if resolves else None)

    detected_at: datetime | None = None
    detected_by: str | None = None
    if start is not None:
        caused = [a.starts_at for a in alerts if a.starts_at >= start]
        if caused:
            detected_at, detected_by = min(caused), "alert"
        elif ack is not None:
            detected_at, detected_by = ack.at, "ack"
    acked_at = ack.at if ack else None
    resolved_at = resolved.at if resolved else None

    detect_s = spec.detect_within.total_seconds()
    resolve_s = spec.resolve_within.total_seconds()
    last = ordered[-1].at if ordered else None
    ttd, tta, ttr = (_since(start, t) for t in (detected_at, acked_at, resolved_at))
    return DrillFigures(
        announced=spec.announced,
        responders=spec.responders,
        fault_started_at=start,
        detected_at=detected_at,
        detected_by=detected_by,
        acknowledged_at=acked_at,
        acknowledged_by=_who(ack) if ack else None,
        resolved_at=resolved_at,
        resolved_by=_who(resolved) if resolved else None,
        resolve_note=(resolved.payload.get("note") or None) if resolved else None,
        participants=participants,
        alerts=alerts,
        ttd_s=ttd,
        tta_s=tta,
        ttr_s=ttr,
        detect_within_s=detect_s,
        resolve_within_s=resolve_s,
        detect=_verdict(ttd, detect_s, start, last),
        acknowledge=_verdict(tta, detect_s, start, last),
        resolve=_verdict(ttr, resolve_s, start, last),
    )


def _alert(event: RunEvent) -> AlertSeen:
    payload = event.payload
    raw = payload.get("starts_at")
    try:
        starts_at = datetime.fromisoformat(raw) if isinstance(raw, str) else event.at
    except ValueError:
        starts_at = event.at
    labels = payload.get("labels") or {}
    return AlertSeen(
        name=str(payload.get("alertname") or labels.get("alertname") or "?"),
        labels={str(k): str(v) for k, v in labels.items()},
        starts_at=starts_at,
    )


def _who(event: RunEvent) -> str:
    return str(event.payload.get("by") or event.actor)


def _since(start: datetime | None, when: datetime | None) -> float | None:
    if start is None or when is None:
        return None
    return round((when - start).total_seconds(), 3)


def _verdict(
    value: float | None, target: float, start: datetime | None, last: datetime | None
) -> Verdict:
    if start is None:
        return "none"
    if value is not None:
        return "met" if value <= target else "missed"
    if last is not None and (last - start).total_seconds() > target:
        return "missed"
    return "none"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
