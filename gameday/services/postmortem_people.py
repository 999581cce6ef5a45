"""The people side of a postmortem: a drill's figures against their targets, the action
items noted during the run, and who took part.

Rules:
- drill figures are read from the export's `drill` object (see gameday.domain.drills);
- an action item is a note whose text starts with `action:` (any case), shown without it;
- participants, in order of first appearance: the requester, approvers, people who
  acknowledged or resolved a drill, pressed Halt or vetoed, and note authors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ACTION_PREFIX = "action:"
_PEOPLE_EVENTS = ("halt_pressed", "veto_requested", "vetoed")


@dataclass(frozen=True)
class DrillFigure:
    """One figure of a drill: its value, target and verdict (met, missed, none)."""

    name: str
    value: str
    target: str
    verdict: str
    by: str


@dataclass(frozen=True)
class AlertLine:
    """An alert recorded on the drill."""

    name: str
    labels: str
    starts_at: str


@dataclass(frozen=True)
class DrillView:
    """A drill's figures for people."""

    announced: bool
    responders: list[str]
    participants: list[str]
    figures: list[DrillFigure]
    alerts: list[AlertLine]
    resolve_note: str


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seconds(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"


def drill_view(drill: Any, when: Any) -> DrillView | None:
    """The drill of an export's `gameday.drill` object; None when the run is not a drill.
    `when` shows an ISO time for people."""
    if not isinstance(drill, Mapping):
        return None
    targets = _mapping(drill.get("targets"))
    verdicts = _mapping(drill.get("verdicts"))
    detected_by = drill.get("detected_by")
    rows = (
        ("time to detect", "ttd_s", "detect_within_s", "detect", f"by {detected_by or '-'}"),
        ("time to acknowledge", "tta_s", "acknowledge_within_s", "acknowledge", "acknowledged_by"),
        ("time to resolve", "ttr_s", "resolve_within_s", "resolve", "resolved_by"),
    )
    figures = []
    for name, key, target, verdict, by in rows:
        # Detection is by an alert or by the first ack, not by a person.
        who = by[3:] if by.startswith("by ") else str(drill.get(by) or "-")
        figures.append(
            DrillFigure(
                name=name,
                value=_seconds(drill.get(key)),
                target=_seconds(targets.get(target)),
                verdict=str(verdicts.get(verdict) or "none"),
                by=who,
            )
        )
    alerts = [
        AlertLine(
            name=str(a.get("name") or "?"),
            labels=", ".join(f"{k}={v}" for k, v in sorted(_mapping(a.get("labels")).items())),
            starts_at=when(a.get("starts_at")),
        )
        for a in drill.get("alerts") or []
        if isinstance(a, Mapping)
    ]
    return DrillView(
        announced=bool(drill.get("announced", True)),
        responders=[str(r) for r in drill.get("responders") or []],
        participants=[str(p) for p in drill.get("participants") or []],
        figures=figures,
        alerts=alerts,
        resolve_note=str(drill.get("resolve_note") or ""),
    )


def action_items(notes: Sequence[Any]) -> list[tuple[Any, str, str]]:
    """(at, author, text) of the notes that are action items, the prefix removed."""
    found = []
    for note in notes:
        if not isinstance(note, Mapping):
            continue
        text = str(note.get("text") or "").strip()
        if text.lower().startswith(ACTION_PREFIX):
            found.append((note.get("at"), str(note.get("author") or ""), text[7:].strip()))
    return found


def participants(section: Mapping[str, Any]) -> list[str]:
    """Who took part in the run (see the module's rules)."""
    run = _mapping(section.get("run"))
    people: list[Any] = [run.get("requester")]
    people += [a.get("user") for a in section.get("approvals") or [] if isinstance(a, Mapping)]
    people += list(_mapping(section.get("drill")).get("participants") or [])
    people += [
        e.get("actor")
        for e in section.get("events") or []
        if isinstance(e, Mapping) and e.get("type") in _PEOPLE_EVENTS
    ]
    people += [n.get("author") for n in section.get("notes") or [] if isinstance(n, Mapping)]
    return list(dict.fromkeys(str(p) for p in people if p))
