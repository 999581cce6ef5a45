"""Converting database rows to domain values, and writing outbox rows (shared helpers)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert

from gameday.adapters.db.engine import READ_ONLY
from gameday.adapters.db.tables import outbox, run_events, runs
from gameday.domain.errors import InvalidInput
from gameday.domain.runs import (
    MessageKind,
    OutboxItem,
    OutgoingMessage,
    Run,
    RunKind,
    RunState,
)

__all__ = ["outbox", "run_events", "runs"]


def reading(engine: Engine) -> Connection:
    """A connection for one-statement reads.

    SQLite: a deferred BEGIN, so it reads a WAL snapshot instead of queueing for the write
    lock. PostgreSQL: autocommit, so a read costs one round trip instead of three
    (BEGIN, SELECT, ROLLBACK); a single statement sees one snapshot either way.
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn.execution_options(**{READ_ONLY: True})


def jsonable(payload: Mapping[str, Any], what: str) -> dict[str, Any]:
    """`payload` as a plain dict, or InvalidInput if JSON cannot hold it."""
    data = dict(payload)
    try:
        json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must be JSON data: {exc}") from None
    return data


def run_from(row: Row[Any]) -> Run:
    """A Run from a `runs` row."""
    return Run(
        id=row.id,
        kind=RunKind(row.kind),
        schedule=row.schedule,
        runbook=row.runbook,
        planned_at=row.planned_at,
        state=RunState(row.state),
        dry_run=row.dry_run,
        seed=row.seed,
        requester=row.requester,
        runbook_digest=row.runbook_digest,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def outbox_item_from(row: Row[Any]) -> OutboxItem:
    """An OutboxItem from an `outbox` row."""
    return OutboxItem(
        id=row.id,
        message=OutgoingMessage(
            channel=row.channel,
            text=row.text,
            blocks=row.blocks,
            thread_of_run=row.run_id,
            kind=MessageKind(row.kind),
        ),
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
        remote_id=row.remote_id,
    )


def insert_messages(
    conn: Connection, messages: Sequence[OutgoingMessage], now: datetime
) -> list[int]:
    """Queue messages in the outbox on `conn` (the caller's transaction); their ids."""
    ids: list[int] = []
    for message in messages:
        result = conn.execute(
            insert(outbox)
            .values(
                channel=message.channel,
                ordering_key=message.channel,
                kind=message.kind,
                text=message.text,
                blocks=jsonable({"b": message.blocks}, "message blocks")["b"],
                run_id=message.thread_of_run,
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
            .returning(outbox.c.id)
        )
        ids.append(result.scalar_one())
    return ids
