"""What a report counts about runs, without reading them: durations, skip reasons grouped
into a few categories, median and p90, the workloads a monkey terminated.

Rules:
- a run's duration is from its move to `running` to its move to a final state; a run
  that never ran (or is still running) has none;
- a skip's category comes from the `code` its state change recorded, else from its
  reason's words (runs skipped before codes were recorded): `holiday`, `window`, `gate`,
  `veto`, `missed` (late, missed while the service was down), `kill_switch`, `paused`,
  `targets`, else `other`;
- the median is the middle value (the mean of the two middle ones for an even count);
  p90 is the nearest-rank 90th percentile (the smallest value with at least 90 % of the
  values at or below it); both are None without values.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gameday.domain.runs import RunEvent

FINAL_STATES = frozenset(
    {"completed", "deviated", "failed", "aborted", "interrupted", "skipped", "rejected", "expired"}
)
SKIP_CATEGORIES = (
    "window",
    "holiday",
    "gate",
    "veto",
    "missed",
    "kill_switch",
    "paused",
    "targets",
    "other",
)
_BY_CODE = {
    "window_closed": "window",
    "gate": "gate",
    "veto": "veto",
    "late": "missed",
    "missed": "missed",
    "kill_switch": "kill_switch",
    "paused": "paused",
    "targets": "targets",
    "not_approved": "other",
    "removed": "other",
}
# Words of a reason, checked in order (a holiday closes a window: holiday first).
_BY_WORDS = (
    ("holiday", "holiday"),
    ("veto", "veto"),
    ("health gate", "gate"),
    ("gate ", "gate"),
    ("late", "missed"),
    ("missed", "missed"),
    ("kill switch", "kill_switch"),
    ("paused", "paused"),
    ("no targets", "targets"),
    ("window", "window"),
    ("blackout", "window"),
    ("closed", "window"),
)


def duration_s(events: Sequence[RunEvent]) -> float | None:
    """Seconds from the move to running to the move to a final state, or None."""
    started = ended = None
    for event in events:
        if event.type != "state_changed":
            continue
        to = event.payload.get("to")
        if to == "running" and started is None:
            started = event.at
        elif to in FINAL_STATES and started is not None:
            ended = event.at
    if started is None or ended is None:
        return None
    return round((ended - started).total_seconds(), 3)


def skip_category(payload: Mapping[str, Any]) -> str:
    """The category of a skip from its state change's payload (see the module's rules)."""
    reason = str(payload.get("reason") or "").lower()
    # A planning skip carries the planner's reason (a holiday, a blackout): read its words.
    code = str(payload.get("code") or "")
    if code in _BY_CODE and not (code in ("window_closed", "late") and "holiday" in reason):
        return _BY_CODE[code]
    for words, category in _BY_WORDS:
        if words in reason:
            return category
    return "other"


def skip_event(events: Sequence[RunEvent]) -> RunEvent | None:
    """The state change that skipped the run, or None."""
    return next(
        (
            e
            for e in reversed(events)
            if e.type == "state_changed" and e.payload.get("to") == "skipped"
        ),
        None,
    )


def median(values: Sequence[float]) -> float | None:
    """The median, or None without values."""
    return round(statistics.median(values), 3) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The nearest-rank 90th percentile, or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def workloads(kills: Iterable[Mapping[str, Any]]) -> list[tuple[str, int, int]]:
    """(workload, kills, of them live) from `kill` event payloads, most killed first, then
    by name; the workload is the pod's `owner` (`namespace/Kind/name`), a bare pod its own."""
    total: Counter[str] = Counter()
    live: Counter[str] = Counter()
    for facts in kills:
        owner = facts.get("owner") or f"{facts.get('namespace')}/Pod/{facts.get('pod')}"
        total[str(owner)] += 1
        if facts.get("dry_run") is False:
            live[str(owner)] += 1
    ordered = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(name, count, live[name]) for name, count in ordered]
