"""POST /halt over HTTP: off without a token, bearer auth, a small optional body, and the
halt callable getting (actor, reason) as given."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from gameday.adapters.observability.health import Health
from gameday.adapters.observability.metrics import Metrics
from gameday.web.app import HALT_OFF, MAX_HALT_BODY, MAX_HALT_TEXT, Halt, create_app
from gameday.web.server import HttpServer

TOKEN = "s3cr3t-halt-t0ken-6f1d2c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Recorder:
    """A halt callable that records what it got (or raises, when told to)."""

    calls: list[tuple[str, str | None]] = field(default_factory=list)
    fail: bool = False

    def __call__(self, actor: str, reason: str | None) -> str:
        if self.fail:
            raise RuntimeError("database unreachable")
        self.calls.append((actor, reason))
        return f"kill switch engaged by {actor}; 1 running run halted"


def _serve(halt: Halt | None, token: str | None) -> HttpServer:
    app = create_app(
        Health(mode="sqlite-file-lock"), Metrics().exposition, halt=halt, halt_token=token
    )
    return HttpServer(app, host="127.0.0.1", port=0, threads=2)


@pytest.fixture(scope="module")
def _on() -> Iterator[tuple[HttpServer, Recorder]]:
    # One server per module: waitress takes a moment to close.
    recorder = Recorder()
    server = _serve(recorder, TOKEN)
    yield server, recorder
    server.stop()


@pytest.fixture
def recorder(_on: tuple[HttpServer, Recorder]) -> Recorder:
    recorder = _on[1]
    recorder.calls.clear()
    recorder.fail = False
    return recorder


@pytest.fixture
def url(_on: tuple[HttpServer, Recorder], recorder: Recorder) -> str:
    return _on[0].url + "/halt"


@pytest.mark.parametrize("setup", ["no_token", "empty_token", "no_halt"])
def test_halt_is_off_without_a_token_or_a_halt(setup: str) -> None:
    recorder = Recorder()
    halt: Halt | None = None if setup == "no_halt" else recorder
    token = {"no_token": None, "empty_token": ""}.get(setup, TOKEN)
    server = _serve(halt, token)
    try:
        for headers in ({}, AUTH, {"Authorization": "Bearer "}):
            response = requests.post(f"{server.url}/halt", headers=headers, timeout=5)
            assert response.status_code == 404
            assert response.json() == {"error": HALT_OFF}
    finally:
        server.stop()
    assert recorder.calls == []


def test_the_right_token_halts_and_says_what_happened(url: str, recorder: Recorder) -> None:
    response = requests.post(url, headers=AUTH, timeout=5)
    assert response.status_code == 200
    assert response.json() == {
        "halted": True,
        "detail": "kill switch engaged by http:token; 1 running run halted",
    }
    assert recorder.calls == [("http:token", None)]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer ",
        f"Basic {TOKEN}",
        TOKEN,
        f"Bearer wrong {TOKEN}",
        "Bearer é-not-ascii",
    ],
)
def test_a_missing_or_wrong_token_gets_401_and_nothing_about_the_token(
    url: str, recorder: Recorder, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = requests.post(url, headers=headers, json={"reason": "x"}, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"error": "unauthorized"}
    assert recorder.calls == []


def test_the_bearer_scheme_is_case_insensitive(url: str, recorder: Recorder) -> None:
    response = requests.post(url, headers={"Authorization": f"bearer {TOKEN}"}, timeout=5)
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_only_post_halts(url: str, recorder: Recorder, method: str) -> None:
    response = requests.request(method, url, headers=AUTH, timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"json": {"reason": "db on fire", "actor": "pagerduty"}},
            ("http:pagerduty", "db on fire"),
        ),
        ({"json": {"reason": "only a reason"}}, ("http:token", "only a reason")),
        ({"json": {}}, ("http:token", None)),
        ({"json": {"reason": None, "actor": ""}}, ("http:token", None)),
        ({"data": {"reason": "from a form"}}, ("http:token", "from a form")),
        ({"data": {"reason": "r", "actor": "cron"}}, ("http:cron", "r")),
        # `curl -d '{...}'` labels JSON as a form: still read as JSON.
        ({"data": '{"reason": "curl -d"}'}, ("http:token", "curl -d")),
        # User text is stored as given: no trimming, no escaping.
        (
            {"json": {"reason": "  <b>'; DROP TABLE runs;--\n ünïcode ", "actor": " a b "}},
            ("http: a b ", "  <b>'; DROP TABLE runs;--\n ünïcode "),
        ),
        (
            {"json": {"reason": "r" * MAX_HALT_TEXT, "actor": "a" * MAX_HALT_TEXT}},
            ("http:" + "a" * MAX_HALT_TEXT, "r" * MAX_HALT_TEXT),
        ),
    ],
)
def test_reason_and_actor_come_from_the_body(
    url: str, recorder: Recorder, kwargs: dict[str, object], expected: tuple[str, str | None]
) -> None:
    response = requests.post(url, headers=AUTH, timeout=5, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.json()["halted"] is True
    assert recorder.calls == [expected]


def test_a_body_of_exactly_16_kib_is_accepted(url: str, recorder: Recorder) -> None:
    body = json.dumps({"reason": "big", "padding": ""}).encode()
    body = body.replace(b'""', b'"' + b"x" * (MAX_HALT_BODY - len(body)) + b'"')
    assert len(body) == MAX_HALT_BODY
    headers = {**AUTH, "Content-Type": "application/json"}
    response = requests.post(url, headers=headers, data=body, timeout=5)
    assert response.status_code == 200
    assert recorder.calls == [("http:token", "big")]


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_16_kib_gets_413(url: str, recorder: Recorder, chunked: bool) -> None:
    body = b"reason=" + b"x" * (MAX_HALT_BODY - 6)
    assert len(body) == MAX_HALT_BODY + 1
    data: object = iter([body[:1000], body[1000:]]) if chunked else body
    response = requests.post(url, headers=AUTH, data=data, timeout=5)  # type: ignore[arg-type]
    assert response.status_code == 413
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b'{"reason": "unterminated', "application/json", "malformed JSON body: Unterminated"),
        (b"not json", "application/json", "malformed JSON body: Expecting value"),
        (b"[1, 2]", "application/json", "the JSON body must be an object"),
        (b'{"reason": 42}', "application/json", "reason must be a string"),
        (b'{"actor": ["x"]}', "application/json", "actor must be a string"),
        (b"{" + b'"a":' * 3000 + b"1" + b"}" * 3000, "application/json", "malformed JSON"),
        (b"reason=\xff\xfe", "application/x-www-form-urlencoded", "malformed form body"),
    ],
)
def test_a_malformed_body_gets_400_with_the_reason(
    url: str, recorder: Recorder, body: bytes, content_type: str, error: str
) -> None:
    headers = {**AUTH, "Content-Type": content_type}
    response = requests.post(url, headers=headers, data=body, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    assert recorder.calls == []


@pytest.mark.parametrize("name", ["reason", "actor"])
def test_text_over_500_characters_gets_400(url: str, recorder: Recorder, name: str) -> None:
    response = requests.post(url, headers=AUTH, json={name: "é" * (MAX_HALT_TEXT + 1)}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"] == f"{name} is longer than 500 characters (501)"
    assert recorder.calls == []


def test_a_failing_halt_is_a_500_saying_it_did_not_halt(url: str, recorder: Recorder) -> None:
    recorder.fail = True
    response = requests.post(url, headers=AUTH, timeout=5)
    assert response.status_code == 500
    assert response.json()["halted"] is False


def test_the_token_and_the_header_are_never_logged(
    url: str, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    requests.post(url, headers={"Authorization": f"Bearer {TOKEN}-wrong"}, timeout=5)
    requests.post(url, headers=AUTH, json={"reason": "r"}, timeout=5)
    recorder.fail = True
    requests.post(url, headers=AUTH, timeout=5)
    assert any("refused POST /halt" in r.getMessage() for r in caplog.records)
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in logged
    assert "Authorization" not in logged
