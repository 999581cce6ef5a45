"""The status snapshot reads exactly what the separate reads would, in one transaction."""

from __future__ import annotations

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.ports import StatusSnapshot
from gameday.domain.runs import KillSwitch, OutgoingMessage, RunState
from tests.db.factories import make_run

ACTIVE = (RunState.RUNNING, RunState.AWAITING_APPROVAL)


def _separately(database: Database, states: tuple[RunState, ...]) -> StatusSnapshot:
    return StatusSnapshot(
        runs=database.runs.in_state(*states),
        kill_switch=database.control.kill_switch_detail(),
        pauses=database.control.pauses(),
        outbox_depth=database.outbox.depth(),
    )


def test_an_empty_database_has_an_empty_status(database: Database) -> None:
    snap = database.runs.status_snapshot(*ACTIVE)

    assert snap == StatusSnapshot(
        runs=[], kill_switch=KillSwitch(engaged=False), pauses=[], outbox_depth=0
    )


@pytest.mark.parametrize("states", [ACTIVE, (RunState.PLANNED,), ()])
def test_the_snapshot_equals_the_separate_reads(
    database: Database, db_clock: FixedClock, states: tuple[RunState, ...]
) -> None:
    made = [make_run(database.runs, s) for s in (*ACTIVE, RunState.PLANNED, RunState.COMPLETED)]
    database.control.engage_kill_switch(actor="cli:alice", reason="payments incident")
    database.control.pause("reviews-latency", actor="U1")
    database.control.pause("bookinfo-monkey", actor="U2")
    database.control.unpause("bookinfo-monkey", actor="U2")
    ids = database.outbox.enqueue(
        [OutgoingMessage(channel="#gameday", text=t) for t in ("one", "two")]
    )
    database.outbox.mark_delivered(ids[0], at=db_clock.now(), remote_id="1.0")

    snap = database.runs.status_snapshot(*states)

    assert snap == _separately(database, states)
    # oldest planned first (the factory plans each run an hour after the previous one)
    assert [r.id for r in snap.runs] == [r.id for r in made if r.state in states]
    assert (snap.kill_switch.engaged, snap.kill_switch.reason) == (True, "payments incident")
    assert [p.schedule for p in snap.pauses] == ["reviews-latency"]
    assert snap.outbox_depth == 1


@pytest.mark.parametrize("kill_switch", ["never", "released", "engaged"])
@pytest.mark.parametrize("paused", [False, True])
def test_controls_and_depth_agree_in_every_combination(
    database: Database, kill_switch: str, paused: bool
) -> None:
    if kill_switch != "never":
        database.control.engage_kill_switch(actor="cli:alice", reason="drill")
    if kill_switch == "released":
        database.control.release_kill_switch(actor="cli:bob")
    if paused:
        database.control.pause("reviews-latency", actor="U1")

    snap = database.runs.status_snapshot(*ACTIVE)

    assert snap == _separately(database, ACTIVE)
    assert snap.kill_switch.engaged is (kill_switch == "engaged")
    assert len(snap.pauses) == int(paused)
    assert snap.outbox_depth == 0
