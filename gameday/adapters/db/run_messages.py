"""The messages queued about one run, read back from the outbox for its journal."""

from __future__ import annotations

from sqlalchemy import Engine, select

from gameday.adapters.db.engine import unavailable_on_failure
from gameday.adapters.db.rows import outbox, outbox_item_from, reading
from gameday.domain.runs import OutboxItem


@unavailable_on_failure(lambda repo: repo._engine)
class SqlRunMessages:
    """The RunMessages port on a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of_run(self, run_id: int) -> list[OutboxItem]:
        """Messages about this run, oldest first (delivered or still waiting)."""
        query = select(outbox).where(outbox.c.run_id == run_id).order_by(outbox.c.id)
        with reading(self._engine) as conn:
            return [outbox_item_from(row) for row in conn.execute(query)]
