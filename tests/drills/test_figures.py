"""`drill_figures`: time to detect / acknowledge / resolve from a run's events, and verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gameday.domain.drills import (
    ALERT_FIRED,
    DRILL_ACKED,
    DRILL_RESOLVED,
    FAULT_STARTED,
    DrillSpec,
    drill_figures,
    parse_matcher,
)
from gameday.domain.runs import RunEvent

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def _events(*items: tuple[float, str, str, dict[str, Any]]) -> list[RunEvent]:
    return [
        RunEvent(7, seq, T0 + timedelta(seconds=at), type_, actor, payload)
        for seq, (at, type_, actor, payload) in enumerate(items, start=1)
    ]


def _alert(name: str, starts: float) -> dict[str, Any]:
    return {
        "alertname": name,
        "labels": {"alertname": name, "severity": "page"},
        "starts_at": (T0 + timedelta(seconds=starts)).isoformat(),
        "fingerprint": name,
    }


def test_ack_and_resolve_measure_from_the_fault() -> None:
    events = _events(
        (0, "state_changed", "gameday", {}),
        (5, FAULT_STARTED, "worker", {"activity": "inject"}),
        (7, DRILL_ACKED, "U0ALICE", {"by": "U0ALICE"}),
        (8, DRILL_ACKED, "U0BOB", {"by": "U0BOB"}),
        (9, DRILL_RESOLVED, "U0BOB", {"by": "U0BOB", "note": "restarted <b>"}),
    )
    figures = drill_figures(DrillSpec(responders=("S0ONCALL",)), events)
    assert (figures.ttd_s, figures.tta_s, figures.ttr_s) == (2.0, 2.0, 4.0)
    assert figures.detected_by == "ack"
    assert figures.acknowledged_by == "U0ALICE"
    assert figures.resolved_by == "U0BOB"
    assert figures.resolve_note == "restarted <b>"
    assert figures.participants == ("U0ALICE", "U0BOB")
    assert (figures.detect, figures.acknowledge, figures.resolve) == ("met", "met", "met")
    data = figures.to_json()
    assert data["ttd_s"] == 2.0
    assert data["tta_s"] == 2.0
    assert data["ttr_s"] == 4.0
    assert data["responders"] == ["S0ONCALL"]
    assert data["verdicts"] == {"detect": "met", "acknowledge": "met", "resolve": "met"}
    assert data["targets"]["detect_within_s"] == 600.0
    assert data["fault_started_at"] == (T0 + timedelta(seconds=5)).isoformat()
    for key in ("alerts", "participants", "acknowledged_by", "resolved_by", "resolve_note"):
        assert key in data


def test_an_alert_detects_before_the_ack() -> None:
    events = _events(
        (10, FAULT_STARTED, "worker", {}),
        (40, ALERT_FIRED, "alertmanager", _alert("HighLatency", 25)),
        (41, ALERT_FIRED, "alertmanager", _alert("Later", 35)),
        (60, DRILL_ACKED, "U0ALICE", {"by": "U0ALICE"}),
    )
    figures = drill_figures(DrillSpec(), events)
    assert figures.ttd_s == 15.0
    assert figures.detected_by == "alert"
    assert figures.tta_s == 50.0
    assert [a.name for a in figures.alerts] == ["HighLatency", "Later"]
    assert figures.to_json()["alerts"][0]["labels"]["severity"] == "page"


def test_an_alert_already_firing_before_the_fault_does_not_detect_it() -> None:
    events = _events(
        (10, FAULT_STARTED, "worker", {}),
        (11, ALERT_FIRED, "alertmanager", _alert("Old", 5)),
        (20, DRILL_ACKED, "U0ALICE", {"by": "U0ALICE"}),
    )
    figures = drill_figures(DrillSpec(), events)
    assert figures.detected_by == "ack"
    assert figures.ttd_s == 10.0


def test_targets_missed_and_not_yet_judged() -> None:
    spec = DrillSpec(detect_within=timedelta(seconds=30), resolve_within=timedelta(minutes=5))
    late = _events(
        (0, FAULT_STARTED, "worker", {}),
        (45, DRILL_ACKED, "U0ALICE", {"by": "U0ALICE"}),
        (100, "state_changed", "worker", {}),
    )
    figures = drill_figures(spec, late)
    assert (figures.detect, figures.acknowledge, figures.resolve) == ("missed", "missed", "none")
    silent = _events((0, FAULT_STARTED, "worker", {}), (400, "state_changed", "worker", {}))
    figures = drill_figures(spec, silent)
    # Nobody acted and every target passed by the run's end: each one was missed.
    assert (figures.detect, figures.acknowledge, figures.resolve) == ("missed",) * 3
    assert figures.ttd_s is None
    assert figures.detected_by is None


def test_nothing_is_measured_without_a_fault() -> None:
    events = _events((1, DRILL_ACKED, "U0ALICE", {"by": "U0ALICE"}))
    figures = drill_figures(DrillSpec(), events)
    assert figures.fault_started_at is None
    assert (figures.ttd_s, figures.tta_s, figures.ttr_s) == (None, None, None)
    assert (figures.detect, figures.acknowledge, figures.resolve) == ("none",) * 3
    assert figures.participants == ("U0ALICE",)


def test_matchers() -> None:
    spec = DrillSpec(
        alert_matchers=(parse_matcher('severity="page"'), parse_matcher('service=~"shop-.*"'))
    )
    assert spec.matches({"severity": "page", "service": "shop-api"})
    assert not spec.matches({"severity": "page", "service": "billing"})
    assert not spec.matches({"service": "shop-api"})
    assert DrillSpec().matches({})
    negative = DrillSpec(alert_matchers=(parse_matcher('env!~"dev|test"'),))
    assert negative.matches({"env": "prod"})
    assert not negative.matches({"env": "dev"})
    assert DrillSpec.from_json(spec.to_json()) == spec
