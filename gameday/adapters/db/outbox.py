"""Outbox on SQLAlchemy: messages wait here until delivered, in order per channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, update

from gameday.adapters.db.engine import unavailable_on_failure
from gameday.adapters.db.rows import insert_messages, outbox, outbox_item_from, reading
from gameday.domain.clock import SystemClock
from gameday.domain.ports import Clock
from gameday.domain.runs import OutboxItem, OutgoingMessage

MAX_ERROR_CHARS = 2000
_WAITING = select(func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))


def read_depth(conn: Connection) -> int:
    """How many messages wait for delivery, read on `conn` (the caller's transaction)."""
    return int(conn.execute(_WAITING).scalar_one())


@unavailable_on_failure(lambda repo: repo._engine)
class SqlOutbox:
    """The Outbox port on a SQLAlchemy engine."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock or SystemClock()

    def enqueue(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        """Queue messages in their own transaction; their ids in order."""
        with self._engine.begin() as conn:
            return insert_messages(conn, messages, self._clock.now())

    def record_sent(self, message: OutgoingMessage, *, remote_id: str) -> int:
        """Record a message already delivered by its sender (so later messages about the
        same run thread under it); its id. No dispatcher ever sends it again."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            (item_id,) = insert_messages(conn, [message], now)
            conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id)
                .values(delivered_at=now, remote_id=remote_id, attempts=1)
            )
        return item_id

    def due(self, *, now: datetime, limit: int = 100) -> list[OutboxItem]:
        """Undelivered messages ready to send, in id order; a channel whose oldest waiting
        message is not due yet (backing off) holds back its later messages too."""
        query = select(outbox).where(outbox.c.delivered_at.is_(None)).order_by(outbox.c.id)
        blocked: set[str] = set()
        items: list[OutboxItem] = []
        with reading(self._engine) as conn:
            for row in conn.execute(query):
                if row.ordering_key in blocked:
                    continue
                if row.next_attempt_at is not None and row.next_attempt_at > now:
                    blocked.add(row.ordering_key)
                    continue
                items.append(outbox_item_from(row))
                if len(items) >= limit:
                    break
        return items

    def mark_delivered(self, item_id: int, *, at: datetime, remote_id: str | None) -> None:
        """Record delivery (remote_id: e.g. the Slack message ts)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id)
                .values(delivered_at=at, remote_id=remote_id, attempts=outbox.c.attempts + 1)
            )

    def mark_failed(self, item_id: int, *, error: str, retry_at: datetime) -> None:
        """Count a failed attempt and set when to try again."""
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == item_id)
                .values(
                    attempts=outbox.c.attempts + 1,
                    next_attempt_at=retry_at,
                    last_error=error[:MAX_ERROR_CHARS],
                )
            )

    def thread_of(self, run_id: int, channel: str) -> str | None:
        """The remote id of the run's first delivered message in a channel."""
        query = (
            select(outbox.c.remote_id)
            .where(
                outbox.c.run_id == run_id,
                outbox.c.channel == channel,
                outbox.c.remote_id.is_not(None),
            )
            .order_by(outbox.c.id)
            .limit(1)
        )
        with reading(self._engine) as conn:
            return conn.execute(query).scalar_one_or_none()

    def depth(self) -> int:
        """How many messages wait for delivery."""
        with reading(self._engine) as conn:
            return read_depth(conn)

    def of_run(self, run_id: int) -> list[OutboxItem]:
        """Messages about one run, oldest first (delivered or still waiting)."""
        query = select(outbox).where(outbox.c.run_id == run_id).order_by(outbox.c.id)
        with reading(self._engine) as conn:
            return [outbox_item_from(row) for row in conn.execute(query)]

    def get(self, item_id: int) -> OutboxItem:
        """One outbox entry by id (for dispatchers and tests)."""
        with reading(self._engine) as conn:
            row = conn.execute(select(outbox).where(outbox.c.id == item_id)).one()
        return outbox_item_from(row)
