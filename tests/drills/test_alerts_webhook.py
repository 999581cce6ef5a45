"""`POST /alerts` over HTTP (waitress, the real Flask app) on a real database: Alertmanager's
payload (version 4, as its documentation shows it) matched and unmatched against a running
drill, a bad token, bad bodies; the token never reaches the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from gameday.adapters.db import Database
from gameday.adapters.observability.health import Health
from gameday.adapters.observability.metrics import Metrics
from gameday.domain.clock import FixedClock
from gameday.domain.drills import ALERT_FIRED, DrillSpec, parse_matcher
from gameday.domain.runs import NewRun, Run, RunKind, RunState
from gameday.services.drill_acts import DrillActs
from gameday.web.app import create_app
from gameday.web.server import HttpServer

TOKEN = "alerts-secret-token"


@pytest.fixture
def url(database: Database) -> Iterator[str]:
    app = create_app(
        Health(mode="sqlite-file-lock"),
        Metrics().exposition,
        alerts=DrillActs(database.runs).record_alerts,
        alerts_token=TOKEN,
    )
    server = HttpServer(app, host="127.0.0.1", port=0, threads=2)
    try:
        yield server.url + "/alerts"
    finally:
        server.stop()


def _running(database: Database, clock: FixedClock, drill: DrillSpec | None) -> Run:
    runs = database.runs
    run = runs.create(
        NewRun(RunKind.GAMEDAY, None, "runbooks/r.yaml", clock.now()), actor="t", reason="t"
    )
    runs.transition(run.id, RunState.APPROVED, actor="t", reason="t")
    record: dict[str, Any] = {"dry_run": True, "thread": None}
    if drill is not None:
        record["drill"] = drill.to_json()
    assert runs.claim(run.id, actor="t", dry_run=True, payload=record)
    return runs.get(run.id)


def _payload(clock: FixedClock, *alerts: tuple[str, str, str, float]) -> dict[str, Any]:
    """The webhook body of Alertmanager's documentation, with (status, name, service,
    seconds from now) alerts."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="ReviewsSlow"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "gameday",
        "groupLabels": {"alertname": "ReviewsSlow"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": name, "service": service, "severity": "page"},
                "annotations": {"summary": f"{name} <!channel>"},
                "startsAt": (clock.now() + timedelta(seconds=s))
                .isoformat()
                .replace("+00:00", ".123456789Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": f"{name}-{service}",
            }
            for status, name, service, s in alerts
        ],
    }


def _post(url: str, body: Any, token: str | None = TOKEN, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(url, json=body, headers=headers, timeout=10, **kw)


def test_matching_alerts_are_recorded_once_on_running_drills(
    url: str, database: Database, db_clock: FixedClock
) -> None:
    matchers = (parse_matcher('service="reviews"'),)
    drill = _running(database, db_clock, DrillSpec(alert_matchers=matchers))
    plain = _running(database, db_clock, None)
    anything = _running(database, db_clock, DrillSpec())
    body = _payload(
        db_clock,
        ("firing", "ReviewsSlow", "reviews", 1),
        ("firing", "LedgerSlow", "ledger", 1),
        ("resolved", "ReviewsDown", "reviews", 1),
        ("firing", "Stale", "reviews", -3600),  # started before the drill: not caused by it
    )
    answer = _post(url, body)
    assert answer.status_code == 200
    assert answer.json() == {"recorded": 3, "received": 4}
    fired = [e for e in database.runs.events(drill.id) if e.type == ALERT_FIRED]
    assert [e.payload["alertname"] for e in fired] == ["ReviewsSlow"]
    assert fired[0].payload["labels"]["service"] == "reviews"
    assert fired[0].payload["starts_at"].endswith(".123456+00:00")
    others = [
        e.payload["alertname"] for e in database.runs.events(anything.id) if e.type == ALERT_FIRED
    ]
    assert others == ["ReviewsSlow", "LedgerSlow"]
    assert not [e for e in database.runs.events(plain.id) if e.type == ALERT_FIRED]
    assert _post(url, body).json()["recorded"] == 0  # a repeat records nothing


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed JSON body"),
        (b'{"version": "3", "alerts": []}', "unsupported webhook version '3': expected \"4\""),
        (b'{"version": "4", "alerts": {}}', "alerts must be a list"),
        (
            b'{"version": "4", "alerts": [{"status": "firing", "labels": {}, "startsAt": "soon"}]}',
            "alerts[0]: startsAt 'soon' is not an RFC 3339 time",
        ),
        (
            b'{"version": "4", "alerts": [{"status": "on", "labels": {}}]}',
            'alerts[0].status: expected "firing" or "resolved", not \'on\'',
        ),
    ],
)
def test_bad_bodies_are_refused_with_the_reason(
    url: str, database: Database, db_clock: FixedClock, body: bytes, reason: str
) -> None:
    run = _running(database, db_clock, DrillSpec())
    answer = requests.post(url, data=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(reason), answer.json()
    assert ALERT_FIRED not in [e.type for e in database.runs.events(run.id)]


def test_a_bad_token_is_refused_and_never_logged(
    url: str, database: Database, db_clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    run = _running(database, db_clock, DrillSpec())
    body = _payload(db_clock, ("firing", "ReviewsSlow", "reviews", 1))
    caplog.set_level(logging.DEBUG)
    for token in (None, "wrong-token"):
        answer = _post(url, body, token=token)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert ALERT_FIRED not in [e.type for e in database.runs.events(run.id)]
    assert _post(url, body).status_code == 200
    assert TOKEN not in caplog.text
    assert "wrong-token" not in caplog.text
    assert requests.get(url, timeout=10).status_code == 405
    too_big = requests.post(
        url, data=b"x" * (1024 * 1024 + 1), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert too_big.status_code == 413
