"""Which leader election `gameday serve` uses, from its settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.adapters.scheduling.leader import PostgresAdvisoryLock, SqliteFileLock
from gameday.adapters.scheduling.lease import KubernetesLease
from gameday.domain.clock import SystemClock
from gameday.domain.errors import InvalidInput
from gameday.settings import Settings
from gameday.wiring import elector_for
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi
from tests.fakes.kube_fixtures import kube_api

__all__ = ["kube_api"]


@pytest.mark.parametrize("in_cluster", [False, True])
def test_sqlite_takes_the_file_lock_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_cluster: bool
) -> None:
    # Even in a cluster: SQLite serves one process, a Lease would let two share the file.
    if in_cluster:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    else:
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    settings = Settings(home=tmp_path)
    elector = elector_for(settings, clock=SystemClock())
    try:
        assert isinstance(elector, SqliteFileLock)
        assert elector.path == (tmp_path / "gameday.db.lock").resolve()
        assert elector.path.read_text().strip().isdigit()
    finally:
        elector.release()


def test_postgres_uses_an_advisory_lock_keyed_by_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    keys = {
        elector_for(
            Settings(home=tmp_path, database_url=f"postgresql+psycopg://u@127.0.0.1/{db}"),
            clock=SystemClock(),
        ).key  # type: ignore[union-attr]
        for db in ("a", "b")
    }
    assert len(keys) == 2
    assert isinstance(
        elector_for(
            Settings(home=tmp_path, database_url="postgresql+psycopg://u@127.0.0.1/a"),
            clock=SystemClock(),
        ),
        PostgresAdvisoryLock,
    )


def test_a_lease_through_the_configured_kubeconfig(tmp_path: Path, kube_api: FakeKubeApi) -> None:
    config = ko.write_kubeconfig(tmp_path / "config", kube_api.url)
    settings = Settings(
        home=tmp_path,
        leader_election="kubernetes",
        kubeconfig=config,
        namespace="chaos",
        pod_name="gameday-0",
    )
    elector = elector_for(settings, clock=SystemClock())
    assert isinstance(elector, KubernetesLease)
    assert elector.try_acquire()
    lease = kube_api.get("leases", "chaos", "gameday-leader")
    assert lease is not None
    assert lease["spec"]["holderIdentity"] == "gameday-0"
    assert lease["spec"]["leaseDurationSeconds"] == 15


@pytest.mark.parametrize(
    ("choice", "url"),
    [("postgres", None), ("sqlite", "postgresql+psycopg://u@127.0.0.1/a")],
)
def test_a_mismatched_choice_is_refused(tmp_path: Path, choice: str, url: str | None) -> None:
    settings = Settings(home=tmp_path, leader_election=choice, database_url=url)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=f"GAMEDAY_LEADER_ELECTION={choice}"):
        elector_for(settings, clock=SystemClock())
