"""Run events are append-only: the code has no path to change them and the database refuses."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from gameday.adapters.db import Database
from gameday.adapters.db import runs as runs_module
from gameday.adapters.db.models import RunEventRow
from gameday.domain.runs import RunState
from tests.db.factories import make_run

run_events = RunEventRow.__table__

TAMPERING = {
    "core update": lambda run_id: (
        update(run_events).where(run_events.c.run_id == run_id).values(actor="someone else")
    ),
    "core delete": lambda run_id: delete(run_events).where(run_events.c.run_id == run_id),
    "raw update": lambda run_id: text(
        "UPDATE run_events SET type = 'rewritten' WHERE run_id = :run_id"
    ).bindparams(run_id=run_id),
    "raw delete": lambda run_id: text("DELETE FROM run_events WHERE run_id = :run_id").bindparams(
        run_id=run_id
    ),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_the_database_refuses_to_change_or_remove_events(database: Database, how: str) -> None:
    run = make_run(database.runs, RunState.RUNNING)
    before = database.runs.events(run.id)

    with (
        pytest.raises(DBAPIError, match="run_events is append-only"),
        database.engine.begin() as conn,
    ):
        conn.execute(TAMPERING[how](run.id))

    assert database.runs.events(run.id) == before


def test_the_orm_cannot_change_events_either(database: Database) -> None:
    from sqlalchemy.orm import Session

    run = make_run(database.runs, RunState.APPROVED)
    with Session(database.engine) as session:
        row = session.get(RunEventRow, (run.id, 1))
        assert row is not None
        row.type = "rewritten"
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()
        session.rollback()
        row = session.get(RunEventRow, (run.id, 2))
        session.delete(row)
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()

    assert [e.type for e in database.runs.events(run.id)] == ["created", "state_changed"]


def test_new_events_still_append_after_a_refused_change(database: Database) -> None:
    run = make_run(database.runs, RunState.RUNNING)
    with pytest.raises(DBAPIError), database.engine.begin() as conn:
        conn.execute(TAMPERING["raw delete"](run.id))

    event = database.runs.append_event(run.id, "activity_started", actor="worker")

    assert event.seq == len(database.runs.events(run.id))


def test_the_repository_never_updates_or_deletes_events() -> None:
    source = inspect.getsource(runs_module)
    assert "update(run_events" not in source
    assert "delete(" not in source
    assert "run_events.update" not in source
    assert "run_events.delete" not in source
