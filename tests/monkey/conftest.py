"""Fixtures of the monkey tests: fake API server, real SQLite run_db, fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from gameday.adapters.db import Database
from gameday.adapters.kubernetes.cluster import KubeCluster
from gameday.domain.clock import FixedClock
from gameday.domain.runs import OutgoingMessage
from gameday.services.monkey import MonkeyService
from gameday.settings import PROTECTED_NAMESPACES
from tests.fakes.kube_fixtures import kube_api, kube_client
from tests.monkey.factories import NOW

__all__ = ["kube_api", "kube_client"]


@dataclass
class RecordingNotifier:
    """A Notifier that keeps what it was asked to send."""

    sent: list[OutgoingMessage] = field(default_factory=list)

    def notify(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


@dataclass
class ScriptedVeto:
    """A VetoGate whose answer the test chooses; the heads-up passes on the fixed clock."""

    clock: FixedClock
    vetoer: str | None = None
    waits: list[tuple[int, timedelta]] = field(default_factory=list)

    def wait_for_veto(self, run_id: int, heads_up: timedelta) -> str | None:
        self.waits.append((run_id, heads_up))
        if self.vetoer is None:
            self.clock.advance(heads_up)
        return self.vetoer


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def run_db(tmp_path: Path, clock: FixedClock) -> Iterator[Database]:
    db = Database.open(f"sqlite:///{tmp_path / 'gameday.db'}", clock=clock)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def veto(clock: FixedClock) -> ScriptedVeto:
    return ScriptedVeto(clock)


ServiceFactory = Callable[..., MonkeyService]


@pytest.fixture
def make_service(
    kube_client: client.ApiClient,
    run_db: Database,
    clock: FixedClock,
    notifier: RecordingNotifier,
    veto: ScriptedVeto,
) -> ServiceFactory:
    """Build the service as wiring does: a read-only cluster unless live."""

    def build(*, live: bool = False, **overrides: Any) -> MonkeyService:
        options: dict[str, Any] = {
            "cluster": KubeCluster(kube_client, read_only=not live, page_size=50),
            "runs": run_db.runs,
            "control": run_db.control,
            "notifier": notifier,
            "veto": veto,
            "clock": clock,
            "protected": PROTECTED_NAMESPACES | {"gameday"},
            "own_pod": None,
            "live": live,
            "default_channel": "#chaos",
        }
        options.update(overrides)
        return MonkeyService(**options)

    return build
