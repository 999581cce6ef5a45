"""What reaches Bolt: bodies over 1 MiB are refused with 413 before Bolt sees them, and a
forged request is logged as one line with the client's address and never its body."""

from __future__ import annotations

import io
import logging
import time
from typing import Any

import pytest
import requests

from gameday.adapters.db import Database
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.adapters.slack.server import MAX_BODY, client_address, wsgi_app
from tests.slack.support import SlackClient, command_body, sign


@pytest.fixture
def reached_bolt(runtime: SlackRuntime, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The requests Bolt's App.dispatch was given (before its verification ran)."""
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
    """A `/gameday {text}` body padded with an ignored form field to exactly `size` bytes."""
    body = command_body(text, "UCAROL", slack.response_url()) + b"&padding="
    return body + b"x" * (size - len(body))


def test_a_body_over_1_mib_gets_413_and_never_reaches_bolt(
    slack: SlackClient, database: Database, reached_bolt: list[Any]
) -> None:
    body = _padded(slack, "halt big", MAX_BODY + 1)
    response = slack.send(body)  # validly signed: only its size refuses it
    assert response.status_code == 413
    assert reached_bolt == []
    assert database.control.kill_switch() == (False, None)


def test_a_signed_body_of_exactly_1_mib_reaches_bolt_whole(
    slack: SlackClient, reached_bolt: list[Any]
) -> None:
    body = _padded(slack, "help", MAX_BODY)
    response = slack.send(body)
    assert response.status_code == 200
    assert "/gameday" in response.json()["text"]
    assert [len(req.raw_body) for req in reached_bolt] == [MAX_BODY]


def test_a_chunked_body_over_1_mib_gets_413(
    slack: SlackClient, database: Database, reached_bolt: list[Any]
) -> None:
    body = _padded(slack, "halt chunked", MAX_BODY + 1)
    ts = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts),
    }
    chunks = iter([body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)])
    response = requests.post(slack.url + "/slack/events", data=chunks, headers=headers, timeout=10)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 413
    assert reached_bolt == []
    assert database.control.kill_switch() == (False, None)


def test_a_chunked_body_within_the_limit_reaches_bolt(
    slack: SlackClient, database: Database
) -> None:
    body = command_body("halt chunked but small", "UCAROL", slack.response_url())
    ts = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts),
    }
    data = iter([body[:100], body[100:]])
    response = requests.post(slack.url + "/slack/events", data=data, headers=headers, timeout=10)
    assert response.status_code == 200
    assert database.control.kill_switch() == (True, "chunked but small")


class _CountingInput(io.BytesIO):
    """A request stream that counts what was read from it."""

    read_total = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_total += len(chunk)
        return chunk


@pytest.mark.parametrize(
    ("size", "refused"), [(MAX_BODY + 1, True), (MAX_BODY * 3, True), (10, False)]
)
def test_without_a_content_length_at_most_the_limit_plus_one_byte_is_read(
    runtime: SlackRuntime, size: int, refused: bool
) -> None:
    # waitress always sets CONTENT_LENGTH (it de-chunks first), so the no-length path is
    # only reachable by calling the WSGI app directly, as another server might.
    assert runtime.app is not None
    stream = _CountingInput(b"x" * size)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": stream,
    }
    statuses: list[str] = []
    wsgi_app(runtime.app)(environ, lambda status, headers, exc_info=None: statuses.append(status))
    assert statuses[0].startswith("413") is refused
    assert stream.read_total <= MAX_BODY + 1


def test_a_forged_request_logs_one_line_with_the_address_and_not_the_body(
    slack: SlackClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = command_body("halt MARKER-7d41-forged-body", "UMALLORY", slack.response_url())
    response = slack.send(
        body, signature="v0=" + "0" * 64, headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert response.status_code == 401
    assert database.control.kill_switch() == (False, None)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    line = warnings[0].getMessage()
    assert "signature" in line
    # waitress drops X-Forwarded-For from an untrusted peer, so the address logged is the
    # one the client cannot choose.
    assert "(client 127.0.0.1)" in line
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "MARKER-7d41" not in everything
    assert "UMALLORY" not in everything


def test_a_signed_request_logs_no_refusal(
    slack: SlackClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    assert slack.command("help").status_code == 200
    assert not [r for r in caplog.records if "refused" in r.getMessage()]


def test_the_logged_address_names_x_forwarded_for_quoted_and_cut_short() -> None:
    # Where the server passes X-Forwarded-For on (waitress only from a trusted proxy).
    assert client_address({"REMOTE_ADDR": "10.0.0.1"}) == "10.0.0.1"
    forwarded = client_address({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    assert forwarded == "10.0.0.1, X-Forwarded-For '203.0.113.9'"
    hostile = client_address({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "a\nFAKE " * 100})
    assert "\n" not in hostile
    assert len(hostile) < 900  # 200 characters, each at most 4 once escaped


def test_a_retry_is_logged_once_and_changes_nothing_twice(
    slack: SlackClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gameday.adapters.slack.server")
    body = command_body("halt retried", "UCAROL", slack.response_url())
    first = slack.send(body)
    retried = slack.send(
        body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert (first.status_code, retried.status_code) == (200, 200)
    assert database.control.kill_switch() == (True, "retried")
    lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert lines == ["Slack retry '1' ('http_timeout')"]
