"""The one HTTP server (gameday.web.server): a stop refuses new connections and answers
the requests in flight."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import requests

from gameday.web.server import HttpServer


class Gate:
    """A WSGI app whose answers wait until released, and that says when one is waiting."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        self.entered.set()
        assert self.release.wait(30), "never released"
        start("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.release.set()


def request_in_flight(server: HttpServer, gate: Gate) -> tuple[threading.Thread, list[Any]]:
    answers: list[Any] = []

    def ask() -> None:
        try:
            answers.append(requests.get(f"{server.url}/", timeout=30).status_code)
        except requests.RequestException as exc:
            answers.append(exc)

    thread = threading.Thread(target=ask)
    thread.start()
    assert gate.entered.wait(30)
    return thread, answers


def test_a_stop_answers_the_requests_in_flight(gate: Gate) -> None:
    server = HttpServer(gate)
    asking, answers = request_in_flight(server, gate)
    stopping = threading.Thread(target=server.stop, kwargs={"timeout": 30})
    stopping.start()

    gate.release.set()
    asking.join(30)
    stopping.join(30)

    assert answers == [200]
    assert not stopping.is_alive()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/", timeout=5)
