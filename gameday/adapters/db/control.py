"""ControlState on SQLAlchemy: the kill switch and schedule pauses, with who/when/why, and
the control log of refused requests (scope "refused": one row each, never updated)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from gameday.adapters.db.engine import unavailable_on_failure
from gameday.adapters.db.rows import reading
from gameday.adapters.db.tables import controls
from gameday.domain.clock import SystemClock
from gameday.domain.ports import Clock
from gameday.domain.runs import KillSwitch, Pause

KILL_SWITCH = "kill_switch"
PAUSE = "pause"
REFUSED = "refused"
# Built once: these statements never change, and building one costs more than running it.
_KILL_SWITCH_ROW = select(controls).where(controls.c.scope == KILL_SWITCH, controls.c.name == "")
_PAUSED = (
    select(controls)
    .where(controls.c.scope == PAUSE, controls.c.engaged.is_(True))
    .order_by(controls.c.name)
)


class Refusal(NamedTuple):
    """One entry of the control log: who was refused what, when and why."""

    actor: str
    at: datetime
    action: str
    reason: str


def read_kill_switch(conn: Connection) -> KillSwitch:
    """The kill switch as stored, read on `conn` (the caller's transaction)."""
    row = conn.execute(_KILL_SWITCH_ROW).first()
    if row is None:
        return KillSwitch(engaged=False)
    return KillSwitch(engaged=row.engaged, actor=row.actor, at=row.changed_at, reason=row.reason)


def read_pauses(conn: Connection) -> list[Pause]:
    """Every paused schedule, by name, read on `conn` (the caller's transaction)."""
    return [
        Pause(schedule=r.name, actor=r.actor, at=r.changed_at, reason=r.reason)
        for r in conn.execute(_PAUSED)
    ]


@unavailable_on_failure(lambda repo: repo._engine)
class SqlControlState:
    """The ControlState port on a SQLAlchemy engine."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock or SystemClock()

    def kill_switch(self) -> tuple[bool, str | None]:
        """(engaged, reason)."""
        detail = self.kill_switch_detail()
        return detail.engaged, detail.reason if detail.engaged else None

    def kill_switch_detail(self) -> KillSwitch:
        """The kill switch with who changed it last, when and why."""
        with reading(self._engine) as conn:
            return read_kill_switch(conn)

    def engage_kill_switch(self, *, actor: str, reason: str) -> None:
        """Halt: nothing new starts until released."""
        self._set(KILL_SWITCH, "", engaged=True, actor=actor, reason=reason)

    def release_kill_switch(self, *, actor: str) -> None:
        """Resume normal operation."""
        self._set(KILL_SWITCH, "", engaged=False, actor=actor, reason=None)

    def is_paused(self, schedule: str) -> bool:
        """True while the schedule is paused."""
        with reading(self._engine) as conn:
            engaged = conn.execute(
                select(controls.c.engaged).where(
                    controls.c.scope == PAUSE, controls.c.name == schedule
                )
            ).scalar_one_or_none()
        return bool(engaged)

    def pause(self, schedule: str, *, actor: str, reason: str | None = None) -> None:
        """Pause a schedule: its runs are skipped until unpaused."""
        self._set(PAUSE, schedule, engaged=True, actor=actor, reason=reason)

    def unpause(self, schedule: str, *, actor: str) -> None:
        """Let a paused schedule run again."""
        self._set(PAUSE, schedule, engaged=False, actor=actor, reason=None)

    def pauses(self) -> list[Pause]:
        """Every paused schedule, by name."""
        with reading(self._engine) as conn:
            return read_pauses(conn)

    def record_refusal(self, *, actor: str, action: str, reason: str) -> None:
        """Add to the control log that `actor` was refused `action`, and why."""
        at = self._clock.now()
        # Rows of `controls` are keyed by (scope, name): a name of its own per entry (time,
        # action, a random tail for entries in the same microsecond) makes them a log.
        name = f"{at:%Y-%m-%dT%H:%M:%S.%f} {action[:64]} {uuid.uuid4().hex[:12]}"
        with self._engine.begin() as conn:
            conn.execute(
                insert(controls).values(
                    scope=REFUSED, name=name, engaged=False, actor=actor, changed_at=at,
                    reason=reason,
                )
            )  # fmt: skip

    def refusals(self) -> list[Refusal]:
        """The control log of refused requests, oldest first (entries of the same instant
        in no particular order)."""
        query = (
            select(controls)
            .where(controls.c.scope == REFUSED)
            .order_by(controls.c.changed_at, controls.c.name)
        )
        with reading(self._engine) as conn:
            return [
                Refusal(r.actor, r.changed_at, r.name.split(" ")[1], r.reason or "")
                for r in conn.execute(query)
            ]

    def _set(self, scope: str, name: str, *, engaged: bool, actor: str, reason: str | None) -> None:
        values = {
            "engaged": engaged,
            "actor": actor,
            "changed_at": self._clock.now(),
            "reason": reason,
        }
        try:
            with self._engine.begin() as conn:
                if not self._update(conn, scope, name, values):
                    conn.execute(insert(controls).values(scope=scope, name=name, **values))
        except IntegrityError:
            # Someone created the row between our UPDATE and INSERT: theirs exists now.
            with self._engine.begin() as conn:
                self._update(conn, scope, name, values)

    @staticmethod
    def _update(conn: Connection, scope: str, name: str, values: dict[str, object]) -> bool:
        result = conn.execute(
            update(controls)
            .where(controls.c.scope == scope, controls.c.name == name)
            .values(**values)
        )
        return bool(result.rowcount)
