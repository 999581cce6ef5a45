"""Fixtures for the service tests: a scheduler on a real database with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from gameday.adapters.db import Database
from gameday.adapters.observability.metrics import Metrics
from gameday.domain.approval import ApprovalPolicy
from gameday.domain.clock import FixedClock
from gameday.domain.errors import IllegalTransition
from gameday.domain.fire_guards import PlannedOccurrence, ScheduleRules
from gameday.domain.messages import RunBrief
from gameday.domain.run_policy import Briefing
from gameday.domain.runs import Run, RunKind
from gameday.services.approvals import ApprovalService
from gameday.services.catch_up import CatchUp
from gameday.services.scheduler import Scheduler
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi
from tests.fakes.kube_fixtures import kube_api, kube_client

__all__ = ["kube_api", "kube_client"]  # fixtures for the tests here

OPT_IN = {"gameday.io/enabled": "true"}


@dataclass
class MemoryQueue:
    """The JobQueue port kept in a dict; tests fire jobs by hand with the clock moved."""

    waiting: dict[str, datetime] = field(default_factory=dict)

    def jobs(self) -> dict[str, datetime]:
        return dict(self.waiting)

    def add(self, job_id: str, at: datetime) -> None:
        self.waiting[job_id] = at

    def remove(self, job_id: str) -> None:
        self.waiting.pop(job_id, None)

    def due(self, now: datetime) -> list[str]:
        """Pop the jobs whose time has come, earliest first (as the real queue fires)."""
        ids = sorted((at, job_id) for job_id, at in self.waiting.items() if at <= now)
        for _, job_id in ids:
            self.waiting.pop(job_id)
        return [job_id for _, job_id in ids]


@dataclass
class ClaimingStarter:
    """The RunStarter port: claims the run like the real ones do and remembers it."""

    database: Database
    started: list[int] = field(default_factory=list)

    def start(self, run: Run) -> None:
        if not self.database.runs.claim(run.id, actor="test-starter"):
            raise IllegalTransition(f"run {run.id} already claimed")
        self.started.append(run.id)


@pytest.fixture
def kube(kube_api: FakeKubeApi) -> FakeKubeApi:
    """The fake API with an opted-in `shop/web` of three pods, and no requests seen yet."""
    kube_api.put(*ko.workload("shop", "web", replicas=3, labels=OPT_IN))
    kube_api.clear_requests()
    return kube_api


@pytest.fixture
def queue() -> MemoryQueue:
    return MemoryQueue()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def starter(database: Database) -> ClaimingStarter:
    return ClaimingStarter(database)


class RulesBriefs:
    """The approval service's BriefSource in scheduler tests: a run's policy and channel
    from the rules the scheduler knows (an approval policy of one approver, UAPPROVER,
    with the rules' deadline)."""

    def __init__(self) -> None:
        self.scheduler: Scheduler | None = None

    def __call__(self, run: Run) -> Briefing:
        assert self.scheduler is not None
        rules = self.scheduler.rules.get(run.schedule or "")
        policy = None
        if rules is not None and rules.needs_approval:
            policy = ApprovalPolicy(
                users=frozenset({"UAPPROVER"}), deadline=rules.approval_deadline
            )
        channel = (rules.channel if rules else None) or "#gameday"
        return Briefing(RunBrief(run, run.schedule or "ad hoc", policy=policy), channel)


class NoGroups:
    def members(self, group: str) -> frozenset[str]:
        return frozenset()


@pytest.fixture
def make_scheduler(
    database: Database, db_clock: FixedClock, queue: MemoryQueue, metrics: Metrics
) -> Callable[..., Scheduler]:
    def make(starter: ClaimingStarter | None = None, **kwargs: object) -> Scheduler:
        briefs = RulesBriefs()
        approvals = ApprovalService(database.runs, database.outbox, NoGroups(), db_clock, briefs)
        scheduler = Scheduler(
            runs=database.runs,
            control=database.control,
            queue=queue,
            starter=starter or ClaimingStarter(database),
            approvals=approvals,
            clock=db_clock,
            metrics=metrics,
            **kwargs,  # type: ignore[arg-type]
        )
        briefs.scheduler = scheduler
        return scheduler

    return make


@pytest.fixture
def make_catch_up(database: Database, db_clock: FixedClock) -> Callable[..., CatchUp]:
    def make(scheduler: Scheduler, starter: ClaimingStarter | None = None) -> CatchUp:
        return CatchUp(
            scheduler=scheduler,
            runs=database.runs,
            control=database.control,
            starter=starter or ClaimingStarter(database),
            clock=db_clock,
            marks=database.marks,
            tolerance=timedelta(seconds=30),
            dry_run=True,
            actor="test:catch-up",
        )

    return make


def gameday_rules(name: str = "weekly", **kwargs: object) -> ScheduleRules:
    """Rules of a GameDay schedule (no window, no approval unless given)."""
    return ScheduleRules(name=name, kind=RunKind.GAMEDAY, runbook="noop", **kwargs)  # type: ignore[arg-type]


def occurrences(
    name: str, start: datetime, count: int, every: timedelta
) -> list[PlannedOccurrence]:
    """`count` GameDay occurrences of `name`, `every` apart from `start`."""
    return [
        PlannedOccurrence(schedule=name, kind=RunKind.GAMEDAY, at=start + i * every, runbook="noop")
        for i in range(count)
    ]
