"""The geometry of a run's timeline chart: activities as bars, events as markers, the fault
shaded, laid out for an SVG 1280 px wide. Pure: templates only draw what this computes.

Rules:
- the time axis covers the run's execution (from `start` to `end`); an event before it
  (an announcement, an approval) is drawn at the left edge and its label says "earlier";
- one row per activity while there are at most `MAX_ROWS` of them, else one row per
  phase (probes before, method, probes after, rollbacks) with unlabelled bars; at most
  `MAX_BARS` bars are drawn, the rest are counted in `omitted_bars`;
- at most `MAX_MARKERS` markers are drawn, the most important kinds first (a deviation
  or a halt before a note), then in time order; the rest are counted per kind in
  `omitted` so a run of 10,000 events draws in bounded time and space;
- a marker's label goes in the first of `LABEL_ROWS` rows where it overlaps no other
  label; when none is free it is not drawn (its `title` still is, as a tooltip);
- text is kept raw here: the template escapes it.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

WIDTH = 1280
LEFT = 210  # room for row labels
RIGHT = 24
LABEL_ROWS = 5
LABEL_ROW_HEIGHT = 15
ROW_HEIGHT = 20
BAR_HEIGHT = 14
AXIS_HEIGHT = 34
MAX_ROWS = 24
MAX_BARS = 400
MAX_MARKERS = 60
MAX_LABEL = 32
CHAR_WIDTH = 6.6  # a generous average glyph width at 11 px, so estimates do not overlap
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
MAX_TICKS = 9

# Marker kinds, most important first (lower is drawn first when markers must be dropped).
PRIORITY = {
    "fault": 0,
    "deviation": 0,
    "halt": 0,
    "stop_condition": 0,
    "alert": 1,
    "ack": 1,
    "resolve": 1,
    "start": 1,
    "end": 1,
    "rollback": 2,
    "approval": 2,
    "announcement": 2,
    "note": 3,
    "other": 4,
}


@dataclass(frozen=True)
class Span:
    """An activity as it ran: its phase (row group), name, status and times."""

    phase: str
    name: str
    status: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Mark:
    """A notable event: its kind (see PRIORITY), a short label and its time."""

    kind: str
    label: str
    at: datetime


@dataclass(frozen=True)
class Bar:
    """One drawn activity."""

    x: float
    y: float
    width: float
    status: str
    phase: str
    title: str
    span: Span


@dataclass(frozen=True)
class Row:
    """One row's label and vertical position (its centre line)."""

    label: str
    y: float


@dataclass(frozen=True)
class Marker:
    """One drawn event: a vertical line at `x`; its label at (label_x, label_y) anchored
    `anchor`, or no label (`label` empty) when no row had room."""

    x: float
    kind: str
    label: str
    label_x: float
    label_y: float
    anchor: str
    title: str
    mark: Mark


@dataclass(frozen=True)
class Tick:
    """A time on the axis."""

    x: float
    label: str


@dataclass(frozen=True)
class TimelineChart:
    """Everything the SVG shows, in pixels (origin top left)."""

    start: datetime  # the axis's first instant
    width: int
    height: int
    left: float
    right: float
    plot_top: float
    plot_bottom: float
    rows: list[Row]
    bars: list[Bar]
    markers: list[Marker]
    ticks: list[Tick]
    fault: tuple[float, float] | None
    omitted_bars: int = 0
    omitted: dict[str, int] = field(default_factory=dict)

    @property
    def omitted_markers(self) -> int:
        """How many events were not drawn as markers."""
        return sum(self.omitted.values())


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def short(text: str, limit: int = MAX_LABEL) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _Scale:
    """Time to x over [t0, t1] onto [left, right]; times outside are clamped."""

    def __init__(self, t0: datetime, t1: datetime, left: float, right: float) -> None:
        self.t0 = t0
        self.span = max((t1 - t0).total_seconds(), 1.0)
        self.left, self.right = left, right

    def x(self, at: datetime) -> float:
        offset = (_utc(at) - self.t0).total_seconds() / self.span
        return round(self.left + min(max(offset, 0.0), 1.0) * (self.right - self.left), 1)


def ticks(t0: datetime, t1: datetime, scale: _Scale, zone: tzinfo) -> list[Tick]:
    """Round times on the axis: the smallest step giving at most MAX_TICKS ticks."""
    span = max((t1 - t0).total_seconds(), 1.0)
    step = next((s for s in TICK_STEPS if span / s <= MAX_TICKS - 1), None)
    if step is None:
        step = math.ceil(span / (MAX_TICKS - 1) / 86400) * 86400
    fmt = "%H:%M:%S" if step < 60 or span < 600 else "%H:%M"
    if span >= 86400:
        fmt = "%m-%d %H:%M"
    first = math.ceil(t0.timestamp() / step) * step
    found = []
    at = first
    while at <= t1.timestamp():
        when = datetime.fromtimestamp(at, UTC)
        found.append(Tick(scale.x(when), when.astimezone(zone).strftime(fmt)))
        at += step
    return found


def _rows(spans: Sequence[Span]) -> tuple[list[tuple[str, list[Span]]], bool]:
    """Rows of spans: one per activity when few, else one per phase (in first-seen order)."""
    if len(spans) <= MAX_ROWS:
        return [(f"{s.phase}: {s.name}", [s]) for s in spans], True
    by_phase: dict[str, list[Span]] = {}
    for span in spans:
        by_phase.setdefault(span.phase, []).append(span)
    return list(by_phase.items()), False


def _merged(spans: Sequence[Span], scale: _Scale, y: float) -> list[Bar]:
    """Bars of one row; spans of the same status that touch on screen become one bar (its
    title counts them), so a row never holds more bars than it has pixels."""
    bars: list[Bar] = []
    group: list[Span] = []
    x0 = x1 = 0.0

    def close() -> None:
        first = group[0]
        seconds = (_utc(group[-1].end) - _utc(first.start)).total_seconds()
        what = f"{first.name}" if len(group) == 1 else f"{len(group)} activities from {first.name}"
        title = f"{first.phase}: {what} ({first.status}, {seconds:.2f} s)"
        bars.append(Bar(x0, y, max(x1 - x0, 2.0), first.status, first.phase, title, first))

    for span in sorted(spans, key=lambda s: _utc(s.start)):
        a, b = scale.x(span.start), scale.x(span.end)
        if group and span.status == group[0].status and a <= max(x1, x0 + 2.0) + 1:
            group.append(span)
            x1 = max(x1, b)
            continue
        if group:
            close()
        group, x0, x1 = [span], a, b
    if group:
        close()
    return bars


def _chosen(marks: Iterable[Mark], limit: int) -> tuple[list[Mark], dict[str, int]]:
    """The `limit` most important marks in time order, and how many of each kind are left."""
    indexed = list(enumerate(marks))
    keep = heapq.nsmallest(limit, indexed, key=lambda im: (PRIORITY.get(im[1].kind, 4), im[0]))
    kept_ids = {i for i, _ in keep}
    left_out = Counter(m.kind for i, m in indexed if i not in kept_ids)
    return sorted((m for _, m in keep), key=lambda m: _utc(m.at)), dict(left_out)


def layout(
    *,
    start: datetime,
    end: datetime,
    spans: Sequence[Span],
    marks: Iterable[Mark],
    fault: tuple[datetime, datetime | None] | None,
    zone: tzinfo,
    width: int = WIDTH,
) -> TimelineChart:
    """Lay out a run's timeline between `start` and `end` (see the module's rules)."""
    t0, t1 = _utc(start), _utc(end)
    if t1 <= t0:
        t1 = t0 + timedelta(seconds=1)
    left, right = float(LEFT), float(width - RIGHT)
    scale = _Scale(t0, t1, left, right)
    labels_top = 4.0
    plot_top = labels_top + LABEL_ROWS * LABEL_ROW_HEIGHT + 6
    groups, labelled = _rows(spans)
    rows: list[Row] = []
    bars: list[Bar] = []
    omitted_bars = 0
    for index, (label, members) in enumerate(groups):
        y = plot_top + index * ROW_HEIGHT + ROW_HEIGHT / 2
        rows.append(Row(short(label, 34) if labelled else label, y))
        for bar in _merged(members, scale, y - BAR_HEIGHT / 2):
            if len(bars) >= MAX_BARS:
                omitted_bars += 1
            else:
                bars.append(bar)
    plot_bottom = plot_top + max(len(groups), 1) * ROW_HEIGHT + 4
    chosen, omitted = _chosen(marks, MAX_MARKERS)
    markers = _place(chosen, scale, t0, labels_top, zone)
    shade = None
    if fault is not None:
        f0 = scale.x(fault[0])
        f1 = scale.x(fault[1]) if fault[1] is not None else right
        shade = (f0, max(f1 - f0, 2.0))
    return TimelineChart(
        start=t0,
        width=width,
        height=int(plot_bottom + AXIS_HEIGHT),
        left=left,
        right=right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        rows=rows,
        bars=bars,
        markers=markers,
        ticks=ticks(t0, t1, scale, zone),
        fault=shade,
        omitted_bars=omitted_bars,
        omitted=omitted,
    )


def _place(
    marks: Sequence[Mark], scale: _Scale, t0: datetime, top: float, zone: tzinfo
) -> list[Marker]:
    """Markers with labels in the first free row (greedy, left to right)."""
    row_ends = [-math.inf] * LABEL_ROWS
    placed: list[Marker] = []
    for mark in marks:
        at = _utc(mark.at)
        x = scale.x(at)
        earlier = at < t0
        text = short(mark.label) + (" (earlier)" if earlier else "")
        size = len(text) * CHAR_WIDTH + 4
        # Left-aligned after the line, unless that would leave the plot: then it ends there.
        anchor, begin, stop = "start", x + 3, x + 3 + size
        if stop > scale.right:
            anchor, begin, stop = "end", x - 3 - size, x - 3
        row = next((i for i, end in enumerate(row_ends) if end < begin), None)
        title = f"{at.astimezone(zone).isoformat(sep=' ', timespec='seconds')} {mark.label}"
        if row is None:
            placed.append(Marker(x, mark.kind, "", x, top, anchor, title, mark))
            continue
        row_ends[row] = stop + 4
        label_y = top + (row + 1) * LABEL_ROW_HEIGHT - 3
        placed.append(
            Marker(
                x,
                mark.kind,
                text,
                x + 3 if anchor == "start" else x - 3,
                label_y,
                anchor,
                title,
                mark,
            )
        )
    return placed
