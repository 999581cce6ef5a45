"""What is kept beside a run's events, its Chaos Toolkit journal, approvals and notes, and
the run row itself, on a connection or engine SqlRunRepository hands in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from gameday.adapters.db.rows import reading, run_from, runs
from gameday.adapters.db.tables import approvals, journals, notes
from gameday.domain.errors import NotFound
from gameday.domain.runs import Approval, Decision, Note, Run


def run_row(conn: Connection, run_id: int) -> Run:
    """The run with this id, read on `conn`; NotFound if there is none."""
    row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"no run {run_id}")
    return run_from(row)


def store_journal(conn: Connection, run_id: int, body: dict[str, Any], now: datetime) -> None:
    """Keep a run's journal whole on `conn` (a later one replaces it)."""
    run_row(conn, run_id)
    changed = conn.execute(
        update(journals).where(journals.c.run_id == run_id).values(journal=body, stored_at=now)
    ).rowcount
    if not changed:
        conn.execute(insert(journals).values(run_id=run_id, journal=body, stored_at=now))


def journal_of(engine: Engine, run_id: int) -> Mapping[str, Any] | None:
    """The stored Chaos Toolkit journal of a run, or None."""
    with reading(engine) as conn:
        value = conn.execute(
            select(journals.c.journal).where(journals.c.run_id == run_id)
        ).scalar_one_or_none()
    return value if value is None else dict(value)


def approvals_of(engine: Engine, run_id: int, user: str | None = None) -> list[Approval]:
    """Decisions on a run (only `user`'s, when given), oldest first."""
    query = select(approvals).where(approvals.c.run_id == run_id).order_by(approvals.c.id)
    if user is not None:
        query = query.where(approvals.c.user == user)
    with reading(engine) as conn:
        return [
            Approval(run_id=r.run_id, user=r.user, decision=Decision(r.decision), at=r.at)
            for r in conn.execute(query).all()
        ]


def notes_of(engine: Engine, run_id: int) -> list[Note]:
    """Notes on a run, oldest first."""
    query = select(notes).where(notes.c.run_id == run_id).order_by(notes.c.id)
    with reading(engine) as conn:
        return [
            Note(run_id=r.run_id, author=r.author, text=r.text, at=r.at)
            for r in conn.execute(query).all()
        ]
