"""The run repository on both databases: create, read, list, transitions and their events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.errors import IllegalTransition, InvalidInput, NotFound
from gameday.domain.runs import OutgoingMessage, RunKind, RunState
from tests.db.factories import ad_hoc, make_run, new_run


def test_create_stores_a_planned_run_with_a_created_event(
    database: Database, db_clock: FixedClock
) -> None:
    run = database.runs.create(new_run(seed=7), actor="scheduler", reason="cron 0 14 * * wed")

    assert database.runs.get(run.id) == run
    assert run.state is RunState.PLANNED
    assert run.seed == 7
    assert run.created_at == db_clock.now() == run.updated_at
    [event] = database.runs.events(run.id)
    assert (event.seq, event.type, event.actor) == (1, "created", "scheduler")
    assert event.payload == {"reason": "cron 0 14 * * wed", "state": "planned"}


def test_an_occurrence_is_created_once(database: Database) -> None:
    spec = new_run()
    first = database.runs.create(spec, actor="leader-a", reason="plan")
    again = database.runs.create(spec, actor="leader-b", reason="plan")

    assert again == first
    assert len(database.runs.list_runs()) == 1
    assert [e.actor for e in database.runs.events(first.id)] == ["leader-a"]


def test_ad_hoc_runs_at_the_same_time_are_distinct(database: Database) -> None:
    at = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    one = database.runs.create(ad_hoc(planned_at=at), actor="U1", reason="ad hoc")
    two = database.runs.create(ad_hoc(planned_at=at), actor="U1", reason="ad hoc")

    assert one.id != two.id
    assert one.schedule is None
    assert one.requester == "U0REQUEST"


def test_times_come_back_aware_utc_whatever_offset_went_in(database: Database) -> None:
    tokyo = timezone(timedelta(hours=9))
    run = database.runs.create(
        new_run(planned_at=datetime(2026, 3, 4, 23, 30, tzinfo=tokyo)), actor="a", reason="r"
    )

    stored = database.runs.get(run.id).planned_at
    assert stored.utcoffset() == timedelta(0)
    assert stored == datetime(2026, 3, 4, 14, 30, tzinfo=UTC)


def test_a_naive_time_is_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        database.runs.create(new_run(planned_at=datetime(2026, 3, 4, 9, 0)), actor="a", reason="r")
    assert database.runs.list_runs() == []


def test_get_of_an_unknown_run_names_it(database: Database) -> None:
    with pytest.raises(NotFound, match=r"^no run 42$"):
        database.runs.get(42)


def test_transition_writes_state_event_and_outbox_together(
    database: Database, db_clock: FixedClock
) -> None:
    run = make_run(database.runs)
    db_clock.advance(timedelta(minutes=5))
    message = OutgoingMessage(
        channel="#gameday",
        text="reviews-latency at 14:00 +00:00",
        thread_of_run=run.id,
        kind="announcement",
    )

    moved = database.runs.transition(
        run.id,
        RunState.ANNOUNCED,
        actor="scheduler",
        reason="24h lead",
        payload={"lead": "24h"},
        messages=[message],
    )

    assert moved.state is RunState.ANNOUNCED
    assert moved.updated_at == db_clock.now()
    event = database.runs.events(run.id)[-1]
    assert (event.seq, event.type, event.at) == (2, "state_changed", db_clock.now())
    assert event.payload == {
        "from": "planned",
        "to": "announced",
        "reason": "24h lead",
        "lead": "24h",
    }
    [queued] = database.outbox.due(now=db_clock.now())
    assert queued.message == message


def test_an_illegal_transition_changes_nothing(database: Database) -> None:
    run = make_run(database.runs, RunState.COMPLETED)
    before = database.runs.events(run.id)
    message = OutgoingMessage(channel="#gameday", text="never sent")

    with pytest.raises(IllegalTransition, match="completed cannot become running"):
        database.runs.transition(
            run.id, RunState.RUNNING, actor="cli:alice", reason="again", messages=[message]
        )

    assert database.runs.get(run.id).state is RunState.COMPLETED
    assert database.runs.events(run.id) == before
    assert database.outbox.depth() == 0


def test_a_failing_outbox_write_rolls_the_transition_back(database: Database) -> None:
    run = make_run(database.runs, RunState.APPROVED)
    before = database.runs.events(run.id)
    bad = OutgoingMessage(channel="#gameday", text="x", thread_of_run=999_999)  # no such run

    with pytest.raises(Exception, match=r"(?i)foreign key"):
        database.runs.transition(
            run.id, RunState.RUNNING, actor="supervisor", reason="start", messages=[bad]
        )

    assert database.runs.get(run.id).state is RunState.APPROVED
    assert database.runs.events(run.id) == before  # nothing half-written
    assert database.outbox.depth() == 0


def test_transition_of_an_unknown_run_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound, match="no run 7"):
        database.runs.transition(7, RunState.SKIPPED, actor="a", reason="r")


@pytest.mark.parametrize("state", list(RunState))
def test_the_factory_reaches_every_state_through_legal_moves(
    database: Database, state: RunState
) -> None:
    run = make_run(database.runs, state)

    events = database.runs.events(run.id)
    assert run.state is state
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].payload.get("to", "planned") == state.value


def test_claim_moves_an_approved_run_once(database: Database) -> None:
    run = make_run(database.runs, RunState.APPROVED)

    assert database.runs.claim(run.id, actor="worker-1") is True
    assert database.runs.claim(run.id, actor="worker-2") is False
    assert database.runs.get(run.id).state is RunState.RUNNING
    claims = [e for e in database.runs.events(run.id) if e.payload.get("to") == "running"]
    assert [e.actor for e in claims] == ["worker-1"]


@pytest.mark.parametrize("state", [RunState.PLANNED, RunState.SKIPPED, RunState.RUNNING])
def test_claim_refuses_runs_that_are_not_approved(database: Database, state: RunState) -> None:
    run = make_run(database.runs, state)
    events = database.runs.events(run.id)

    assert database.runs.claim(run.id, actor="worker") is False
    assert database.runs.events(run.id) == events


def test_append_event_numbers_events_per_run(database: Database) -> None:
    a = make_run(database.runs)
    b = make_run(database.runs)

    e1 = database.runs.append_event(a.id, "kill", actor="monkey", payload={"pod": "reviews-1"})
    e2 = database.runs.append_event(b.id, "kill", actor="monkey")
    e3 = database.runs.append_event(a.id, "kill_skipped", actor="monkey", payload={"why": "429"})

    assert (e1.seq, e2.seq, e3.seq) == (2, 2, 3)
    assert [e.type for e in database.runs.events(a.id, after_seq=1)] == ["kill", "kill_skipped"]
    assert database.runs.events(a.id)[1].payload == {"pod": "reviews-1"}


def test_append_event_refuses_state_changes_and_unknown_runs(database: Database) -> None:
    run = make_run(database.runs)
    with pytest.raises(InvalidInput, match="transition"):
        database.runs.append_event(run.id, "state_changed", actor="x")
    with pytest.raises(NotFound, match="no run 999"):
        database.runs.append_event(999, "kill", actor="x")
    assert len(database.runs.events(run.id)) == 1


def test_list_runs_is_newest_first_and_filters(database: Database) -> None:
    runs = database.runs
    early = make_run(runs, planned_at=datetime(2026, 3, 1, 10, tzinfo=UTC))
    late = make_run(runs, RunState.SKIPPED, planned_at=datetime(2026, 3, 9, 10, tzinfo=UTC))
    other = make_run(
        runs,
        schedule="bookinfo-monkey",
        kind=RunKind.MONKEY,
        planned_at=datetime(2026, 3, 5, 10, tzinfo=UTC),
    )

    assert [r.id for r in runs.list_runs()] == [late.id, other.id, early.id]
    assert [r.id for r in runs.list_runs(limit=2)] == [late.id, other.id]
    assert [r.id for r in runs.list_runs(schedule="bookinfo-monkey")] == [other.id]
    assert [r.id for r in runs.list_runs(state=RunState.SKIPPED)] == [late.id]
    assert runs.list_runs(schedule="reviews-latency", state=RunState.RUNNING) == []
    assert [r.id for r in runs.in_state(RunState.PLANNED)] == [early.id, other.id]
    with pytest.raises(InvalidInput, match="limit must be between 1"):
        runs.list_runs(limit=0)


def test_journal_is_stored_whole_and_replaced(database: Database) -> None:
    run = make_run(database.runs, RunState.RUNNING)
    journal = {"chaoslib-version": "1.44.0", "status": "completed", "run": [{"x": [1, 2.5]}]}

    assert database.runs.journal(run.id) is None
    database.runs.store_journal(run.id, journal)
    assert database.runs.journal(run.id) == journal
    database.runs.store_journal(run.id, {"status": "deviated"})
    assert database.runs.journal(run.id) == {"status": "deviated"}
    with pytest.raises(NotFound):
        database.runs.store_journal(404, journal)


def test_approvals_are_once_per_person_and_leave_events(database: Database) -> None:
    from gameday.domain.runs import Decision

    run = make_run(database.runs, RunState.AWAITING_APPROVAL)

    first = database.runs.record_approval(run.id, "U1", Decision.APPROVE)
    repeat = database.runs.record_approval(run.id, "U1", Decision.REJECT)
    database.runs.record_approval(run.id, "U2", Decision.REJECT)

    assert repeat == first
    assert [(a.user, a.decision.value) for a in database.runs.approvals(run.id)] == [
        ("U1", "approve"),
        ("U2", "reject"),
    ]
    approval_events = [e for e in database.runs.events(run.id) if e.type == "approval"]
    assert [(e.actor, e.payload["decision"]) for e in approval_events] == [
        ("U1", "approve"),
        ("U2", "reject"),
    ]


def test_notes_are_kept_in_order_with_events(database: Database) -> None:
    run = make_run(database.runs, RunState.COMPLETED)

    database.runs.add_note(run.id, author="cli:alice", text="p99 went to 2 s, as expected")
    database.runs.add_note(run.id, author="U9", text="alert fired after 40 s")

    assert [(n.author, n.text) for n in database.runs.notes(run.id)] == [
        ("cli:alice", "p99 went to 2 s, as expected"),
        ("U9", "alert fired after 40 s"),
    ]
    assert database.runs.events(run.id)[-1].payload == {"text": "alert fired after 40 s"}
    with pytest.raises(NotFound, match="no run 5"):
        database.runs.add_note(5, author="x", text="y")


def test_payloads_that_json_cannot_hold_are_refused_before_writing(database: Database) -> None:
    run = make_run(database.runs, RunState.APPROVED)
    before = database.runs.events(run.id)

    with pytest.raises(InvalidInput, match="an event payload must be JSON data"):
        database.runs.append_event(run.id, "kill", actor="monkey", payload={"at": object()})
    with pytest.raises(InvalidInput, match="must be JSON data"):
        database.runs.transition(
            run.id, RunState.RUNNING, actor="w", reason="r", payload={"when": datetime.now(UTC)}
        )

    assert database.runs.events(run.id) == before
    assert database.runs.get(run.id).state is RunState.APPROVED
