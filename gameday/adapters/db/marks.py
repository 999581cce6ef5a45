"""ServiceMarks on SQLAlchemy: what a service remembers between its lives, kept as rows of
the `controls` table (no schema of its own): when a leader was last alive (scope
"heartbeat") and the digest of each schedule's spec it last planned from (scope "digest",
the digest in `reason`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update

from gameday.adapters.db.engine import unavailable_on_failure
from gameday.adapters.db.rows import reading
from gameday.adapters.db.tables import controls
from gameday.domain.clock import SystemClock
from gameday.domain.ports import Clock

HEARTBEAT = "heartbeat"
DIGEST = "digest"
_LEADER = "leader"


@unavailable_on_failure(lambda repo: repo._engine)
class SqlServiceMarks:
    """The ServiceMarks port on a SQLAlchemy engine."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock or SystemClock()

    def mark_alive(self, *, actor: str) -> None:
        """Record that a leader is alive now."""
        values = {"engaged": True, "actor": actor, "changed_at": self._clock.now()}
        with self._engine.begin() as conn:
            moved = conn.execute(
                update(controls)
                .where(controls.c.scope == HEARTBEAT, controls.c.name == _LEADER)
                .values(**values)
            ).rowcount
            if not moved:
                conn.execute(insert(controls).values(scope=HEARTBEAT, name=_LEADER, **values))

    def last_alive(self) -> datetime | None:
        """When a leader was last recorded alive (None: never)."""
        query = select(controls.c.changed_at).where(
            controls.c.scope == HEARTBEAT, controls.c.name == _LEADER
        )
        with reading(self._engine) as conn:
            at: datetime | None = conn.execute(query).scalar_one_or_none()
        return at

    def planned_digests(self) -> dict[str, str]:
        """The digest of each schedule's spec as last planned, by schedule name."""
        query = select(controls.c.name, controls.c.reason).where(controls.c.scope == DIGEST)
        with reading(self._engine) as conn:
            return {name: reason or "" for name, reason in conn.execute(query)}

    def record_digests(self, digests: Mapping[str, str], *, actor: str) -> None:
        """Remember these digests (and forget schedules no longer planned)."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            conn.execute(delete(controls).where(controls.c.scope == DIGEST))
            if digests:
                conn.execute(
                    insert(controls),
                    [
                        {"scope": DIGEST, "name": name, "engaged": True, "actor": actor,
                         "changed_at": now, "reason": digest}
                        for name, digest in sorted(digests.items())
                    ],
                )  # fmt: skip
