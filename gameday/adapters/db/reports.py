"""Reads for postmortems and reports: a runbook's recent runs, the runs of a period and
chosen events of many runs at once.

Each read is one statement per batch on an index: runs by (runbook, planned_at) or
(planned_at, id), events by their primary key (run_id, seq) filtered by type, so a report
over a month never reads every event of every run.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Engine, select

from gameday.adapters.db.rows import reading, run_events, run_from, runs
from gameday.domain.errors import InvalidInput
from gameday.domain.runs import Run, RunEvent

MAX_PERIOD_RUNS = 100_000
# Run ids per IN list: well under SQLite's and psycopg's parameter limits.
BATCH = 500


def runs_of_runbook(engine: Engine, runbook: str, *, until: datetime, limit: int) -> list[Run]:
    """The `limit` runs of `runbook` planned at or before `until`, newest first."""
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must be between 1 and 1000, not {limit}")
    query = (
        select(runs)
        .where(runs.c.runbook == runbook, runs.c.planned_at <= until)
        .order_by(runs.c.planned_at.desc(), runs.c.id.desc())
        .limit(limit)
    )
    with reading(engine) as conn:
        return [run_from(row) for row in conn.execute(query).all()]


def runs_planned_between(
    engine: Engine, since: datetime, until: datetime, *, schedule: str | None = None
) -> list[Run]:
    """Runs planned in [since, until), oldest first; InvalidInput past MAX_PERIOD_RUNS."""
    query = (
        select(runs)
        .where(runs.c.planned_at >= since, runs.c.planned_at < until)
        .order_by(runs.c.planned_at, runs.c.id)
        .limit(MAX_PERIOD_RUNS + 1)
    )
    if schedule is not None:
        query = query.where(runs.c.schedule == schedule)
    with reading(engine) as conn:
        found = [run_from(row) for row in conn.execute(query).all()]
    if len(found) > MAX_PERIOD_RUNS:
        raise InvalidInput(
            f"more than {MAX_PERIOD_RUNS} runs in that period; choose a shorter --since"
        )
    return found


def events_of_runs(
    engine: Engine, run_ids: Sequence[int], *, types: Collection[str]
) -> dict[int, list[RunEvent]]:
    """The events of `types` of each run in `run_ids`, oldest first (runs without any are
    absent)."""
    c = run_events.c
    found: dict[int, list[RunEvent]] = {}
    wanted = sorted(set(types))
    ids = sorted(set(run_ids))
    with reading(engine) as conn:
        for i in range(0, len(ids), BATCH):
            query = (
                select(c.run_id, c.seq, c.at, c.type, c.actor, c.payload)
                .where(c.run_id.in_(ids[i : i + BATCH]), c.type.in_(wanted))
                .order_by(c.run_id, c.seq)
            )
            for run_id, seq, at, type_, actor, payload in conn.execute(query).all():
                found.setdefault(run_id, []).append(
                    RunEvent(
                        run_id=run_id,
                        seq=seq,
                        at=at,
                        type=type_,
                        actor=actor,
                        payload=payload or {},
                    )
                )
    return found
