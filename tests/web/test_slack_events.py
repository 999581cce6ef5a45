"""`POST /slack/events` on the Flask app through Bolt's Flask adapter, with the intake
rules of the WSGI wrapper it replaces: over 1 MiB refused before Bolt, forged requests
logged without their body."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from gameday import wiring
from gameday.adapters.db import Database
from gameday.adapters.observability.health import Health
from gameday.adapters.observability.metrics import Metrics
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.adapters.slack.server import MAX_BODY
from gameday.domain.clock import FixedClock
from gameday.services.catalog import Catalog
from gameday.settings import Settings
from gameday.web.app import create_app
from gameday.web.server import HttpServer
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, SlackClient, command_body, sign


@pytest.fixture(params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Slack intake does not depend on the database: SQLite only."""
    return str(request.param)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlackApi]:
    with FakeSlackApi(token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def runtime(
    tmp_path: Path,
    fake_slack: FakeSlackApi,
    database: Database,
    catalog: Catalog,
    db_clock: FixedClock,
) -> SlackRuntime:
    settings = Settings(
        home=tmp_path,
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=fake_slack.base_url,
        default_channel="#gameday",
    )
    return wiring.slack_for(settings, database=database, catalog=lambda: catalog, clock=db_clock)


@pytest.fixture
def slack(runtime: SlackRuntime, fake_slack: FakeSlackApi) -> Iterator[SlackClient]:
    assert runtime.app is not None
    app = create_app(Health(mode="sqlite-file-lock"), Metrics().exposition, slack=runtime.app)
    server = HttpServer(app, host="127.0.0.1", port=0, threads=2)
    try:
        yield SlackClient(server.url, lambda: fake_slack.response_url)
    finally:
        server.stop()


@pytest.fixture
def reached_bolt(runtime: SlackRuntime, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    app = runtime.app
    assert app is not None
    seen: list[Any] = []
    dispatch = app.dispatch

    def spy(req: Any) -> Any:
        seen.append(req)
        return dispatch(req)

    monkeypatch.setattr(app, "dispatch", spy)
    return seen


def _padded(slack: SlackClient, text: str, size: int) -> bytes:
    body = command_body(text, "UCAROL", slack.response_url()) + b"&padding="
    return body + b"x" * (size - len(body))


def test_a_signed_command_is_answered_by_bolt(slack: SlackClient, database: Database) -> None:
    response = slack.command("halt through flask")
    assert response.status_code == 200
    assert database.control.kill_switch() == (True, "through flask")


def test_a_body_over_1_mib_gets_413_and_never_reaches_bolt(
    slack: SlackClient, database: Database, reached_bolt: list[Any]
) -> None:
    response = slack.send(_padded(slack, "halt big", MAX_BODY + 1))
    assert response.status_code == 413
    assert reached_bolt == []
    assert database.control.kill_switch() == (False, None)


def test_a_chunked_body_over_1_mib_gets_413(slack: SlackClient, reached_bolt: list[Any]) -> None:
    body = _padded(slack, "halt chunked", MAX_BODY + 1)
    ts = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts),
    }
    chunks = iter([body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)])
    response = requests.post(slack.url + "/slack/events", data=chunks, headers=headers, timeout=10)
    assert response.status_code == 413
    assert reached_bolt == []


def test_a_signed_body_of_exactly_1_mib_reaches_bolt_whole(
    slack: SlackClient, reached_bolt: list[Any]
) -> None:
    response = slack.send(_padded(slack, "help", MAX_BODY))
    assert response.status_code == 200
    assert "/gameday" in response.json()["text"]
    assert [len(req.raw_body) for req in reached_bolt] == [MAX_BODY]


def test_a_forged_request_logs_one_line_with_the_address_and_not_the_body(
    slack: SlackClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = command_body("halt MARKER-9c2e-forged", "UMALLORY", slack.response_url())
    response = slack.send(body, signature="v0=" + "0" * 64)
    assert response.status_code == 401
    assert database.control.kill_switch() == (False, None)
    # gameday's own lines (a server thread of another test may still log its shutdown).
    warnings = [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("gameday")
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "(client 127.0.0.1)" in warnings[0].getMessage()
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "MARKER-9c2e" not in everything
    assert "UMALLORY" not in everything


def test_only_post_reaches_the_slack_endpoint(slack: SlackClient) -> None:
    assert requests.get(slack.url + "/slack/events", timeout=5).status_code == 405
