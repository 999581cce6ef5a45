"""A fake of the monitoring a team already runs, over real HTTP on 127.0.0.1: Prometheus'
instant-query API, Alertmanager's v2 alerts API and a health endpoint, on one
pytest-httpserver (threaded, so a hostile answer in one request cannot hold the next).

Tests set what it answers while a service reads it: `set_value(query, 7)` (a vector with
one series), `set_series(query, [..])`, `answer(query, status, body)` for anything else,
`fire(alertname, **labels)` and `clear_alerts()`, `health = (status, body)`. Hostile
endpoints are on fixed paths: `/drip` (a byte every 0.2 s), `/loop` (redirects to itself),
`/huge` (2 MiB), `/bomb` (a gzip body inflating to 64 MiB), `/silent` (answers after 30 s).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

HUGE = 2 * 1024 * 1024
BOMB_SIZE = 64 * 1024 * 1024
# Made once, at import: a test measuring the client's memory must not count the server's.
_HUGE_BODY = b"x" * HUGE
_BOMB_BODY = gzip.compress(b"\0" * BOMB_SIZE, compresslevel=9)


@dataclass
class Canned:
    """One prepared answer: status, body (JSON-encoded unless bytes) and content type."""

    status: int
    body: Any
    content_type: str = "application/json"

    def response(self) -> Response:
        data = self.body if isinstance(self.body, bytes) else json.dumps(self.body)
        return Response(data, status=self.status, content_type=self.content_type)


def vector(*values: float | str) -> Canned:
    """A Prometheus instant-query answer with one series per value."""
    result = [
        {"metric": {"instance": f"i{i}"}, "value": [1_700_000_000.0, str(v)]}
        for i, v in enumerate(values)
    ]
    return Canned(200, {"status": "success", "data": {"resultType": "vector", "result": result}})


def scalar(value: float) -> Canned:
    """A Prometheus scalar answer."""
    data = {"resultType": "scalar", "result": [1_700_000_000.0, str(value)]}
    return Canned(200, {"status": "success", "data": data})


def query_error(message: str, status: int = 400) -> Canned:
    """A Prometheus error answer as documented (`status: error`)."""
    return Canned(status, {"status": "error", "errorType": "bad_data", "error": message})


class FakeMonitoring:
    """Prometheus, Alertmanager and a health endpoint; see the module docstring."""

    def __init__(self) -> None:
        self.server = HTTPServer("127.0.0.1", 0, threaded=True)
        self._lock = threading.Lock()
        self._queries: dict[str, Canned] = {}
        self._alerts: list[dict[str, Any]] = []
        self.health: tuple[int, str] = (200, '{"status": "UP"}')
        self.requests: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = []

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeMonitoring:
        routes = {
            "/api/v1/query": self._prometheus,
            "/api/v2/alerts": self._alertmanager,
            "/health": self._health,
            "/drip": self._drip,
            "/loop": self._loop,
            "/huge": lambda _r: Response(_HUGE_BODY, content_type="text/plain"),
            "/bomb": self._bomb,
            "/silent": self._silent,
        }
        for path, handler in routes.items():
            self.server.expect_request(path).respond_with_handler(self._recorded(handler))
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    def __enter__(self) -> FakeMonitoring:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    # -- what it answers -------------------------------------------------------------------
    def set_value(self, query: str, value: float) -> None:
        self.answer_with(query, vector(value))

    def set_series(self, query: str, values: list[float]) -> None:
        self.answer_with(query, vector(*values))

    def answer_with(self, query: str, canned: Canned) -> None:
        with self._lock:
            self._queries[query] = canned

    def fire(self, alertname: str, *, state: str = "active", **labels: str) -> None:
        alert = {
            "labels": {"alertname": alertname, **labels},
            "status": {"state": state, "silencedBy": [], "inhibitedBy": []},
        }
        with self._lock:
            self._alerts.append(alert)

    def reset(self) -> None:
        """Forget every answer, alert and request (between tests sharing one server)."""
        with self._lock:
            self._queries.clear()
            self._alerts.clear()
            self.requests.clear()
            self.health = (200, '{"status": "UP"}')

    def clear_alerts(self) -> None:
        with self._lock:
            self._alerts.clear()

    def queried(self, path: str) -> list[tuple[list[tuple[str, str]], dict[str, str]]]:
        """The (query parameters, headers) of every request to `path`, oldest first."""
        with self._lock:
            return [(args, headers) for p, args, headers in self.requests if p == path]

    # -- handlers --------------------------------------------------------------------------
    def _recorded(self, handler: Any) -> Any:
        def handle(request: Request) -> Response:
            with self._lock:
                self.requests.append(
                    (request.path, list(request.args.items(multi=True)), dict(request.headers))
                )
            return handler(request)

        return handle

    def _prometheus(self, request: Request) -> Response:
        query = request.args.get("query", "")
        with self._lock:
            canned = self._queries.get(query)
        if canned is None:
            return query_error(f"unknown query {query!r} in the fake").response()
        return canned.response()

    def _alertmanager(self, request: Request) -> Response:
        """Active alerts matching every `filter` (equality and regex, as Alertmanager does)."""
        filters = [_filter(f) for f in request.args.getlist("filter")]
        with self._lock:
            alerts = [
                a
                for a in self._alerts
                if a["status"]["state"] == "active" and all(f(a["labels"]) for f in filters)
            ]
        return Canned(200, alerts).response()

    def _health(self, _request: Request) -> Response:
        status, body = self.health
        return Response(body, status=status, content_type="application/json")

    @staticmethod
    def _drip(_request: Request) -> Response:
        def drip() -> Iterator[bytes]:
            for _ in range(150):
                yield b" "
                time.sleep(0.2)

        return Response(drip(), content_type="application/json", direct_passthrough=True)

    def _loop(self, _request: Request) -> Response:
        return Response("", status=302, headers={"Location": f"{self.url}/loop"})

    @staticmethod
    def _bomb(_request: Request) -> Response:
        return Response(
            _BOMB_BODY, content_type="application/json", headers={"Content-Encoding": "gzip"}
        )

    @staticmethod
    def _silent(_request: Request) -> Response:
        time.sleep(30)
        return Response("{}", content_type="application/json")


_FILTER = re.compile(r'(?P<label>\w+)(?P<op>=~|!~|!=|=)"(?P<value>.*)"')


def _filter(text: str) -> Any:
    found = _FILTER.fullmatch(text)
    assert found, f"the fake cannot read the filter {text!r}"
    label, op, value = found["label"], found["op"], found["value"]

    def matches(labels: dict[str, str]) -> bool:
        actual = labels.get(label, "")
        if op in ("=", "!="):
            return (actual == value) is (op == "=")
        return (re.fullmatch(value, actual) is not None) is (op == "=~")

    return matches


@pytest.fixture(scope="session")
def _monitoring_server() -> Iterator[FakeMonitoring]:
    # One server for the session: stopping a werkzeug server takes half a second.
    with FakeMonitoring() as fake:
        yield fake


@pytest.fixture
def monitoring(_monitoring_server: FakeMonitoring) -> FakeMonitoring:
    """The fake monitoring, answering nothing yet and with no requests recorded."""
    _monitoring_server.reset()
    return _monitoring_server
