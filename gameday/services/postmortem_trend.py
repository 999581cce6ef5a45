"""A runbook's trend for its postmortem: its last runs (this one included) with outcome,
duration, time to detect and time to resolve.

Rules: the runs of the same runbook planned at or before this one, at most `TREND_RUNS`,
shown oldest first; only their state changes and drill events are read (one query), never
their whole logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from gameday.domain import drills
from gameday.domain.ports import RunRepository
from gameday.domain.run_report import duration_s
from gameday.domain.runs import Run, RunEvent
from gameday.domain.trend_chart import TrendPoint

TREND_RUNS = 10
# What a point needs: the moves (duration, the start record of a drill) and drill events.
TREND_EVENTS = frozenset({"state_changed", *drills.DRILL_EVENTS})


def point_of(run: Run, events: Sequence[RunEvent], zone: tzinfo, *, current: bool) -> TrendPoint:
    """One run as a point of a trend."""
    figures = drills.figures_of(events)
    return TrendPoint(
        run_id=run.id,
        day=run.planned_at.astimezone(zone).date().isoformat(),
        outcome=run.state.value,
        duration_s=duration_s(events),
        ttd_s=figures.ttd_s if figures else None,
        ttr_s=figures.ttr_s if figures else None,
        current=current,
    )


def trend_of(
    runs: RunRepository, run: Run, zone: tzinfo, *, limit: int = TREND_RUNS
) -> list[TrendPoint]:
    """The last `limit` runs of `run`'s runbook up to it, oldest first; empty without a
    runbook (a monkey kill)."""
    if not run.runbook:
        return []
    recent = runs.runs_of_runbook(run.runbook, until=run.planned_at, limit=limit)
    if all(r.id != run.id for r in recent):
        recent = [run, *recent[: limit - 1]]
    events = runs.events_of_runs([r.id for r in recent], types=TREND_EVENTS)
    return [
        point_of(r, events.get(r.id, []), zone, current=r.id == run.id) for r in reversed(recent)
    ]
