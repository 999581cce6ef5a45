"""The postmortem: the human document rendered from a journal, as data for templates.

Built from the exported journal document (see gameday.services.journal_export), so the
postmortem shows exactly what the export holds, secrets masked the same way. Every time
carries its offset and zone name; text is left raw here (templates escape it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any

from gameday.domain.timeline_chart import TimelineChart
from gameday.domain.trend_chart import TrendChart, TrendPoint, trend_chart
from gameday.services.journal_export import GAMEDAY_KEY
from gameday.services.postmortem_chart import ChartRow, chart_of, chart_rows
from gameday.services.postmortem_people import DrillView, action_items, drill_view, participants
from gameday.services.postmortem_probes import ProbeRow, probe_rows

DETAIL_LIMIT = 200


@dataclass(frozen=True)
class Line:
    """One dated line: a timeline entry, an approval, a note, an announcement."""

    at: str
    what: str
    who: str = ""
    details: str = ""


@dataclass(frozen=True)
class Activity:
    """One activity as Chaos Toolkit ran it: probe or action, status, start, duration."""

    name: str
    type: str
    status: str
    started: str
    duration: str
    details: str = ""


@dataclass(frozen=True)
class SteadyState:
    """The steady-state hypothesis checked before or after the method."""

    met: bool | None
    probes: list[Activity]


@dataclass(frozen=True)
class Postmortem:
    """Everything a postmortem template shows, in display form."""

    title: str
    run_id: int
    kind: str
    schedule: str
    runbook: str
    digest: str
    requester: str
    seed: str
    outcome: str
    chaos_status: str
    deviated: bool
    dry_run: bool
    planned_at: str
    started: str
    ended: str
    duration: str
    zone: str
    has_chaostoolkit_journal: bool
    timeline: list[Line]
    before: SteadyState | None
    after: SteadyState | None
    activities: list[Activity]
    rollbacks: list[Activity]
    approvals: list[Line]
    announcements: list[Line]
    notes: list[Line]
    gates: list[Line]
    chart: TimelineChart | None = None
    chart_rows: list[ChartRow] = field(default_factory=list)
    chart_start: str = "-"  # the chart's first instant, for the table's times
    probes: list[ProbeRow] = field(default_factory=list)
    drill: DrillView | None = None
    trend: TrendChart | None = None
    trend_points: list[TrendPoint] = field(default_factory=list)
    action_items: list[Line] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    # The stored Chaos Toolkit journal as indented JSON (the appendix); None without one.
    raw_journal: str | None = None


def zone_name(zone: tzinfo) -> str:
    """The zone's IANA name when it has one (ZoneInfo), else its abbreviation."""
    key = getattr(zone, "key", None)
    return str(key) if key else str(zone)


def when(value: Any, zone: tzinfo) -> str:
    """An ISO 8601 time shown in `zone` with its offset and zone name; naive times are
    UTC (chaoslib writes them so); "-" when there is none."""
    if not isinstance(value, str) or not value:
        return "-"
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return value
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return f"{at.astimezone(zone).isoformat(sep=' ', timespec='seconds')} ({zone_name(zone)})"


def seconds(value: Any) -> str:
    """A duration in seconds for people ("1.25 s", "3 min 4 s"); "-" when unknown."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    if value < 60:
        return f"{value:.2f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def event_details(type_: str, payload: Mapping[str, Any]) -> str:
    """One line saying what an event recorded."""
    rest = dict(payload)
    if type_ == "state_changed":
        head = f"{rest.pop('from', '?')} -> {rest.pop('to', '?')}"
        reason = rest.pop("reason", "")
        return _short(f"{head}: {reason}" if reason else head)
    if type_ in ("activity_started", "activity_finished"):
        parts = [f"{rest.get('type') or 'activity'} {rest.get('name')!s}"]
        if "status" in rest:
            parts.append(str(rest.get("status")))
        if rest.get("duration") is not None:
            parts.append(seconds(rest.get("duration")))
        if rest.get("error"):
            parts.append(f"error: {rest['error']}")
        return _short(", ".join(parts))
    return _short(", ".join(f"{k}={_short(v)}" for k, v in sorted(rest.items()))) if rest else ""


_GATE_EVENTS = ("gate_evaluated", "stop_condition")


def _gate_line(event: Mapping[str, Any], zone: tzinfo) -> Line:
    """A health gate evaluation (or a stop condition's breach) for people: the gate's name,
    pass/fail, what was observed against which bound, and why."""
    p = _mapping(event.get("payload"))
    if event.get("type") == "stop_condition":
        what = "stop condition breached"
    else:
        what = "pass" if p.get("passed") else "fail"
    details = _text(p.get("observed"))
    if p.get("reason"):
        details += f" ({_text(p.get('reason'))})"
    if p.get("bound"):
        details += f"; bound: {_text(p.get('bound'))}"
    if isinstance(p.get("latency_ms"), int | float):
        details += f"; {p['latency_ms']:.0f} ms"
    return Line(when(event.get("at"), zone), what, _text(p.get("name") or p.get("gate")), details)


def _activity(item: Any, zone: tzinfo) -> Activity:
    if not isinstance(item, Mapping):
        return Activity("?", "?", "?", "-", "-")
    activity = _mapping(item.get("activity"))
    details: list[str] = []
    if "tolerance_met" in item:
        details.append(f"tolerance met: {item.get('tolerance_met')}")
    exception = item.get("exception")
    if isinstance(exception, list) and exception:
        details.append(f"error: {str(exception[-1]).strip()}")
    return Activity(
        name=_text(activity.get("name")) or "?",
        type=_text(activity.get("type")) or "?",
        # chaoslib records no status when a signal interrupted the activity
        status=_text(item.get("status")) or "interrupted",
        started=when(item.get("start"), zone),
        duration=seconds(item.get("duration")),
        details=_short("; ".join(details)) if details else "",
    )


def _activities(items: Any, zone: tzinfo) -> list[Activity]:
    return [_activity(i, zone) for i in items] if isinstance(items, Sequence) else []


def _steady_state(value: Any, zone: tzinfo) -> SteadyState | None:
    if not isinstance(value, Mapping):
        return None
    met = value.get("steady_state_met")
    return SteadyState(
        met=met if isinstance(met, bool) else None,
        probes=_activities(value.get("probes") or [], zone),
    )


def _chaos_status(document: Mapping[str, Any]) -> str:
    if document.get("deviated"):
        return "deviated"
    status = document.get("status")
    return status if isinstance(status, str) and status else "unknown"


def _raw_journal(document: Mapping[str, Any]) -> str:
    stored = {k: v for k, v in document.items() if k != GAMEDAY_KEY}
    return json.dumps(stored, indent=2, ensure_ascii=False, default=str)


def postmortem_of(
    document: Mapping[str, Any], zone: tzinfo, trend: Sequence[TrendPoint] = ()
) -> Postmortem:
    """The postmortem of an exported journal document, times shown in `zone`; `trend` is
    the runbook's recent runs (see gameday.services.postmortem_trend), oldest first."""
    section = _mapping(document.get(GAMEDAY_KEY))
    run = _mapping(section.get("run"))
    experiment = _mapping(document.get("experiment"))
    steady = _mapping(document.get("steady_states"))
    events = [e for e in section.get("events") or [] if isinstance(e, Mapping)]
    has_journal = bool(section.get("has_chaostoolkit_journal"))
    chart = chart_of(document, events, zone)
    shown = partial(when, zone=zone)
    return Postmortem(
        title=_text(experiment.get("title")) or f"run {run.get('id')}",
        run_id=int(run.get("id") or 0),
        kind=_text(run.get("kind")),
        schedule=_text(run.get("schedule")) or "(ad hoc)",
        runbook=_text(run.get("runbook")) or "-",
        digest=_text(run.get("runbook_digest")) or "-",
        requester=_text(run.get("requester")) or "-",
        seed=_text(run.get("seed")) or "-",
        outcome=_text(run.get("state")) or "unknown",
        chaos_status=_chaos_status(document),
        deviated=bool(document.get("deviated")),
        dry_run=bool(run.get("dry_run", True)),
        planned_at=when(run.get("planned_at"), zone),
        started=when(document.get("start"), zone),
        ended=when(document.get("end"), zone),
        duration=seconds(document.get("duration")),
        zone=zone_name(zone),
        has_chaostoolkit_journal=has_journal,
        timeline=[
            Line(
                at=when(e.get("at"), zone),
                what=_text(e.get("type")),
                who=_text(e.get("actor")),
                details=event_details(_text(e.get("type")), e.get("payload") or {}),
            )
            for e in events
        ],
        before=_steady_state(steady.get("before"), zone),
        after=_steady_state(steady.get("after"), zone),
        activities=_activities(document.get("run") or [], zone),
        rollbacks=_activities(document.get("rollbacks") or [], zone),
        approvals=[
            Line(when(a.get("at"), zone), _text(a.get("decision")), _text(a.get("user")))
            for a in section.get("approvals") or []
        ],
        announcements=[
            Line(
                when(a.get("created_at"), zone),
                _text(a.get("kind")),
                _text(a.get("channel")),
                f"delivered {when(a.get('delivered_at'), zone)}"
                if a.get("delivered_at")
                else "not delivered",
            )
            for a in section.get("announcements") or []
        ],
        notes=[
            Line(when(n.get("at"), zone), _text(n.get("text")), _text(n.get("author")))
            for n in section.get("notes") or []
        ],
        gates=[_gate_line(e, zone) for e in events if e.get("type") in _GATE_EVENTS],
        chart=chart,
        chart_rows=chart_rows(chart),
        chart_start=when(chart.start.isoformat(), zone) if chart else "-",
        probes=probe_rows(document, events, has_journal=has_journal),
        drill=drill_view(section.get("drill"), shown),
        trend=trend_chart(trend) if trend else None,
        trend_points=list(trend),
        action_items=[
            Line(when(at, zone), text, author)
            for at, author, text in action_items(section.get("notes") or [])
        ],
        participants=participants(section),
        raw_journal=_raw_journal(document) if has_journal else None,
    )
