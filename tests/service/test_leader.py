"""Leader election on the real things: an OS file lock, PostgreSQL advisory locks, and a
Kubernetes Lease on the fake API server through the real `kubernetes` client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gameday.adapters.scheduling.leader import (
    AlreadyServing,
    LeaderLoop,
    PostgresAdvisoryLock,
    SqliteFileLock,
    advisory_key,
)
from gameday.adapters.scheduling.lease import KubernetesLease
from gameday.domain.clock import FixedClock
from tests.db.support import postgres_base_url
from tests.fakes.kube_api import FakeKubeApi


def test_a_second_holder_of_the_sqlite_file_is_refused_with_the_file_and_pid(
    tmp_path: Path,
) -> None:
    database = tmp_path / "gameday.db"
    first = SqliteFileLock(database)
    first.acquire_or_refuse()
    with pytest.raises(AlreadyServing) as refused:
        SqliteFileLock(database).acquire_or_refuse()
    message = str(refused.value)
    assert str(database) in message
    assert f"pid {os.getpid()}" in message
    first.release()
    again = SqliteFileLock(database)
    assert again.try_acquire()
    again.release()


def test_the_file_lock_dies_with_its_process(tmp_path: Path) -> None:
    database = tmp_path / "gameday.db"
    code = (
        "import sys, pathlib;"
        "from gameday.adapters.scheduling.leader import SqliteFileLock;"
        "lock = SqliteFileLock(pathlib.Path(sys.argv[1])); lock.acquire_or_refuse();"
        "print('held', flush=True); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyServing, match=f"pid {child.pid}"):
            SqliteFileLock(database).acquire_or_refuse()
    finally:
        child.kill()
        child.wait()
    survivor = SqliteFileLock(database)
    survivor.acquire_or_refuse()
    survivor.release()


@pytest.fixture
def pg_conninfo() -> str:
    return (
        make_url(postgres_base_url())
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def lock_key(request: pytest.FixtureRequest) -> int:
    # One key per test so parallel runs on the shared test server do not contend.
    return advisory_key(f"{request.node.nodeid}:{os.getpid()}")


@pytest.fixture
def electors(pg_conninfo: str, lock_key: int) -> Iterator[list[PostgresAdvisoryLock]]:
    made = [PostgresAdvisoryLock(pg_conninfo, lock_key) for _ in range(2)]
    yield made
    for elector in made:
        elector.release()


def test_only_one_session_holds_the_advisory_lock_until_it_lets_go(
    electors: list[PostgresAdvisoryLock],
) -> None:
    a, b = electors
    assert a.try_acquire()
    assert a.renew()
    assert not b.try_acquire()
    a.release()
    assert not a.renew()
    assert b.try_acquire()
    assert b.renew()


def test_a_killed_leader_session_loses_the_lock_and_a_follower_takes_it(
    electors: list[PostgresAdvisoryLock], lock_key: int
) -> None:
    a, b = electors
    assert a.try_acquire()
    engine = create_engine(postgres_base_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            terminated = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'gameday-leader' AND pid IN (SELECT pid FROM"
                    " pg_locks WHERE locktype = 'advisory'"
                    " AND objid = CAST(CAST(:low AS bigint) AS oid))"
                ),
                {"low": lock_key & 0xFFFFFFFF},
            ).fetchall()
    finally:
        engine.dispose()
    assert terminated == [(True,)]
    assert not a.renew()
    assert b.try_acquire()


def test_the_leader_loop_reports_election_and_loss(electors: list[PostgresAdvisoryLock]) -> None:
    a, b = electors
    events: list[str] = []
    loop = LeaderLoop(
        b,
        interval=3600,
        on_elected=lambda: events.append("elected"),
        on_lost=lambda: events.append("lost"),
    )
    assert a.try_acquire()
    loop.tick()
    assert events == []
    a.release()
    loop.tick()
    loop.tick()
    assert events == ["elected"]
    b.release()
    loop.tick()
    assert events == ["elected", "lost"]


@pytest.fixture
def kube() -> Iterator[FakeKubeApi]:
    api = FakeKubeApi().start()
    yield api
    api.stop()


@pytest.fixture
def coordination(kube: FakeKubeApi) -> client.CoordinationV1Api:
    config = client.Configuration(host=kube.url)
    return client.CoordinationV1Api(client.ApiClient(config))


def make_lease(api: client.CoordinationV1Api, identity: str, clock: FixedClock) -> KubernetesLease:
    return KubernetesLease(
        api, name="gameday-leader", namespace="gameday", identity=identity, clock=clock
    )


def test_a_lease_has_one_holder_until_it_expires(
    coordination: client.CoordinationV1Api, kube: FakeKubeApi
) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    a, b = make_lease(coordination, "pod-a", clock), make_lease(coordination, "pod-b", clock)
    assert a.try_acquire()
    assert not b.try_acquire()
    clock.advance(timedelta(seconds=10))
    assert a.renew()
    clock.advance(timedelta(seconds=10))  # 10 s since the renewal: still held
    assert not b.try_acquire()
    clock.advance(timedelta(seconds=6))  # 16 s: expired, a died
    assert b.try_acquire()
    assert not a.renew()
    stored = kube.get("leases", "gameday", "gameday-leader")
    assert stored is not None
    assert stored["spec"]["holderIdentity"] == "pod-b"
    assert stored["spec"]["leaseTransitions"] == 1


def test_a_released_lease_is_taken_over_at_once(coordination: client.CoordinationV1Api) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    a, b = make_lease(coordination, "pod-a", clock), make_lease(coordination, "pod-b", clock)
    assert a.try_acquire()
    a.release()
    assert b.try_acquire()


def test_a_stale_write_loses_the_race(
    coordination: client.CoordinationV1Api, kube: FakeKubeApi
) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    a = make_lease(coordination, "pod-a", clock)
    assert a.try_acquire()
    clock.advance(timedelta(seconds=30))
    stale = coordination.read_namespaced_lease("gameday-leader", "gameday")
    assert make_lease(coordination, "pod-b", clock).try_acquire()
    stale.spec.holder_identity = "pod-c"
    with pytest.raises(client.ApiException) as conflict:
        coordination.replace_namespaced_lease("gameday-leader", "gameday", stale)
    assert conflict.value.status == 409
    assert kube.get("leases", "gameday", "gameday-leader")["spec"]["holderIdentity"] == "pod-b"  # type: ignore[index]
