"""`gameday report` on a seeded database (SQLite and PostgreSQL): runs by outcome,
deviations, skips by reason, drill medians and p90, most-terminated workloads; bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gameday.adapters.db import Database
from gameday.adapters.postmortem.report_render import render_report
from gameday.domain.clock import FixedClock
from gameday.domain.runs import RunKind, RunState
from gameday.services.report import build_report, report_json
from tests.db.factories import make_run
from tests.journal.conftest import Cli
from tests.postmortem.test_drill_and_trend import HOSTILE, drill_run
from tests.postmortem.test_states import parse_html

SKIPS = [
    ("window_closed", "window closed at fire time: after 16:00"),
    ("planning", "2026-03-20 is a holiday in JP (Vernal Equinox Day)"),
    ("gate", f"health gate error-rate failed: {HOSTILE}"),
    (None, "vetoed by U0VETO"),
    ("missed", "missed while the service was down"),
]
KILLS = ["bookinfo/Deployment/reviews-v1"] * 3 + ["bookinfo/Deployment/ratings-v1"]


def seed(db: Database, clock: FixedClock, now: datetime) -> None:
    """Runs planned over the 30 days before `now`, and one before them."""

    def day(n: int) -> datetime:
        return now - timedelta(days=n, hours=1)

    for n, state in enumerate([RunState.COMPLETED, RunState.COMPLETED, RunState.FAILED]):
        make_run(db.runs, state, planned_at=day(n + 1))
    deviated = make_run(db.runs, RunState.RUNNING, planned_at=day(4))
    db.runs.append_event(
        deviated.id, "deviated", actor="worker", payload={"phase": "after", "probes": ["p99"]}
    )
    db.runs.transition(deviated.id, RunState.DEVIATED, actor="worker", reason="deviated")
    for n, (code, reason) in enumerate(SKIPS):
        run = make_run(db.runs, RunState.APPROVED, planned_at=day(5 + n))
        payload = {"code": code} if code else None
        db.runs.transition(
            run.id, RunState.SKIPPED, actor="scheduler", reason=reason, payload=payload
        )
    for n, (ack, resolve) in enumerate([(2, 4), (3, 10), (5, 30)]):
        drill_run(db, clock, ack=ack, resolve=resolve, planned_at=day(12 + n), schedule="drill")
    monkey = make_run(
        db.runs,
        RunState.RUNNING,
        kind=RunKind.MONKEY,
        schedule="monkey",
        runbook=None,
        planned_at=day(20),
    )
    for n, owner in enumerate(KILLS):
        db.runs.append_event(
            monkey.id,
            "kill",
            actor="monkey",
            payload={"namespace": "bookinfo", "pod": f"pod-{n}", "owner": owner, "dry_run": n != 0},
        )
    db.runs.transition(monkey.id, RunState.COMPLETED, actor="monkey", reason="4 pods")
    make_run(db.runs, RunState.COMPLETED, planned_at=day(45))  # outside the period


def test_the_report_counts_runs_skips_drills_and_kills(
    database: Database, db_clock: FixedClock
) -> None:
    now = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    seed(database, db_clock, now)

    report = build_report(
        database.runs, FixedClock(now), since=timedelta(days=30), zone=ZoneInfo("UTC")
    )
    data = report_json(report)

    assert data["runs"] == 13
    assert data["by_outcome"] == {"completed": 6, "deviated": 1, "failed": 1, "skipped": 5}
    assert data["by_kind"]["monkey"] == {"completed": 1}
    assert data["deviations"]["count"] == 1
    assert data["deviations"]["runs"][0]["probes"] == ["p99"]
    assert data["skips"]["count"] == 5
    by_reason = data["skips"]["by_reason"]
    for category in ("window", "holiday", "gate", "veto", "missed"):
        assert by_reason[category] == 1, category
    drills = data["drills"]
    assert drills["count"] == 3
    assert drills["ttd_s"] == {"count": 3, "median": 1.0, "p90": 1.0}
    assert drills["tta_s"] == {"count": 3, "median": 3.0, "p90": 5.0}
    assert drills["ttr_s"] == {"count": 3, "median": 10.0, "p90": 30.0}
    assert drills["verdicts"]["resolve"] == {"met": 3, "missed": 0, "none": 0}
    (runbook,) = drills["by_runbook"]
    assert [d["ttr_s"] for d in runbook["trend"]] == [30.0, 10.0, 4.0]  # oldest first
    assert data["workloads"] == [
        {"workload": "bookinfo/Deployment/reviews-v1", "kills": 3, "live_kills": 1},
        {"workload": "bookinfo/Deployment/ratings-v1", "kills": 1, "live_kills": 0},
    ]

    only_drills = build_report(
        database.runs, FixedClock(now), since=timedelta(days=30), schedule="drill", zone=UTC
    )
    assert only_drills.runs == 3

    for fmt in ("md", "html"):
        text = render_report(report, fmt, ZoneInfo("Asia/Tokyo"))
        assert "<script>" not in text
        assert "<!channel>" not in text
        assert "p90" in text
        assert "bookinfo/Deployment/reviews-v1" in text
    html = render_report(report, "html", UTC)
    parse_html(html)
    assert "bars: duration" in html
    assert "outlined: this run" not in html  # a report has no run of its own


def test_report_json_from_the_cli_counts_outcomes_and_gives_drill_medians(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    seed(database, db_clock, datetime.now(UTC))

    result = cli("report", "--since", "30d", "--format", "json")

    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["by_outcome"]["completed"] == 6
    assert data["drills"]["ttr_s"]["median"] == 10.0
    assert data["drills"]["tta_s"]["median"] == 3.0


def test_report_writes_a_file(cli: Cli, database: Database, tmp_path: Path) -> None:
    target = tmp_path / "report.html"

    result = cli("report", "--format", "html", "--output", str(target))

    assert result.code == 0, result.err
    assert result.out == ""
    parse_html(target.read_text())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "30"], "--since: invalid duration '30'"),
        (["--since", "-3d"], "--since: invalid duration '-3d'"),
        (["--format", "pdf"], "unknown format 'pdf'; choose one of: md, html, json"),
    ],
)
def test_bad_since_or_format_is_one_line_exit_2_and_writes_nothing(
    cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    target = tmp_path / "report.md"

    result = cli("report", *args, "--output", str(target))

    assert result.code == 2
    assert result.err.startswith("gameday: error: ")
    assert message in result.err
    assert result.err.count("\n") == 1
    assert result.out == ""
    assert not target.exists()
