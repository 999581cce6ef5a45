"""append_event_once: an event keyed by a payload field is recorded once per run, also when
writers on separate connection pools (replicas) race for it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from gameday.adapters.db import Database
from gameday.adapters.db.engine import make_engine
from gameday.adapters.db.runs import SqlRunRepository
from gameday.domain.runs import OutgoingMessage, RunState
from tests.db.factories import make_run

KEYS = 30


def test_a_second_event_with_the_same_key_is_not_recorded(database: Database) -> None:
    run = make_run(database.runs, RunState.RUNNING)
    note = OutgoingMessage(channel="#c", text="alert", thread_of_run=run.id)

    first = database.runs.append_event_once(
        run.id, "alert_fired", key="fingerprint", actor="am", payload={"fingerprint": "a1"},
        messages=[note],
    )  # fmt: skip
    again = database.runs.append_event_once(
        run.id, "alert_fired", key="fingerprint", actor="am", payload={"fingerprint": "a1"},
        messages=[note],
    )  # fmt: skip
    other = database.runs.append_event_once(
        run.id, "alert_fired", key="fingerprint", actor="am", payload={"fingerprint": "b2"}
    )
    after = database.runs.append_event(run.id, "note", actor="sre", payload={"text": "x"})

    assert first is not None
    assert again is None
    assert other is not None
    fired = [
        e.payload["fingerprint"] for e in database.runs.events(run.id) if e.type == "alert_fired"
    ]
    assert fired == ["a1", "b2"]
    # The refused one left no gap in the numbering and no message behind.
    assert (first.seq + 1, other.seq + 1) == (other.seq, after.seq)
    assert [m.message.text for m in database.outbox.of_run(run.id)] == ["alert"]


def test_replicas_racing_record_each_key_once(database: Database, db_url: str) -> None:
    run = make_run(database.runs, RunState.RUNNING)
    barrier = threading.Barrier(2)

    def replica() -> list[str]:
        engine = make_engine(db_url)  # a pool of its own, as another replica has
        try:
            runs = SqlRunRepository(engine)
            barrier.wait()
            won = []
            for i in range(KEYS):
                key = f"fp-{i}"
                if runs.append_event_once(
                    run.id,
                    "alert_fired",
                    key="fingerprint",
                    actor="am",
                    payload={"fingerprint": key},
                ):
                    won.append(key)
            runs.close()
            return won
        finally:
            engine.dispose()

    with ThreadPoolExecutor(2) as pool:
        wins = [f.result() for f in [pool.submit(replica), pool.submit(replica)]]

    recorded = [
        e.payload["fingerprint"] for e in database.runs.events(run.id) if e.type == "alert_fired"
    ]
    assert sorted(recorded) == sorted(f"fp-{i}" for i in range(KEYS))
    assert sorted(wins[0] + wins[1]) == sorted(recorded)
