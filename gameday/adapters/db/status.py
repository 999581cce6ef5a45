"""The status snapshot: active runs, kill switch, pauses and outbox depth in one read.

`/gameday status` is answered inside Slack's ack, at whatever rate people and retries send
it, so it reads everything on one connection in one transaction (a consistent picture:
SQLite reads one WAL snapshot, PostgreSQL uses REPEATABLE READ) with two statements: the
runs, and the controls joined to the outbox count.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, func, or_, select

from gameday.adapters.db.control import KILL_SWITCH, PAUSE
from gameday.adapters.db.engine import READ_ONLY
from gameday.adapters.db.rows import outbox, run_from, runs
from gameday.adapters.db.tables import controls
from gameday.domain.ports import StatusSnapshot
from gameday.domain.runs import KillSwitch, Pause, RunState

# One row per kill switch or engaged pause, each carrying the outbox count; a single row
# of NULL controls with the count when there are neither (hence the outer join).
_waiting = (
    select(func.count().label("waiting"))
    .select_from(outbox)
    .where(outbox.c.delivered_at.is_(None))
    .subquery()
)
_CONTROLS_AND_DEPTH = (
    select(_waiting.c.waiting, controls)
    .select_from(
        _waiting.outerjoin(
            controls,
            or_(
                and_(controls.c.scope == KILL_SWITCH, controls.c.name == ""),
                and_(controls.c.scope == PAUSE, controls.c.engaged.is_(True)),
            ),
        )
    )
    .order_by(controls.c.scope, controls.c.name)
)


@lru_cache(maxsize=32)
def _runs_in(states: tuple[str, ...]) -> Select[Any]:
    # Few distinct state sets are ever asked for; building the statement once each saves
    # more than running it costs.
    return select(runs).where(runs.c.state.in_(states)).order_by(runs.c.planned_at, runs.c.id)


def snapshot_reading(engine: Engine) -> Connection:
    """A connection whose transaction sees one snapshot across several statements.

    SQLite: a deferred BEGIN (reads one WAL snapshot, never queues for the write lock).
    PostgreSQL: REPEATABLE READ, whose snapshot lasts the whole transaction.
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ")
    return conn.execution_options(**{READ_ONLY: True})


def read_status(engine: Engine, states: tuple[RunState, ...]) -> StatusSnapshot:
    """Runs in `states` (oldest planned first), kill switch, pauses and outbox depth."""
    with snapshot_reading(engine) as conn, conn.begin():
        found = (
            [run_from(row) for row in conn.execute(_runs_in(tuple(s.value for s in states)))]
            if states
            else []
        )
        rows = conn.execute(_CONTROLS_AND_DEPTH).all()
    switch = KillSwitch(engaged=False)
    pauses: list[Pause] = []
    for row in rows:
        if row.scope == KILL_SWITCH:
            switch = KillSwitch(
                engaged=row.engaged, actor=row.actor, at=row.changed_at, reason=row.reason
            )
        elif row.scope == PAUSE:
            pauses.append(
                Pause(schedule=row.name, actor=row.actor, at=row.changed_at, reason=row.reason)
            )
    return StatusSnapshot(
        runs=found, kill_switch=switch, pauses=pauses, outbox_depth=int(rows[0].waiting)
    )
