"""`POST /alerts`: Alertmanager's webhook (payload version 4), the detection side of drills.

Rules:
- Off (404) unless the service has drills to record alerts on (a database).
- With a token (`GAMEDAY_ALERTS_TOKEN`), `Authorization: Bearer <token>` is required and
  compared in constant time; anything else is 401 with `WWW-Authenticate: Bearer`. Without
  one the endpoint is open: it can only add `alert_fired` events to running drills. The
  token and the header are never logged.
- The body is Alertmanager's JSON, at most 1 MiB (413); a body that is not JSON, not
  version "4" or has a malformed alert is 400 with the reason, and nothing is recorded.
- 200 with `{"recorded": N}`: how many (alert, drill) records were written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from gameday.domain.alert_webhook import IncomingAlert, parse_webhook
from gameday.web.access import bearer_matches, client
from gameday.web.halt import Answer, BadRequest, read_body

# Records the alerts of one call on the drills they count for; returns how many records.
RecordAlerts = Callable[[Sequence[IncomingAlert]], int]

log = logging.getLogger("gameday.web.app")

ALERTS_PATH = "/alerts"
MAX_ALERTS_BODY = 1024 * 1024
ALERTS_OFF = "POST /alerts is off: this service records no drills"


def alerts_handler(
    record: RecordAlerts | None, token: str | None
) -> Callable[[dict[str, Any]], Answer]:
    """The handler of /alerts for a request's WSGI environ: off, or auth -> body -> record."""
    if record is None:
        return lambda environ: (404, {"error": ALERTS_OFF}, {})
    # An empty token would let "Bearer " through: it counts as unset.
    expected = token.encode() if token else None

    def handle(environ: dict[str, Any]) -> Answer:
        if environ.get("REQUEST_METHOD", "GET") != "POST":
            return 405, {"error": "method not allowed: use POST"}, {"Allow": "POST"}
        if expected is not None and not bearer_matches(environ, expected):
            log.warning("refused POST /alerts: no valid bearer token (client %s)", client(environ))
            return 401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"}
        try:
            alerts = _alerts(environ)
        except BadRequest as bad:
            return bad.status, {"error": bad.message}, {}
        try:
            recorded = record(alerts)
        except Exception as exc:  # Alertmanager retries a failed call: say it failed
            log.exception("POST /alerts: recording the alerts failed")
            return 500, {"error": f"recording failed ({type(exc).__name__}); see the log"}, {}
        return 200, {"recorded": recorded, "received": len(alerts)}, {}

    return handle


def _alerts(environ: dict[str, Any]) -> list[IncomingAlert]:
    body = read_body(environ, MAX_ALERTS_BODY)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(400, f"malformed JSON body: {exc}") from None
    except RecursionError:
        raise BadRequest(400, "malformed JSON body: nested too deeply") from None
    try:
        return parse_webhook(data)
    except ValueError as exc:
        raise BadRequest(400, str(exc)) from None
