"""`gameday report`: what chaos engineering did over a period — runs by outcome, deviations
found, skips by reason, drills (median and p90 time to detect, acknowledge and resolve, and
their trend per runbook) and the workloads the monkey terminated most.

Rules:
- the period is the runs *planned* in [now - since, now), optionally of one schedule;
- only the events a report needs are read (state changes, deviations, kills and drill
  events), in batches, never whole logs;
- a drill counts when its run started one (its start record names a drill); its figures
  are gameday.domain.drills' own, so the report and the postmortem never disagree;
- medians and p90 follow gameday.domain.run_report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from gameday.domain import drills
from gameday.domain import execution as ex
from gameday.domain.durations import parse_duration
from gameday.domain.errors import InvalidInput
from gameday.domain.ports import Clock, RunRepository
from gameday.domain.run_report import (
    SKIP_CATEGORIES,
    median,
    p90,
    skip_category,
    skip_event,
    workloads,
)
from gameday.domain.runs import Run, RunEvent, RunKind, RunState
from gameday.services.postmortem_trend import point_of

REPORT_EVENTS = frozenset({"state_changed", ex.DEVIATED, "kill", *drills.DRILL_EVENTS})
FIGURES = ("ttd_s", "tta_s", "ttr_s")
TOP_WORKLOADS = 10
TOP_REASONS = 20


def parse_since(text: str) -> timedelta:
    """`--since` as a duration (`30d`, `12h`, `2w`, `1d12h`); InvalidInput saying why."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InvalidInput(f"--since: {exc}") from None


@dataclass(frozen=True)
class DrillRun:
    """One drill of the period with its figures (seconds from the fault's start)."""

    run_id: int
    runbook: str
    day: str
    outcome: str
    ttd_s: float | None
    tta_s: float | None
    ttr_s: float | None
    duration_s: float | None
    verdicts: dict[str, str]


@dataclass(frozen=True)
class Report:
    """Everything `gameday report` shows."""

    since: datetime
    until: datetime
    schedule: str | None
    runs: int
    by_outcome: dict[str, int]
    by_kind: dict[str, dict[str, int]]
    deviations: list[dict[str, Any]]
    skips: dict[str, int]
    skip_reasons: list[tuple[str, str, int]]
    drills: list[DrillRun]
    workloads: list[tuple[str, int, int]] = field(default_factory=list)

    def stats(self, runs: Sequence[DrillRun], figure: str) -> dict[str, Any]:
        """count, median and p90 of one figure over `runs` (those that have it)."""
        values = [v for r in runs if (v := getattr(r, figure)) is not None]
        return {"count": len(values), "median": median(values), "p90": p90(values)}

    def by_runbook(self) -> dict[str, list[DrillRun]]:
        """The period's drills by runbook (by name), oldest first."""
        found: dict[str, list[DrillRun]] = {}
        for run in self.drills:
            found.setdefault(run.runbook, []).append(run)
        return dict(sorted(found.items()))

    def verdicts(self) -> dict[str, dict[str, int]]:
        """How many drills met, missed or had no verdict, per figure."""
        found: dict[str, dict[str, int]] = {}
        for name in ("detect", "acknowledge", "resolve"):
            counted = Counter(r.verdicts.get(name, "none") for r in self.drills)
            found[name] = {v: counted.get(v, 0) for v in ("met", "missed", "none")}
        return found


def build_report(
    runs: RunRepository,
    clock: Clock,
    *,
    since: timedelta,
    schedule: str | None = None,
    zone: tzinfo,
) -> Report:
    """The report of the runs planned in the last `since` (see the module's rules)."""
    until = clock.now()
    start = until - since
    listed = runs.runs_planned_between(start, until, schedule=schedule)
    events = runs.events_of_runs([r.id for r in listed], types=REPORT_EVENTS)
    by_outcome = Counter(r.state.value for r in listed)
    by_kind: dict[str, Counter[str]] = {}
    for run in listed:
        by_kind.setdefault(run.kind.value, Counter())[run.state.value] += 1
    skips, reasons = _skips(listed, events)
    kills = [
        e.payload
        for r in listed
        if r.kind is RunKind.MONKEY
        for e in events.get(r.id, [])
        if e.type == "kill"
    ]
    return Report(
        since=start,
        until=until,
        schedule=schedule,
        runs=len(listed),
        by_outcome=dict(sorted(by_outcome.items())),
        by_kind={k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())},
        deviations=_deviations(listed, events),
        skips=skips,
        skip_reasons=reasons,
        drills=_drills(listed, events, zone),
        workloads=workloads(kills)[:TOP_WORKLOADS],
    )


def _skips(
    listed: Sequence[Run], events: Mapping[int, list[RunEvent]]
) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    counted: Counter[str] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    for run in listed:
        if run.state is not RunState.SKIPPED:
            continue
        event = skip_event(events.get(run.id, []))
        payload = event.payload if event is not None else {}
        category = skip_category(payload)
        counted[category] += 1
        reasons[(category, str(payload.get("reason") or "skipped"))] += 1
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    return {c: counted.get(c, 0) for c in SKIP_CATEGORIES}, [(c, r, n) for (c, r), n in top]


def _deviations(
    listed: Sequence[Run], events: Mapping[int, list[RunEvent]]
) -> list[dict[str, Any]]:
    found = []
    for run in listed:
        if run.state is not RunState.DEVIATED:
            continue
        probes = [
            str(p)
            for e in events.get(run.id, [])
            if e.type == ex.DEVIATED
            for p in e.payload.get("probes") or []
        ]
        found.append(
            {
                "run_id": run.id,
                "schedule": run.schedule,
                "runbook": run.runbook,
                "planned_at": run.planned_at.isoformat(),
                "probes": list(dict.fromkeys(probes)),
            }
        )
    return found


def _drills(
    listed: Sequence[Run], events: Mapping[int, list[RunEvent]], zone: tzinfo
) -> list[DrillRun]:
    found = []
    for run in listed:
        if run.kind is not RunKind.GAMEDAY:
            continue
        logged = events.get(run.id, [])
        figures = drills.figures_of(logged)
        if figures is None:
            continue
        point = point_of(run, logged, zone, current=False)
        found.append(
            DrillRun(
                run_id=run.id,
                runbook=run.runbook or "(none)",
                day=point.day,
                outcome=run.state.value,
                ttd_s=figures.ttd_s,
                tta_s=figures.tta_s,
                ttr_s=figures.ttr_s,
                duration_s=point.duration_s,
                verdicts={
                    "detect": figures.detect,
                    "acknowledge": figures.acknowledge,
                    "resolve": figures.resolve,
                },
            )
        )
    return found


def _drill_json(run: DrillRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "day": run.day,
        "outcome": run.outcome,
        "ttd_s": run.ttd_s,
        "tta_s": run.tta_s,
        "ttr_s": run.ttr_s,
        "duration_s": run.duration_s,
        "verdicts": run.verdicts,
    }


def report_json(report: Report) -> dict[str, Any]:
    """The report as JSON-able data with stable snake_case keys (`--format json`)."""
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "schedule": report.schedule,
        "runs": report.runs,
        "by_outcome": report.by_outcome,
        "by_kind": report.by_kind,
        "deviations": {"count": len(report.deviations), "runs": report.deviations},
        "skips": {
            "count": sum(report.skips.values()),
            "by_reason": report.skips,
            "reasons": [
                {"category": c, "reason": r, "count": n} for c, r, n in report.skip_reasons
            ],
        },
        "drills": {
            "count": len(report.drills),
            **{f: report.stats(report.drills, f) for f in FIGURES},
            "verdicts": report.verdicts(),
            "by_runbook": [
                {
                    "runbook": name,
                    "count": len(runs),
                    **{f: report.stats(runs, f) for f in FIGURES},
                    "trend": [_drill_json(r) for r in runs],
                }
                for name, runs in report.by_runbook().items()
            ],
        },
        "workloads": [
            {"workload": w, "kills": n, "live_kills": live} for w, n, live in report.workloads
        ],
    }
