"""The chart geometry (pure): bounded markers, labels that never overlap, the fault's span,
earlier events at the edge; normal-vs-injected judgement; the report's arithmetic."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gameday.domain import run_report
from gameday.domain.timeline_chart import (
    CHAR_WIDTH,
    MAX_BARS,
    MAX_MARKERS,
    Mark,
    Span,
    layout,
)
from gameday.domain.trend_chart import TrendPoint, trend_chart
from gameday.services.postmortem_probes import judge

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_ten_thousand_events_draw_a_bounded_chart_quickly() -> None:
    marks = [Mark("note" if i % 3 else "alert", f"event {i}", at(i / 10)) for i in range(10_000)]
    marks.append(Mark("deviation", "deviated", at(999)))
    spans = [Span("method", f"a{i}", "succeeded", at(i / 5), at(i / 5 + 0.1)) for i in range(5000)]

    began = time.perf_counter()
    chart = layout(start=T0, end=at(1000), spans=spans, marks=marks, fault=None, zone=UTC)
    took = time.perf_counter() - began

    assert took < 0.5
    assert len(chart.markers) == MAX_MARKERS
    assert chart.omitted_markers == len(marks) - MAX_MARKERS
    # the most important kinds are kept first
    assert any(m.kind == "deviation" for m in chart.markers)
    assert sum(1 for m in chart.markers if m.kind == "alert") == MAX_MARKERS - 1
    assert len(chart.bars) <= MAX_BARS
    assert [r.label for r in chart.rows] == ["method"]  # many activities: one row per phase


def test_labels_in_a_row_never_overlap_and_stay_inside() -> None:
    marks = [Mark("note", f"a rather long label number {i}", at(i)) for i in range(40)]

    chart = layout(start=T0, end=at(40), spans=[], marks=marks, fault=None, zone=UTC)

    labelled = [m for m in chart.markers if m.label]
    assert labelled
    assert len(labelled) < len(marks)
    rows: dict[float, list[tuple[float, float]]] = {}
    for m in labelled:
        size = len(m.label) * CHAR_WIDTH
        extent = (
            (m.label_x, m.label_x + size) if m.anchor == "start" else (m.label_x - size, m.label_x)
        )
        assert chart.left - 1 <= extent[0]
        assert extent[1] <= chart.width
        rows.setdefault(m.label_y, []).append(extent)
    for extents in rows.values():
        extents.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(extents))
    assert all(m.title for m in chart.markers)


def test_fault_span_earlier_events_and_rows() -> None:
    spans = [
        Span("before", "probe", "succeeded", at(0), at(1)),
        Span("method", "inject", "failed", at(2), at(6)),
    ]
    marks = [Mark("announcement", "announced", at(-3600)), Mark("fault", "fault started", at(2))]

    chart = layout(
        start=at(0), end=at(10), spans=spans, marks=marks, fault=(at(2), at(6)), zone=UTC
    )

    assert [r.label for r in chart.rows] == ["before: probe", "method: inject"]
    assert chart.fault is not None
    x, width = chart.fault
    assert x == pytest.approx(chart.left + 0.2 * (chart.right - chart.left), abs=0.2)
    assert width == pytest.approx(0.4 * (chart.right - chart.left), abs=0.2)
    earlier = next(m for m in chart.markers if m.kind == "announcement")
    assert earlier.x == chart.left
    assert earlier.label.endswith("(earlier)")
    assert chart.bars[1].status == "failed"
    assert [t.label for t in chart.ticks][:2] == ["14:00:00", "14:00:02"]


def test_trend_chart_scales_bars_and_dots() -> None:
    points = [
        TrendPoint(1, "2026-03-01", "completed", 100.0, 10.0, 50.0),
        TrendPoint(2, "2026-03-08", "skipped", None, None, None),
        TrendPoint(3, "2026-03-15", "deviated", 50.0, None, 25.0, current=True),
    ]

    chart = trend_chart(points)

    assert chart.top_s == 120.0
    first, skipped, last = chart.bars
    assert first.height > last.height > 0
    assert skipped.height == 0
    assert last.current
    assert last.ttd_y is None
    assert last.ttr_y is not None
    assert first.x < skipped.x < last.x


@pytest.mark.parametrize(
    ("tolerance", "output", "met"),
    [
        (200, {"status": 200, "body": "ok"}, True),
        (200, {"status": 503}, False),
        ([200, 204], 204, True),
        ({"type": "range", "range": [0, 0.5], "target": "p99"}, {"p99": 0.7}, False),
        ({"type": "jsonpath", "path": "$.x"}, {"x": 1}, None),
        (True, True, True),
    ],
)
def test_simple_tolerances_are_judged_as_chaos_toolkit_does(
    tolerance: Any, output: Any, met: bool | None
) -> None:
    assert judge(tolerance, output) == met


@pytest.mark.parametrize(
    ("payload", "category"),
    [
        ({"code": "window_closed", "reason": "window closed at fire time: after 16:00"}, "window"),
        (
            {"code": "planning", "reason": "2026-01-01 is a holiday in JP (New Year's Day)"},
            "holiday",
        ),
        ({"code": "gate", "reason": "health gate error-rate failed"}, "gate"),
        ({"reason": "vetoed by U0123"}, "veto"),
        ({"code": "late", "reason": "fired 45 s late"}, "missed"),
        ({"code": "missed", "reason": "missed while the service was down"}, "missed"),
        ({"code": "kill_switch", "reason": "kill switch engaged"}, "kill_switch"),
        ({"reason": "something else"}, "other"),
    ],
)
def test_skip_categories(payload: dict[str, str], category: str) -> None:
    assert run_report.skip_category(payload) == category


def test_median_and_p90() -> None:
    assert run_report.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert run_report.p90([float(v) for v in range(1, 11)]) == 9.0
    assert run_report.p90([5.0]) == 5.0
    assert run_report.median([]) is None
    assert run_report.p90([]) is None
