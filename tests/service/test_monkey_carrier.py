"""`MonkeyService.kill_run`: a kill the scheduler planned, announced and approved, carried
out on the fake Kubernetes API server with the database veto gate, the outbox its heads-up
leaves through, and an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from kubernetes import client

from gameday.adapters.db import Database
from gameday.adapters.kubernetes.cluster import KubeCluster
from gameday.adapters.slack.veto import EventVetoGate
from gameday.domain.clock import FixedClock
from gameday.domain.errors import IllegalTransition
from gameday.domain.heads_up import VETO_EVENT
from gameday.domain.runs import NewRun, OutgoingMessage, Run, RunKind, RunState
from gameday.domain.specs import MonkeySpec
from gameday.domain.windows import Window
from gameday.services.kill_cycle import kill_seed
from gameday.services.monkey import MonkeyService
from gameday.settings import PROTECTED_NAMESPACES
from tests.fakes.kube_api import FakeKubeApi

ALWAYS = Window(name="always", timezone="UTC")
HEADS_UP = timedelta(minutes=10)


def spec() -> MonkeySpec:
    return MonkeySpec.model_validate(
        {
            "kind": "monkey",
            "name": "shop-monkey",
            "window": "always",
            "targets": {"namespaces": ["shop"]},
            "heads_up": "10m",
        }
    )


@pytest.fixture
def monkey(
    kube_client: client.ApiClient, database: Database, db_clock: FixedClock
) -> MonkeyService:
    """Live, as serve builds it: the veto gate reads the run's events while the clock runs."""
    return MonkeyService(
        cluster=KubeCluster(kube_client, read_only=False),
        runs=database.runs,
        control=database.control,
        notifier=_NoNotifier(),
        veto=EventVetoGate(
            database.runs, db_clock, wait=lambda s: db_clock.advance(timedelta(seconds=s))
        ),
        clock=db_clock,
        protected=PROTECTED_NAMESPACES,
        outbox=database.outbox,
        live=True,
    )


class _NoNotifier:
    """kill_run never announces: the scheduler did."""

    def notify(self, message: object) -> None:
        raise AssertionError(f"kill_run announced again: {message}")


PlanStep = Callable[[Database, FixedClock, int], None]


def announce(database: Database, clock: FixedClock, run_id: int, *, delivered: bool = True) -> None:
    """The scheduler's announcement: the move to `announced` queuing the heads-up in the
    outbox, which the outbox worker then delivers (or not, during a Slack outage)."""
    heads_up = OutgoingMessage(
        channel="#chaos", text="heads-up", thread_of_run=run_id, kind="announcement"
    )
    database.runs.transition(
        run_id, RunState.ANNOUNCED, actor="scheduler", reason="announced", messages=[heads_up]
    )
    if delivered:
        deliver(database, clock, run_id)


def deliver(database: Database, clock: FixedClock, run_id: int) -> None:
    """What the outbox worker does once Slack takes the run's heads-up."""
    (item,) = [i for i in database.outbox.due(now=clock.now()) if i.message.thread_of_run == run_id]
    database.outbox.mark_delivered(item.id, at=clock.now(), remote_id="1.0001")


def announce_on_time(database: Database, clock: FixedClock, run_id: int) -> None:
    announce(database, clock, run_id)
    clock.advance(HEADS_UP)


def announce_late(database: Database, clock: FixedClock, run_id: int) -> None:
    clock.advance(HEADS_UP - timedelta(minutes=1))
    announce(database, clock, run_id)
    clock.advance(timedelta(minutes=1))


def deliver_after(delay: timedelta) -> PlanStep:
    """Announced on time, its heads-up delivered `delay` later (Slack slow or down)."""

    def step(database: Database, clock: FixedClock, run_id: int) -> None:
        announce(database, clock, run_id, delivered=False)
        clock.advance(delay)
        deliver(database, clock, run_id)
        clock.advance(HEADS_UP - delay)

    return step


def never_deliver(database: Database, clock: FixedClock, run_id: int) -> None:
    announce(database, clock, run_id, delivered=False)
    clock.advance(HEADS_UP)


def never_announce(database: Database, clock: FixedClock, run_id: int) -> None:
    clock.advance(HEADS_UP)


def engage_kill_switch(database: Database, clock: FixedClock, run_id: int) -> None:
    announce_on_time(database, clock, run_id)
    database.control.engage_kill_switch(actor="U0SRE", reason="incident")


def veto(database: Database, clock: FixedClock, run_id: int) -> None:
    announce(database, clock, run_id)
    clock.advance(timedelta(minutes=3))
    database.runs.append_event(run_id, VETO_EVENT, actor="U0VETO", payload={})
    clock.advance(HEADS_UP - timedelta(minutes=3))


def planned(database: Database, clock: FixedClock, step: PlanStep, *, seed: int = 11) -> Run:
    """A kill as the scheduler leaves it for its carrier: planned a heads-up ahead, `step`
    (announcement, veto...) until its moment, then approved."""
    run = database.runs.create(
        NewRun(
            kind=RunKind.MONKEY,
            schedule="shop-monkey",
            runbook=None,
            planned_at=clock.now() + HEADS_UP,
            dry_run=False,
            seed=seed,
        ),
        actor="scheduler",
        reason="planned",
    )
    step(database, clock, run.id)
    return database.runs.transition(
        run.id, RunState.APPROVED, actor="scheduler", reason="no approval needed"
    )


def test_a_kill_announced_on_time_evicts_without_a_second_heads_up(
    monkey: MonkeyService, database: Database, db_clock: FixedClock, kube: FakeKubeApi
) -> None:
    run = planned(database, db_clock, announce_on_time)

    report = monkey.kill_run(run, spec(), ALWAYS)

    assert (report.outcome, report.run.state) == ("completed", RunState.COMPLETED)
    (killed,) = report.killed
    assert kube.state.evictions == [{"namespace": "shop", "name": killed["pod"]}]
    types = [e.type for e in database.runs.events(run.id)]
    assert types.count("selection") == 1
    assert types.count("kill") == 1
    assert db_clock.now() == run.planned_at  # nothing left to wait for


def test_each_kill_of_a_plan_draws_its_own_reproducible_seed(
    monkey: MonkeyService, database: Database, db_clock: FixedClock
) -> None:
    runs = []
    for _ in range(2):
        runs.append(planned(database, db_clock, announce_on_time, seed=11))
        monkey.kill_run(runs[-1], spec(), ALWAYS)
        db_clock.advance(timedelta(hours=1))

    seeds = [
        next(e for e in database.runs.events(r.id) if e.type == "selection").payload["seed"]
        for r in runs
    ]
    assert seeds == [kill_seed(11, "shop-monkey", r.planned_at) for r in runs]
    assert seeds[0] != seeds[1]


@pytest.mark.parametrize(
    "step",
    [announce_on_time, deliver_after(timedelta(seconds=4))],
    ids=["delivered-at-once", "delivered-within-the-slack"],
)
def test_a_dry_run_kill_whose_heads_up_was_delivered_in_time_goes_ahead(
    monkey: MonkeyService,
    database: Database,
    db_clock: FixedClock,
    kube: FakeKubeApi,
    step: PlanStep,
) -> None:
    monkey.live = False
    run = planned(database, db_clock, step)

    report = monkey.kill_run(run, spec(), ALWAYS)

    assert (report.run.state, report.reason) == (RunState.COMPLETED, "1 pod(s) would be killed")
    (kill,) = [e for e in database.runs.events(run.id) if e.type == "kill"]
    assert kill.payload["dry_run"] is True
    assert kube.mutating_requests() == []


@pytest.mark.parametrize(
    ("step", "reason", "events"),
    [
        (veto, "vetoed by U0VETO", {VETO_EVENT, "selection", "vetoed"}),
        (
            never_announce,
            "no heads-up was announced before the kill (heads_up 600s): "
            "nobody could have vetoed it",
            {"selection"},
        ),
        (
            announce_late,
            "heads-up too short: announced 60s before the kill, heads_up is 600s",
            {"selection"},
        ),
        (engage_kill_switch, "kill switch engaged: incident", set()),
        (
            never_deliver,
            "heads-up not delivered (Slack unavailable?): nobody could veto",
            {"selection"},
        ),
        (
            deliver_after(timedelta(minutes=8)),
            "heads-up delivered late: 120s before the kill, heads_up is 600s: "
            "too little time to veto",
            {"selection"},
        ),
    ],
    ids=[
        "veto",
        "never-announced",
        "announced-late",
        "kill-switch",
        "heads-up-undelivered",
        "heads-up-delivered-late",
    ],
)
def test_a_kill_that_must_not_happen_is_skipped_with_the_reason(
    monkey: MonkeyService,
    database: Database,
    db_clock: FixedClock,
    kube: FakeKubeApi,
    step: PlanStep,
    reason: str,
    events: set[str],
) -> None:
    run = planned(database, db_clock, step)

    report = monkey.kill_run(run, spec(), ALWAYS)

    assert (report.run.state, report.reason) == (RunState.SKIPPED, reason)
    recorded = {e.type for e in database.runs.events(run.id)} - {"state_changed", "created"}
    assert recorded == events
    assert kube.mutating_requests() == []


def test_a_run_no_longer_approved_is_refused(
    monkey: MonkeyService, database: Database, db_clock: FixedClock
) -> None:
    run = planned(database, db_clock, announce_on_time)
    database.runs.transition(run.id, RunState.SKIPPED, actor="U0SRE", reason="by hand")

    with pytest.raises(IllegalTransition, match="it is skipped, not approved"):
        monkey.kill_run(run, spec(), ALWAYS)
