"""The trend of a runbook's recent runs (outcome, duration, time to detect and resolve) and
the geometry of its small SVG chart. Pure: templates only draw what this computes.

Rules:
- points are given oldest first; each gets a slot of equal width; its duration is a bar
  coloured by outcome, time to detect and time to resolve are dots on the same scale
  (seconds), so a drill's figures read against the run's length;
- the scale's top is the largest value shown, rounded up to a round number of seconds;
- a point without a duration (a run that never started) gets no bar, only its label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 190
LEFT = 56
RIGHT = 12
TOP = 12
BOTTOM = 40
ROUND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


@dataclass(frozen=True)
class TrendPoint:
    """One run of the runbook: when, how it ended and its figures in seconds."""

    run_id: int
    day: str  # the local date it was planned for, for the label
    outcome: str
    duration_s: float | None
    ttd_s: float | None
    ttr_s: float | None
    current: bool = False  # the run the postmortem is about


@dataclass(frozen=True)
class TrendBar:
    """One run's slot: its bar (height 0 when no duration), dots and label."""

    x: float
    width: float
    y: float
    height: float
    outcome: str
    label: str
    label_x: float
    ttd_y: float | None
    ttr_y: float | None
    current: bool
    title: str


@dataclass(frozen=True)
class TrendChart:
    """The trend chart in pixels; `top_s` is the scale's top in seconds."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    top_s: float
    bars: list[TrendBar]


def round_up(seconds: float) -> float:
    """The smallest round number of seconds at or above `seconds` (at least 1)."""
    if seconds <= 1:
        return 1.0
    for step in ROUND_STEPS:
        if seconds <= step:
            return float(step)
    return float(math.ceil(seconds / 3600) * 3600)


def _figure(label: str, value: float | None) -> str:
    return f"{label} {value:.0f} s" if value is not None else f"{label} -"


def trend_chart(points: Sequence[TrendPoint]) -> TrendChart:
    """Lay out `points` (oldest first) as bars and dots."""
    left, right = float(LEFT), float(WIDTH - RIGHT)
    top, bottom = float(TOP), float(HEIGHT - BOTTOM)
    values = [v for p in points for v in (p.duration_s, p.ttd_s, p.ttr_s) if v is not None]
    top_s = round_up(max(values, default=1.0))
    slot = (right - left) / max(len(points), 1)

    def y_of(value: float) -> float:
        return round(bottom - min(max(value, 0.0), top_s) / top_s * (bottom - top), 1)

    bars = []
    for index, p in enumerate(points):
        x = left + index * slot + slot * 0.2
        width = slot * 0.6
        y = y_of(p.duration_s) if p.duration_s is not None else bottom
        figures = ", ".join(
            [_figure("duration", p.duration_s), _figure("TTD", p.ttd_s), _figure("TTR", p.ttr_s)]
        )
        bars.append(
            TrendBar(
                x=round(x, 1),
                width=round(width, 1),
                y=y,
                height=round(bottom - y, 1),
                outcome=p.outcome,
                label=f"#{p.run_id}",
                label_x=round(x + width / 2, 1),
                ttd_y=y_of(p.ttd_s) if p.ttd_s is not None else None,
                ttr_y=y_of(p.ttr_s) if p.ttr_s is not None else None,
                current=p.current,
                title=f"run {p.run_id} on {p.day}: {p.outcome}; {figures}",
            )
        )
    return TrendChart(WIDTH, HEIGHT, left, right, top, bottom, top_s, bars)
