"""A postmortem's timeline chart, from an exported journal: which events are markers, the
activities as spans, the fault's span, and the chart as table rows for Markdown.

Rules:
- activities come from the stored Chaos Toolkit journal (its exact start and end), else
  from the run's `activity_started` / `activity_finished` events (a run that crashed
  before chaoslib wrote its journal);
- the fault is shaded from `fault_started` (a drill) to the method's end (or the drill's
  resolve); without one, over the method's span; an unfinished fault runs to the end;
- the axis covers the run from its move to running to its last event; a run that never
  ran covers all its events.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from gameday.domain import drills
from gameday.domain import execution as ex
from gameday.domain.timeline_chart import Mark, Span, TimelineChart, layout, short

FINAL = frozenset(
    {"completed", "deviated", "failed", "aborted", "interrupted", "skipped", "rejected", "expired"}
)
_PHASES = {
    "hypothesis_before": "before",
    "hypothesis_during": "during",
    "hypothesis_after": "after",
    "method": "method",
    "rollback": "rollback",
}
_HALTS = {
    ex.HALT_REQUESTED: "halt requested",
    "halt_pressed": "Halt pressed",
    ex.HARD_STOPPED: "hard stop",
    ex.TIMED_OUT: "time limit reached",
    "vetoed": "vetoed",
    "veto_requested": "veto",
}
_OTHER = {
    ex.WORKER_FAILED: "worker failed",
    ex.SUPERVISOR_LOST: "supervisor lost",
    ex.RECOVERY_STARTED: "recovery started",
    ex.RECOVERY_FINISHED: "recovery finished",
    ex.INTERRUPTED: "interrupted",
    "kill_skipped": "kill skipped",
}


@dataclass(frozen=True)
class ChartRow:
    """One line of the chart as a table: time from the chart's start, kind and label."""

    offset: str
    kind: str
    label: str


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as an aware datetime (naive is UTC, as chaoslib writes); None if
    it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _who(event: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    return str(payload.get("by") or event.get("actor") or "?")


def mark_of(event: Mapping[str, Any]) -> Mark | None:
    """The marker an exported event stands for, or None (activities are bars, the rest
    is in the timeline table)."""
    at = parse_time(event.get("at"))
    kind = event.get("type")
    p = event.get("payload")
    payload: Mapping[str, Any] = p if isinstance(p, Mapping) else {}
    if at is None:
        return None
    if kind == "state_changed":
        to = payload.get("to")
        if to in ("announced", "awaiting_approval"):
            return Mark("announcement", "announced" if to == "announced" else "approval asked", at)
        if to == "approved":
            return Mark("approval", "approved", at)
        if to == "running":
            return Mark("start", "started", at)
        return Mark("end", str(to), at) if to in FINAL else None
    if kind == "approval":
        return Mark("approval", f"{payload.get('decision', '?')} by {event.get('actor')}", at)
    if kind == drills.FAULT_STARTED:
        return Mark("fault", "fault started", at)
    if kind in (ex.DEVIATED, ex.STEADY_STATE_NOT_MET):
        probes = ", ".join(str(n) for n in payload.get("probes") or [])
        head = "deviated" if kind == ex.DEVIATED else "steady state not met"
        return Mark("deviation", f"{head}: {probes}" if probes else head, at)
    if kind == drills.ALERT_FIRED:
        return Mark("alert", f"alert {payload.get('alertname') or '?'}", at)
    if kind == drills.DRILL_ACKED:
        return Mark("ack", f"ack by {_who(event, payload)}", at)
    if kind == drills.DRILL_RESOLVED:
        return Mark("resolve", f"resolved by {_who(event, payload)}", at)
    if kind in _HALTS:
        return Mark("halt", f"{_HALTS[str(kind)]} ({event.get('actor')})", at)
    if kind == ex.STOP_CONDITION:
        return Mark("stop_condition", f"stop condition {payload.get('name') or ''}".strip(), at)
    if kind in (ex.ROLLBACK_STARTED, ex.ROLLBACK_FINISHED):
        return Mark("rollback", "rollbacks " + str(kind).split("_")[1], at)
    if kind == "note":
        return Mark("note", f"note: {payload.get('text', '')}", at)
    if kind == "kill":
        return Mark("other", f"killed {payload.get('namespace')}/{payload.get('pod')}", at)
    if kind in _OTHER:
        return Mark("other", _OTHER[str(kind)], at)
    return None


def _journal_spans(document: Mapping[str, Any]) -> list[Span]:
    steady = document.get("steady_states")
    states: Mapping[str, Any] = steady if isinstance(steady, Mapping) else {}

    def items() -> Iterator[tuple[str, Any]]:
        for phase in ("before",):
            for probe in _probes(states.get(phase)):
                yield phase, probe
        for item in document.get("run") or []:
            yield "method", item
        for state in states.get("during") or []:
            for probe in _probes(state):
                yield "during", probe
        for probe in _probes(states.get("after")):
            yield "after", probe
        for item in document.get("rollbacks") or []:
            yield "rollback", item

    spans = []
    for phase, item in items():
        if not isinstance(item, Mapping):
            continue
        start, end = parse_time(item.get("start")), parse_time(item.get("end"))
        if start is None:
            continue
        activity = item.get("activity")
        name = activity.get("name") if isinstance(activity, Mapping) else None
        status = str(item.get("status") or "interrupted")
        spans.append(Span(phase, str(name or "?"), status, start, end or start))
    return spans


def _probes(state: Any) -> list[Any]:
    probes = state.get("probes") if isinstance(state, Mapping) else None
    return list(probes) if isinstance(probes, list) else []


def _event_spans(events: Sequence[Mapping[str, Any]], end: datetime) -> list[Span]:
    """Activities paired from their started/finished events (first in, first out)."""
    open_: dict[tuple[str, str], list[datetime]] = {}
    spans = []
    for event in events:
        kind = event.get("type")
        if kind not in (ex.ACTIVITY_STARTED, ex.ACTIVITY_FINISHED):
            continue
        at = parse_time(event.get("at"))
        p = event.get("payload")
        if at is None or not isinstance(p, Mapping):
            continue
        key = (str(p.get("name") or "?"), _PHASES.get(str(p.get("phase")), str(p.get("phase"))))
        if kind == ex.ACTIVITY_STARTED:
            open_.setdefault(key, []).append(at)
            continue
        waiting = open_.get(key)
        start = waiting.pop(0) if waiting else at
        status = str(p.get("status") or "interrupted")
        spans.append(Span(key[1], key[0], status, start, at))
    for (name, phase), starts in open_.items():
        spans.extend(Span(phase, name, "unfinished", s, end) for s in starts)
    return sorted(spans, key=lambda s: s.start)


def _fault(
    events: Sequence[Mapping[str, Any]], spans: Sequence[Span]
) -> tuple[datetime, datetime | None] | None:
    times: dict[str, datetime | None] = {}
    for event in events:
        kind = str(event.get("type"))
        if kind in (drills.FAULT_STARTED, drills.DRILL_RESOLVED, ex.METHOD_STARTED):
            times.setdefault(kind, parse_time(event.get("at")))
        elif kind == ex.METHOD_FINISHED:
            times[kind] = parse_time(event.get("at"))
    method = [s for s in spans if s.phase == "method"]
    method_end = times.get(ex.METHOD_FINISHED) or (max(s.end for s in method) if method else None)
    fault = times.get(drills.FAULT_STARTED)
    if fault is not None:
        ends = [t for t in (method_end, times.get(drills.DRILL_RESOLVED)) if t and t >= fault]
        return fault, min(ends) if ends else None
    start = times.get(ex.METHOD_STARTED) or (min(s.start for s in method) if method else None)
    return (start, method_end) if start is not None else None


def chart_of(
    document: Mapping[str, Any], events: Sequence[Mapping[str, Any]], zone: tzinfo
) -> TimelineChart | None:
    """The timeline chart of an exported journal; None for a run without any event."""
    times = [t for t in (parse_time(e.get("at")) for e in events) if t is not None]
    if not times:
        return None
    started = next(
        (
            parse_time(e.get("at"))
            for e in events
            if e.get("type") == "state_changed" and (e.get("payload") or {}).get("to") == "running"
        ),
        None,
    )
    end = max(times)
    spans = _journal_spans(document) or _event_spans(events, end)
    start = started or min(times)
    if spans:
        start = min(start, min(s.start for s in spans))
        end = max(end, max(s.end for s in spans))
    marks = (m for m in map(mark_of, events) if m is not None)
    return layout(
        start=start, end=end, spans=spans, marks=marks, fault=_fault(events, spans), zone=zone
    )


def _offset(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes, rest = divmod(abs(round(seconds)), 60)
    return f"{sign}{minutes}:{rest:02d}"


def chart_rows(chart: TimelineChart | None) -> list[ChartRow]:
    """The chart as a table (what Markdown shows): its bars and markers in time order,
    with their time from the chart's first instant."""
    if chart is None:
        return []
    items = [
        (b.span.start, "activity", f"{b.span.phase}: {b.span.name} ({b.span.status})")
        for b in chart.bars
    ]
    items += [(m.mark.at, m.kind, short(m.mark.label, 120)) for m in chart.markers]
    items.sort(key=lambda item: item[0])
    return [
        ChartRow(_offset((at - chart.start).total_seconds()), kind, label)
        for at, kind, label in items
    ]
