"""The messages queued about one run, read back from the outbox for its journal."""

from __future__ import annotations

from sqlalchemy import Engine, select

from gameday.adapters.db.engine import unavailable_on_failure
from gameday.adapters.db.rows import outbox, reading
from gameday.domain.runs import OutboxItem, OutgoingMessage


@unavailable_on_failure(lambda repo: repo._engine)
class SqlRunMessages:
    """The RunMessages port on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of_run(self, run_id: int) -> list[OutboxItem]:
        """Messages about this run, oldest first (delivered or still waiting)."""
        query = select(outbox).where(outbox.c.run_id == run_id).order_by(outbox.c.id)
        with reading(self._engine) as conn:
            return [
                OutboxItem(
                    id=row.id,
                    message=OutgoingMessage(
                        channel=row.channel,
                        text=row.text,
                        blocks=row.blocks,
                        thread_of_run=row.run_id,
                        kind=row.kind,
                    ),
                    created_at=row.created_at,
                    attempts=row.attempts,
                    next_attempt_at=row.next_attempt_at,
                    delivered_at=row.delivered_at,
                    last_error=row.last_error,
                    remote_id=row.remote_id,
                )
                for row in conn.execute(query)
            ]
