"""RunRepository on SQLAlchemy: runs, their append-only events, approvals, notes, journals.

Every public method is one transaction. Event numbers come from `runs.last_seq`, bumped by
the same UPDATE that changes the run, so a transition, its event and its outbox messages
land together or not at all, and two writers can never hand out the same seq.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from gameday.adapters.db import reports, run_records
from gameday.adapters.db.engine import unavailable_on_failure
from gameday.adapters.db.rows import insert_messages, jsonable, reading, run_events, run_from, runs
from gameday.adapters.db.run_records import run_row
from gameday.adapters.db.status import kept_status_for, read_status
from gameday.adapters.db.tables import approvals, notes
from gameday.domain.clock import SystemClock
from gameday.domain.errors import IllegalTransition, InvalidInput, NotFound
from gameday.domain.lifecycle import check_transition
from gameday.domain.ports import Clock, StatusSnapshot
from gameday.domain.runs import (
    Approval,
    Decision,
    NewRun,
    Note,
    OutgoingMessage,
    Run,
    RunEvent,
    RunState,
)

MAX_LIST_LIMIT = 10_000


@unavailable_on_failure(lambda repo: repo._engine)
class SqlRunRepository:
    """The RunRepository port on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock or SystemClock()
        self._kept_status = kept_status_for(engine)

    # -- runs ---------------------------------------------------------------------------

    def create(self, new: NewRun, *, actor: str, reason: str) -> Run:
        """Store a planned run with a "created" event; a known occurrence is returned as is."""
        if new.schedule is not None:
            existing = self._occurrence(new)
            if existing is not None:
                return existing
        now = self._clock.now()
        try:
            with self._engine.begin() as conn:
                run_id = conn.execute(
                    insert(runs)
                    .values(
                        kind=new.kind.value,
                        schedule=new.schedule,
                        runbook=new.runbook,
                        planned_at=new.planned_at,
                        state=RunState.PLANNED.value,
                        dry_run=new.dry_run,
                        seed=new.seed,
                        requester=new.requester,
                        runbook_digest=new.runbook_digest,
                        last_seq=1,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(runs.c.id)
                ).scalar_one()
                conn.execute(
                    insert(run_events).values(
                        run_id=run_id,
                        seq=1,
                        at=now,
                        type="created",
                        actor=actor,
                        payload=_created_payload(new, reason),
                    )
                )
        except IntegrityError:
            # Another planner stored the same occurrence between our check and insert.
            existing = self._occurrence(new) if new.schedule is not None else None
            if existing is None:
                raise
            return existing
        return self.get(run_id)

    def _occurrence(self, new: NewRun) -> Run | None:
        with reading(self._engine) as conn:
            row = conn.execute(
                select(runs).where(
                    runs.c.schedule == new.schedule, runs.c.planned_at == new.planned_at
                )
            ).first()
        return run_from(row) if row is not None else None

    def get(self, run_id: int) -> Run:
        """The run with this id; NotFound if there is none."""
        with reading(self._engine) as conn:
            return run_row(conn, run_id)

    def list_runs(
        self, *, schedule: str | None = None, state: RunState | None = None, limit: int = 50
    ) -> list[Run]:
        """Runs, newest planned_at first, optionally of one schedule and/or one state."""
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}")
        query = select(runs).order_by(runs.c.planned_at.desc(), runs.c.id.desc()).limit(limit)
        if schedule is not None:
            query = query.where(runs.c.schedule == schedule)
        if state is not None:
            query = query.where(runs.c.state == state.value)
        with reading(self._engine) as conn:
            return [run_from(row) for row in conn.execute(query).all()]

    def in_state(self, *states: RunState) -> list[Run]:
        """Every run currently in one of `states`, oldest planned_at first."""
        if not states:
            return []
        query = (
            select(runs)
            .where(runs.c.state.in_([s.value for s in states]))
            .order_by(runs.c.planned_at, runs.c.id)
        )
        with reading(self._engine) as conn:
            return [run_from(row) for row in conn.execute(query).all()]

    def runs_of_runbook(self, runbook: str, *, until: datetime, limit: int = 10) -> list[Run]:
        """A runbook's runs planned at or before `until`, newest first (see reports)."""
        return reports.runs_of_runbook(self._engine, runbook, until=until, limit=limit)

    def runs_planned_between(
        self, since: datetime, until: datetime, *, schedule: str | None = None
    ) -> list[Run]:
        """Runs planned in [since, until), oldest first (see reports)."""
        return reports.runs_planned_between(self._engine, since, until, schedule=schedule)

    def events_of_runs(
        self, run_ids: Sequence[int], *, types: Collection[str]
    ) -> dict[int, list[RunEvent]]:
        """Chosen events of many runs, by run id (see reports)."""
        return reports.events_of_runs(self._engine, run_ids, types=types)

    def status_snapshot(self, *states: RunState) -> StatusSnapshot:
        """Runs in `states`, the kill switch, pauses and outbox depth in one transaction
        (on an SQLite file, from memory while nothing has been committed since)."""
        if self._kept_status is not None:
            return self._kept_status.read(self._engine, states)
        return read_status(self._engine, states)

    def close(self) -> None:
        """Let go of what status reads keep (the engine is the Database's to dispose)."""
        if self._kept_status is not None:
            self._kept_status.close()

    # -- lifecycle ----------------------------------------------------------------------

    def transition(
        self,
        run_id: int,
        to: RunState,
        *,
        actor: str,
        reason: str,
        payload: Mapping[str, Any] | None = None,
        messages: Sequence[OutgoingMessage] = (),
    ) -> Run:
        """Move a run to `to` with its event and outbox messages in one transaction."""
        with self._engine.begin() as conn:
            current = run_row(conn, run_id)
            check_transition(current.state, to)
            if not self._move(conn, current, to, actor, reason, payload, messages):
                now_state = run_row(conn, run_id).state
                raise IllegalTransition(
                    f"run {run_id} changed meanwhile: it is {now_state.value}, "
                    f"no longer {current.state.value}; not moved to {to.value}"
                )
            return run_row(conn, run_id)

    def claim(
        self,
        run_id: int,
        *,
        actor: str,
        dry_run: bool | None = None,
        payload: Mapping[str, Any] | None = None,
        messages: Sequence[OutgoingMessage] = (),
    ) -> bool:
        """approved -> running for exactly one caller; False for everyone else. The run's
        mode (`dry_run`, the one it really runs in), the event payload and the messages
        land in the same transaction."""
        with self._engine.begin() as conn:
            current = run_row(conn, run_id)
            if current.state is not RunState.APPROVED:
                return False
            moved = self._move(
                conn, current, RunState.RUNNING, actor, "claimed for execution", payload, messages
            )
            if moved and dry_run is not None and dry_run != current.dry_run:
                conn.execute(update(runs).where(runs.c.id == run_id).values(dry_run=dry_run))
            return moved

    def _move(
        self,
        conn: Connection,
        current: Run,
        to: RunState,
        actor: str,
        reason: str,
        payload: Mapping[str, Any] | None,
        messages: Sequence[OutgoingMessage],
    ) -> bool:
        now = self._clock.now()
        # The conditional UPDATE is the guard: on PostgreSQL a concurrent mover's commit
        # makes our WHERE false after the row lock is released, so exactly one wins.
        seq = conn.execute(
            update(runs)
            .where(and_(runs.c.id == current.id, runs.c.state == current.state.value))
            .values(state=to.value, updated_at=now, last_seq=runs.c.last_seq + 1)
            .returning(runs.c.last_seq)
        ).scalar_one_or_none()
        if seq is None:
            return False
        body = jsonable(payload or {}, "an event payload")
        body.update({"from": current.state.value, "to": to.value, "reason": reason})
        conn.execute(
            insert(run_events).values(
                run_id=current.id, seq=seq, at=now, type="state_changed", actor=actor, payload=body
            )
        )
        insert_messages(conn, messages, now)
        return True

    # -- events -------------------------------------------------------------------------

    def append_event(
        self,
        run_id: int,
        type: str,
        *,
        actor: str,
        payload: Mapping[str, Any] | None = None,
        messages: Sequence[OutgoingMessage] = (),
    ) -> RunEvent:
        """Append one event to the run's log (events are never changed or removed), with
        the messages telling the run's channel about it, in one transaction."""
        with self._engine.begin() as conn:
            event = self._append(
                conn, run_id, type, actor, jsonable(payload or {}, "an event payload")
            )
            insert_messages(conn, messages, event.at)
            return event

    def _append(
        self, conn: Connection, run_id: int, type: str, actor: str, payload: dict[str, Any]
    ) -> RunEvent:
        if type == "state_changed":
            raise InvalidInput("state_changed events are written by transition(), not appended")
        now = self._clock.now()
        seq = conn.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(last_seq=runs.c.last_seq + 1)
            .returning(runs.c.last_seq)
        ).scalar_one_or_none()
        if seq is None:
            raise NotFound(f"no run {run_id}")
        conn.execute(
            insert(run_events).values(
                run_id=run_id, seq=seq, at=now, type=type, actor=actor, payload=payload
            )
        )
        return RunEvent(run_id=run_id, seq=seq, at=now, type=type, actor=actor, payload=payload)

    def append_event_once(
        self,
        run_id: int,
        type: str,
        *,
        key: str,
        actor: str,
        payload: Mapping[str, Any],
        messages: Sequence[OutgoingMessage] = (),
    ) -> RunEvent | None:
        """append_event, unless an event of `type` with the same `payload[key]` exists:
        checked after taking the run's row, so of writers racing on any replica one wins."""
        data = jsonable(payload, "an event payload")
        try:
            with self._engine.begin() as conn:
                event = self._append(conn, run_id, type, actor, data)  # locks the run row
                c = run_events.c
                earlier = select(c.payload).where(
                    c.run_id == run_id, c.type == type, c.seq < event.seq
                )
                if any(p.get(key) == data.get(key) for p in conn.execute(earlier).scalars()):
                    raise _AlreadyThere  # roll the seq back with the rest
                insert_messages(conn, messages, event.at)
                return event
        except _AlreadyThere:
            return None

    def events(self, run_id: int, *, after_seq: int = 0) -> list[RunEvent]:
        """The run's events with seq > after_seq, oldest first."""
        c = run_events.c
        query = (
            select(c.seq, c.at, c.type, c.actor, c.payload)
            .where(c.run_id == run_id, c.seq > after_seq)
            .order_by(c.seq)
        )
        with reading(self._engine) as conn:
            rows = conn.execute(query).all()
        # Plain tuples: a run's log can be thousands of events long (journal show).
        return [
            RunEvent(run_id=run_id, seq=seq, at=at, type=type_, actor=actor, payload=payload or {})
            for seq, at, type_, actor, payload in rows
        ]

    # -- journals, approvals, notes -----------------------------------------------------

    def store_journal(self, run_id: int, journal: Mapping[str, Any]) -> None:
        """Keep the Chaos Toolkit journal of a run whole (a later one replaces it)."""
        body = jsonable(journal, "a journal")
        with self._engine.begin() as conn:
            run_records.store_journal(conn, run_id, body, self._clock.now())

    def journal(self, run_id: int) -> Mapping[str, Any] | None:
        """The stored Chaos Toolkit journal of a run, or None."""
        return run_records.journal_of(self._engine, run_id)

    def record_approval(self, run_id: int, user: str, decision: Decision) -> Approval:
        """Record a person's decision once, with an "approval" event; a repeat returns the
        first decision unchanged (double clicks and retries are harmless)."""
        existing = self._approval(run_id, user)
        if existing is not None:
            return existing
        now = self._clock.now()
        try:
            with self._engine.begin() as conn:
                run_row(conn, run_id)
                conn.execute(
                    insert(approvals).values(
                        run_id=run_id, user=user, decision=decision.value, at=now
                    )
                )
                self._append(conn, run_id, "approval", user, {"decision": decision.value})
        except IntegrityError:
            existing = self._approval(run_id, user)
            if existing is None:
                raise
            return existing
        return Approval(run_id=run_id, user=user, decision=decision, at=now)

    def _approval(self, run_id: int, user: str) -> Approval | None:
        return next(iter(run_records.approvals_of(self._engine, run_id, user)), None)

    def approvals(self, run_id: int) -> list[Approval]:
        """Decisions on a run, oldest first."""
        return run_records.approvals_of(self._engine, run_id)

    def add_note(self, run_id: int, *, author: str, text: str) -> Note:
        """Attach a note to a run, with a "note" event carrying the same text."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            run_row(conn, run_id)
            conn.execute(insert(notes).values(run_id=run_id, author=author, text=text, at=now))
            self._append(conn, run_id, "note", author, {"text": text})
        return Note(run_id=run_id, author=author, text=text, at=now)

    def notes(self, run_id: int) -> list[Note]:
        """Notes on a run, oldest first."""
        return run_records.notes_of(self._engine, run_id)


class _AlreadyThere(Exception):
    """append_event_once found its event recorded already."""


def _created_payload(new: NewRun, reason: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"reason": reason, "state": RunState.PLANNED.value}
    if new.postponed_from is not None:
        payload["postponed_from"] = new.postponed_from
    return payload
