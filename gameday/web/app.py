"""The service's WSGI application (served by waitress): health, readiness, metrics and,
when Slack is configured, the Slack events endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from gameday.adapters.observability.health import Health

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Exposition = Callable[[], tuple[bytes, str]]

SLACK_PATH = "/slack/events"


def create_app(health: Health, metrics: Exposition, *, slack: WsgiApp | None = None) -> WsgiApp:
    """Route /healthz, /readyz, /metrics and (if given) POST /slack/events."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == SLACK_PATH and slack is not None:
            return slack(environ, start_response)
        if method not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"error": "method not allowed"})
        if path == "/healthz":
            # Alive: the process answers. Liveness must not depend on the database or on
            # leadership, or a database hiccup would get every replica restarted at once.
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            ok, facts = health.ready()
            status = "200 OK" if ok else "503 Service Unavailable"
            return _json(start_response, status, {"ready": ok, **facts})
        if path == "/metrics":
            body, content_type = metrics()
            start_response("200 OK", [("Content-Type", content_type), _length(body)])
            return [body]
        return _json(start_response, "404 Not Found", {"error": f"no such path: {path}"})

    return app


def _length(body: bytes) -> tuple[str, str]:
    return ("Content-Length", str(len(body)))


def _json(start_response: StartResponse, status: str, data: dict[str, Any]) -> list[bytes]:
    body = json.dumps(data, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), _length(body)])
    return [body]
