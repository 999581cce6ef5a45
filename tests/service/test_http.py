"""The WSGI app behind waitress on a free port: health, readiness and metrics over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from gameday.adapters.observability.health import Health
from gameday.adapters.observability.metrics import Metrics
from gameday.web.app import create_app
from gameday.web.server import HttpServer


class Served:
    def __init__(self, health: Health, metrics: Metrics, slack: object | None = None) -> None:
        app = create_app(health, metrics.exposition, slack=slack)  # type: ignore[arg-type]
        self.server = HttpServer(app, host="127.0.0.1", port=0, threads=2)
        self.url = self.server.url

    def close(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def _served_parts() -> Iterator[tuple[Served, Health, Metrics]]:
    # One server per module: waitress takes a second to close.
    health, metrics = Health(mode="sqlite-file-lock"), Metrics()
    s = Served(health, metrics)
    yield s, health, metrics
    s.close()


@pytest.fixture
def served(_served_parts: tuple[Served, Health, Metrics]) -> Served:
    return _served_parts[0]


@pytest.fixture
def health(_served_parts: tuple[Served, Health, Metrics]) -> Health:
    health = _served_parts[1]
    health.update(
        migrated=False, specs_loaded=False, leader=False, scheduler_running=False, stopping=False
    )
    return health


@pytest.fixture
def served_metrics(_served_parts: tuple[Served, Health, Metrics]) -> Metrics:
    return _served_parts[2]


def test_healthz_answers_while_not_ready(served: Served) -> None:
    response = requests.get(f"{served.url}/healthz", timeout=5)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    ("facts", "ready"),
    [
        ({}, False),
        ({"migrated": True}, False),
        ({"migrated": True, "specs_loaded": True}, True),  # a follower
        ({"migrated": True, "specs_loaded": True, "leader": True}, False),  # scheduler not yet
        ({"migrated": True, "specs_loaded": True, "leader": True, "scheduler_running": True}, True),
        ({"migrated": True, "specs_loaded": True, "stopping": True}, False),
    ],
)
def test_readyz_needs_migrations_specs_and_for_a_leader_the_scheduler(
    served: Served, health: Health, facts: dict[str, bool], ready: bool
) -> None:
    health.update(**facts)
    response = requests.get(f"{served.url}/readyz", timeout=5)
    assert response.status_code == (200 if ready else 503)
    assert response.json()["ready"] is ready
    assert response.json()["leader_mode"] == "sqlite-file-lock"


def test_metrics_are_exposed_in_prometheus_text(served: Served, served_metrics: Metrics) -> None:
    metrics = served_metrics
    metrics.set_leader(True)
    metrics.skipped("late")
    metrics.run_finished("gameday", "completed")
    metrics.job_fired(0.2)
    metrics.track_outbox(lambda: 3)
    response = requests.get(f"{served.url}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    body = response.text
    for line in (
        "gameday_leader 1.0",
        'gameday_skips_total{reason="late"} 1.0',
        'gameday_runs_total{kind="gameday",outcome="completed"} 1.0',
        "gameday_scheduler_lag_seconds_count 1.0",
        "gameday_outbox_depth 3.0",
    ):
        assert line in body
    assert "process_resident_memory_bytes" in body


def test_the_slack_endpoint_is_mounted_when_given(health: Health, metrics: Metrics) -> None:
    def slack(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"slack:" + str(environ["REQUEST_METHOD"]).encode()]

    s = Served(health, metrics, slack=slack)
    try:
        assert requests.post(f"{s.url}/slack/events", data="x", timeout=5).text == "slack:POST"
    finally:
        s.close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nope", 404), ("POST", "/healthz", 405), ("POST", "/slack/events", 405)],
)
def test_unknown_paths_and_methods_are_refused(
    served: Served, method: str, path: str, status: int
) -> None:
    assert requests.request(method, f"{served.url}{path}", timeout=5).status_code == status
