"""The service's web application (Flask, served by waitress): health, readiness, metrics,
the `POST /halt` kill switch for tooling, Slack's events endpoint and, when given what to
read, the read-only pages and calendar feed (`gameday.web.pages`).

Rules:
- `/healthz` and `/readyz` are always open; `/metrics` is open unless a metrics token is
  set; `POST /halt` has its own token (`gameday.web.halt`); `/slack/events` keeps Slack's
  signature check and intake limits (`gameday.adapters.slack.server`); pages and the feed
  need the web token when one is set (`gameday.web.access`).
- `POST /slack/events` goes straight to the Slack intake (a WSGI middleware in front of
  Flask): Slack's endpoint is the hot path, and Flask's request context, routing and
  response hooks cost as much again as Bolt's own work for an answer Slack reads as JSON.
  Every other method on that path still reaches Flask, which answers 405.
- Unknown paths are 404 for GET and HEAD and 405 for other methods; answers are JSON except
  for pages, which answer HTML (errors included) to whoever asks for it.
- An unexpected error is logged (path only, never the query) and answered with a 500 that
  says nothing more; no traceback ever reaches a client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError

from gameday.adapters.observability.health import Health
from gameday.web.access import CSP, SECURITY_HEADERS, bearer_matches
from gameday.web.alerts import ALERTS_PATH, RecordAlerts, alerts_handler
from gameday.web.halt import HALT_OFF, MAX_HALT_BODY, MAX_HALT_TEXT, Halt, halt_handler
from gameday.web.pages import Site, register_pages, wants_html

__all__ = [
    "HALT_OFF",
    "HALT_PATH",
    "MAX_HALT_BODY",
    "MAX_HALT_TEXT",
    "SLACK_PATH",
    "Halt",
    "Site",
    "WsgiApp",
    "create_app",
]

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Exposition = Callable[[], tuple[bytes, str]]

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
HALT_PATH = "/halt"
# Every method reaches the halt handler, which answers 405 itself (with `Allow: POST`).
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    """`data` as JSON (sorted keys), with `status` and `headers`."""
    body = json.dumps(data, sort_keys=True)
    return Response(body, status=status, mimetype="application/json", headers=headers or {})


def create_app(
    health: Health,
    metrics: Exposition,
    *,
    slack: Any | None = None,
    halt: Halt | None = None,
    halt_token: str | None = None,
    site: Site | None = None,
    metrics_token: str | None = None,
    alerts: RecordAlerts | None = None,
    alerts_token: str | None = None,
) -> Flask:
    """The WSGI app: /healthz, /readyz, /metrics, /halt, /alerts, /slack/events (when `slack` is a
    Bolt App, or any WSGI app) and, with `site`, the pages and the calendar feed."""
    app = Flask(__name__, static_folder=None)

    @app.get("/healthz")
    def healthz() -> Response:
        # Alive: the process answers. Liveness must not depend on the database or on
        # leadership, or a database hiccup would get every replica restarted at once.
        return json_response(200, {"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        ok, facts = health.ready()
        return json_response(200 if ok else 503, {"ready": ok, **facts})

    metrics_expected = metrics_token.encode() if metrics_token else None

    @app.get("/metrics")
    def metrics_view() -> Response:
        if metrics_expected is not None and not bearer_matches(request.environ, metrics_expected):
            return json_response(401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"})
        body, content_type = metrics()
        return Response(body, status=200, content_type=content_type)

    handle_halt = halt_handler(halt, halt_token)

    @app.route(HALT_PATH, methods=_ALL_METHODS)
    def halt_view() -> Response:
        status, data, headers = handle_halt(request.environ)
        return json_response(status, data, headers)

    handle_alerts = alerts_handler(alerts, alerts_token)

    @app.route(ALERTS_PATH, methods=_ALL_METHODS)
    def alerts_view() -> Response:
        status, data, headers = handle_alerts(request.environ)
        return json_response(status, data, headers)

    _mount_slack(app, slack)
    if site is not None:
        register_pages(app, site)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        if code == 404 and request.method not in ("GET", "HEAD"):
            code = 405  # as before Flask: any other method on an unknown path
        if code == 405:
            return json_response(405, {"error": "method not allowed"})
        if isinstance(error, InternalServerError):
            return _internal_error(error)
        message = f"no such path: {request.path}" if code == 404 else error.description
        if site is not None and wants_html():
            return site.error_page(code, str(message))
        return json_response(code, {"error": message})

    @app.after_request
    def secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    def _internal_error(error: InternalServerError) -> Response:
        # Flask logged the exception with its traceback (path and method, never the query).
        if site is not None and wants_html():
            return site.error_page(500, "Something went wrong on our side; it has been logged.")
        return json_response(500, {"error": "internal error; see the service's log"})

    return app


def _mount_slack(app: Flask, slack: Any | None) -> None:
    if slack is None:
        return
    from slack_bolt import App as BoltApp

    if isinstance(slack, BoltApp):
        from gameday.adapters.slack.server import wsgi_app

        slack = wsgi_app(slack, SLACK_PATH)
    intake: WsgiApp = slack  # the intake around the Bolt app, or any WSGI app (tests)
    flask_app = app.wsgi_app

    def slack_first(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SLACK_PATH and environ.get("REQUEST_METHOD") == "POST":
            return intake(environ, start_response)
        return flask_app(environ, start_response)

    app.wsgi_app = slack_first  # type: ignore[method-assign]

    # The route gives other methods their 405; a POST only arrives here if a server hands
    # Flask a path the middleware did not recognise, and is answered the same way.
    @app.route(SLACK_PATH, methods=["POST"])
    def slack_events() -> Response:
        return Response.from_app(intake, request.environ)
